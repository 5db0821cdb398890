// One compliance scan: every workload in scope evaluated once and the result stored as history.
// Shared by the scheduler, `kube-policy scan` and the run_compliance_scan tool. A scan that cannot
// finish (cluster unreachable, forbidden, cancelled) is stored as failed with its reason and the error
// is rethrown; it is never silently skipped.
import { existsSync } from "node:fs";
import { AppError, ForbiddenError, InvalidInputError, toAppError, type ErrorDetail } from "../errors.js";
import type { Collection, WorkloadKind } from "../kube/source.js";
import { WORKLOAD_KINDS } from "../kube/source.js";
import type { WorkloadResult } from "../policy/evaluator.js";
import type { Finding } from "../policy/types.js";
import { defaultDatabasePath, type Runtime } from "../runtime.js";
import { scanScores } from "./scores.js";
import { applyNotificationRetention, notifierFor } from "../notify/notifier.js";
import type { ScanSummary } from "../notify/events.js";
import {
  CLUSTER_SCOPE,
  ScanStore,
  findingIdentity,
  scopeKey,
  type FindingInput,
  type OpenFindingRow,
  type Resolution,
  type ScanRecord,
} from "../store/scan-store.js";

/** A scan that started and failed: stored as failed; the code and status are the cause's (503 for an unreachable cluster, ...). */
export class ScanFailedError extends AppError {
  static override code = "scan_failed";

  constructor(
    readonly scan: ScanRecord,
    readonly original: AppError,
  ) {
    super(`scan ${scan.id} (${scan.name}) failed and is stored as failed: ${original.message}`, { details: original.details, cause: original });
  }

  override get code(): string {
    return this.original.code;
  }

  override get status(): number {
    return this.original.status;
  }
}

export type ScanConfig = NonNullable<Runtime["config"]["scans"]>[number];

export interface ScanRequest {
  /** A configured scan's name (its namespaces apply), or a name for an ad-hoc scan. */
  name?: string;
  /** Omitted or empty: the whole cluster. */
  namespaces?: string[];
  trigger?: "manual" | "schedule";
}

export interface ScanOptions {
  /** Called about a hundred times over a scan, and once at the end. */
  progress?: (done: number, total: number, message: string) => void | Promise<void>;
  signal?: AbortSignal;
}

const stores = new WeakMap<Runtime, { store: ScanStore; recovered: ScanRecord[] }>();

/**
 * The runtime's scan store, opened (and migrated) on first use. Opening it is a process start for the
 * history: scans left "running" by a process that is gone are marked failed (interrupted).
 */
export function scanStoreFor(runtime: Runtime): ScanStore {
  let entry = stores.get(runtime);
  if (!entry) {
    const store = new ScanStore(runtime.db());
    entry = { store, recovered: store.recoverInterrupted() };
    stores.set(runtime, entry);
  }
  return entry.store;
}

/** Scans marked interrupted when the store was opened (once: the scheduler reports them at start). */
export function takeRecoveredAtOpen(runtime: Runtime): ScanRecord[] {
  const entry = stores.get(runtime);
  if (!entry) return [];
  const recovered = entry.recovered;
  entry.recovered = [];
  return recovered;
}

/** The store when a history database exists; null otherwise (read-only doors do not create one). */
export function existingScanStore(runtime: Runtime): ScanStore | null {
  if (stores.has(runtime)) return stores.get(runtime)!.store;
  const file = runtime.options.databasePath ?? defaultDatabasePath(runtime.config);
  if (file !== ":memory:" && !existsSync(file)) return null;
  return scanStoreFor(runtime);
}

// The names ClusterSource uses in the warning of a workload list it was forbidden to read
// (resourceName(WORKLOAD_TYPES[kind])); written out so that loading scans/ does not load the
// Kubernetes client. test/scans/scan.test.ts checks they agree.
export const WORKLOAD_LIST_NAMES: Record<WorkloadKind, string> = {
  Deployment: "deployments.apps",
  StatefulSet: "statefulsets.apps",
  DaemonSet: "daemonsets.apps",
  ReplicaSet: "replicasets.apps",
  Job: "jobs.batch",
  CronJob: "cronjobs.batch",
  Pod: "pods",
};

/** A namespace name (an RFC 1123 label). */
export const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A scan name: it appears in logs, CLI arguments and URLs. */
export const SCAN_NAME = /^[\w.:,/-]{1,100}$/;

/** Which scan to run: a configured one by name, or an ad-hoc scope. Bad input names the field. */
export function resolveScan(runtime: Runtime, request: ScanRequest): { name: string; namespaces: string[] | null; configured: boolean } {
  const details: ErrorDetail[] = [];
  const given = request.namespaces && request.namespaces.length > 0 ? request.namespaces : null;
  given?.forEach((ns, i) => {
    if (!NAMESPACE_NAME.test(ns)) details.push({ where: `namespaces[${i}]`, message: `${JSON.stringify(ns)} is not a namespace name (lowercase letters, digits and '-', at most 63)` });
    else if (!runtime.namespaceAllowed(ns)) details.push({ where: `namespaces[${i}]`, message: `namespace ${JSON.stringify(ns)} is not allowed by the policy configuration (namespaces.allow / namespaces.deny)` });
  });
  if (request.name !== undefined && !SCAN_NAME.test(request.name)) {
    details.push({ where: "name", message: `${JSON.stringify(request.name)} is not a scan name (1-100 letters, digits and _ . : , / -)` });
  }
  const configured = request.name ? runtime.config.scans?.find((s) => s.name === request.name) : undefined;
  if (configured && given && scopeKey(given) !== scopeKey(configured.namespaces)) {
    details.push({
      where: "namespaces",
      message: `scan ${JSON.stringify(configured.name)} is configured for ${configured.namespaces?.length ? `namespaces ${configured.namespaces.join(", ")}` : "the whole cluster"}; omit namespaces or choose another name`,
    });
  }
  if (details.length > 0) {
    const forbidden = details.some((d) => d.message.includes("not allowed by the policy configuration"));
    const Err = forbidden ? ForbiddenError : InvalidInputError;
    throw new Err(`cannot run the scan: ${details.length} problem(s) with its arguments`, { details });
  }
  const namespaces = configured ? (configured.namespaces?.length ? [...configured.namespaces] : null) : given;
  const scope = scopeKey(namespaces);
  return { name: request.name ?? `adhoc:${scope === CLUSTER_SCOPE ? "cluster" : scope}`, namespaces: namespaces ? scope.split(",") : null, configured: Boolean(configured) };
}

/** Runs a scan and stores it. Resolves with the succeeded scan; rejects (after storing the failure) otherwise. */
export async function runScan(runtime: Runtime, request: ScanRequest, options: ScanOptions = {}): Promise<ScanRecord> {
  const { name, namespaces } = resolveScan(runtime, request);
  const store = scanStoreFor(runtime);
  const evaluator = runtime.evaluator;
  const previousScan = runtime.config.notifications ? (store.list({ name, status: "succeeded", limit: 1 })[0] ?? null) : null;
  const previousOpen: OpenFindingRow[] = [];
  // Refused (ScanBusyError) while a scan of this name runs, in this process or another one.
  const scan = store.begin({
    name,
    trigger: request.trigger ?? "manual",
    cluster: runtime.source.clusterName,
    scope: scopeKey(namespaces),
    ruleSetHash: evaluator.bundle.hash,
  });
  const heartbeat = setInterval(() => {
    try {
      store.heartbeat(scan.id);
    } catch {
      // a busy or closed database: the next beat will tell, and a stale heartbeat only matters after 15 minutes
    }
  }, 10_000);
  heartbeat.unref();
  let stored: ScanRecord;
  try {
    const collection = await collect(runtime, namespaces);
    const unlisted = unlistedKinds(collection.warnings);
    if (unlisted.size === WORKLOAD_KINDS.length) {
      throw new ForbiddenError(
        `forbidden: no workload kind could be listed (${collection.warnings.map((w) => w.message).join("; ")})`,
      );
    }
    const total = collection.workloads.length;
    const step = Math.max(1, Math.floor(total / 100));
    const results: WorkloadResult[] = [];
    for (const [i, workload] of collection.workloads.entries()) {
      results.push(slim(evaluator.evaluate(workload.input)));
      if (options.signal?.aborted) throw toAppError(options.signal.reason ?? new Error("the scan was cancelled"));
      if (i % step === step - 1 || i === total - 1) {
        await options.progress?.(i + 1, total, `evaluated ${i + 1} of ${total} workloads`);
        // Let timers and requests of a serving process run between batches.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    if (total === 0) await options.progress?.(0, 0, "no workloads in scope");
    collection.workloads = []; // the inputs are done with: let them go before the results are stored
    stored = storeResult(store, scan.id, runtime, collection, results, unlisted, previousOpen);
    notifyScan(runtime, previousScan, previousOpen, stored, results);
  } catch (error) {
    const appError = toAppError(error);
    const reason = [appError.message, ...appError.details.map((d) => `${d.where ? `${d.where}: ` : ""}${d.message}`)].join("; ");
    const failed = store.fail(scan.id, reason, appError.code);
    notifyScan(runtime, previousScan, previousOpen, failed, []);
    throw new ScanFailedError(failed, appError);
  } finally {
    clearInterval(heartbeat);
  }
  const retention = runtime.config.storage?.retentionDays;
  if (retention) {
    try {
      store.applyRetention(retention);
    } catch {
      // The scan is stored; old data goes at the next one. A busy database must not turn it into a failure.
    }
    try {
      applyNotificationRetention(runtime);
    } catch {
      // The same: old notifications go at the next scan.
    }
  }
  return stored;
}

async function collect(runtime: Runtime, namespaces: string[] | null): Promise<Collection> {
  const namespaceAllowed = (ns: string) => runtime.namespaceAllowed(ns);
  if (!namespaces) return runtime.source.collect({ namespaceAllowed });
  const merged: Collection = { workloads: [], namespaces: [], warnings: [] };
  for (const namespace of namespaces) {
    const part = await runtime.source.collect({ namespace, namespaceAllowed });
    merged.workloads.push(...part.workloads);
    merged.namespaces.push(...part.namespaces);
    merged.warnings.push(...part.warnings);
  }
  merged.namespaces = [...new Set(merged.namespaces)].sort();
  return merged;
}

/** Workload kinds the source was forbidden to list: their findings cannot be judged resolved. */
export function unlistedKinds(warnings: ErrorDetail[]): Set<WorkloadKind> {
  const byName = new Map(Object.entries(WORKLOAD_LIST_NAMES).map(([kind, name]) => [name, kind as WorkloadKind]));
  return new Set(warnings.map((w) => byName.get(w.where ?? "")).filter((k): k is WorkloadKind => k !== undefined));
}

const workloadKey = (kind: string, namespace: string, name: string) => `${kind}\u0000${namespace}\u0000${name}`;

/**
 * Tells the notifier what changed (it never throws and delivers in the background). `previousOpen` holds
 * the findings that were open before this scan, as the store handed them to classify().
 */
function notifyScan(runtime: Runtime, previousScan: ScanRecord | null, previousOpen: OpenFindingRow[], scan: ScanRecord, results: WorkloadResult[]): void {
  if (!runtime.config.notifications) return;
  const remediation = new Map(runtime.evaluator.bundle.catalogue.map((r) => [r.id, r.remediation]));
  const summary = (record: ScanRecord, findings: ScanSummary["findings"]): ScanSummary => ({
    scanId: record.id,
    name: record.name,
    cluster: record.cluster,
    scope: scopeKey(record.namespaces),
    finishedAt: record.finishedAt ?? new Date().toISOString(),
    status: record.status === "succeeded" ? "succeeded" : "failed",
    ...(record.reason ? { reason: record.reason } : {}),
    ...(record.errorCode ? { errorCode: record.errorCode } : {}),
    score: record.compliancePercent,
    findings,
  });
  const current = results.flatMap((r) =>
    r.findings
      .filter((f) => f.outcome === "violation")
      .map((f) => ({
        key: findingIdentity(findingInput(f)),
        ruleId: f.ruleId,
        severity: f.severity,
        category: f.category,
        resource: f.resource,
        message: f.message,
        remediation: remediation.get(f.ruleId) ?? f.remediation,
      })),
  );
  const previous = previousScan
    ? summary(
        previousScan,
        previousOpen.map((row) => ({
          key: row.identity,
          ruleId: row.ruleId,
          severity: row.severity as ScanSummary["findings"][number]["severity"],
          category: "",
          resource: { apiVersion: "", kind: row.kind, namespace: row.namespace, name: row.name },
          message: "",
          remediation: remediation.get(row.ruleId) ?? "",
        })),
      )
    : null;
  notifierFor(runtime).onScanCompleted(previous, summary(scan, current));
}

function storeResult(
  store: ScanStore,
  scanId: number,
  runtime: Runtime,
  collection: Collection,
  results: WorkloadResult[],
  unlisted: Set<WorkloadKind>,
  previousOpen: OpenFindingRow[] = [],
): ScanRecord {
  const catalogue = runtime.evaluator.catalogue();
  const enabled = new Set(catalogue.filter((r) => r.enabled).map((r) => r.id));
  const exempt = new Set<string>();
  const notEvaluated = new Set<string>();
  const evaluatedWorkloads = new Set<string>();
  const skippedWorkloads = new Set<string>();
  for (const result of results) {
    const ns = result.resource.namespace ?? "default";
    const key = workloadKey(result.resource.kind, ns, result.resource.name);
    if (result.skipped) {
      skippedWorkloads.add(key);
      continue;
    }
    evaluatedWorkloads.add(key);
    for (const f of result.findings) {
      if (f.outcome === "exempt") exempt.add(findingIdentity(findingInput(f)));
      else if (f.outcome === "not-evaluated") notEvaluated.add(`${f.ruleId}\u0000${key}`);
    }
  }
  // The open findings, made one at a time as the store reads them rather than as a second array.
  function* findings(): Generator<FindingInput> {
    for (const result of results) {
      if (result.skipped) continue;
      for (const f of result.findings) if (f.outcome === "violation" || f.outcome === "warning") yield findingInput(f);
    }
  }

  const classify = (row: OpenFindingRow): Resolution | "keep" => {
    previousOpen.push(row);
    const key = workloadKey(row.kind, row.namespace, row.name);
    if (unlisted.has(row.kind as WorkloadKind)) return "keep"; // its kind could not be listed: not judged
    if (notEvaluated.has(`${row.ruleId}\u0000${key}`)) return "keep"; // the rule lacked facts this time
    if (skippedWorkloads.has(key)) return "excluded";
    if (!evaluatedWorkloads.has(key)) return "workload-removed";
    if (!enabled.has(row.ruleId)) return "rule-disabled";
    if (exempt.has(row.identity)) return "exempted";
    return "fixed";
  };

  // Scores for every framework the enabled rules map, whatever the organisation reports on today, so a
  // framework's trend survives a change of the configuration.
  const scored = scanScores(results, catalogue);

  return store.complete(scanId, {
    workloads: scored.workloads,
    compliancePercent: scored.percent,
    warnings: collection.warnings,
    findings: findings(),
    namespaces: scored.namespaces,
    scores: scored.scores,
    classify,
  });
}

function findingInput(f: Finding): FindingInput {
  return {
    ruleId: f.ruleId,
    severity: f.severity,
    category: f.category,
    outcome: f.outcome === "violation" ? "violation" : "warning",
    apiVersion: f.resource.apiVersion,
    kind: f.resource.kind,
    namespace: f.resource.namespace ?? "default",
    name: f.resource.name,
    pointer: f.pointer,
    message: f.message,
  };
}

/**
 * A result as a scan keeps it until stored: what identities and scores need. The fix patches and dotted
 * paths are dropped at once; on a large cluster they are most of the memory a scan would hold.
 */
function slim(result: WorkloadResult): WorkloadResult {
  return { ...result, findings: result.findings.map((f) => ({ ...f, fix: null, path: "", reason: undefined })) };
}

/** A short summary of a scan for terminals and assistants. */
export function describeScan(scan: ScanRecord): string {
  const scope = scan.namespaces ? `namespace(s) ${scan.namespaces.join(", ")}` : "the whole cluster";
  const head = `scan ${scan.id} "${scan.name}" of ${scope} on ${scan.cluster}: ${scan.status}`;
  if (scan.status !== "succeeded") return `${head}${scan.reason ? ` (${scan.reason})` : ""}`;
  const lines = [
    `${head} in ${((scan.durationMs ?? 0) / 1000).toFixed(1)} s`,
    `compliance: ${scan.compliancePercent === null ? "n/a" : `${scan.compliancePercent}%`}; workloads: ${scan.workloads.evaluated} evaluated, ${scan.workloads.passed} passed, ${scan.workloads.failed} failed${scan.workloads.skipped ? `, ${scan.workloads.skipped} skipped` : ""}`,
    `findings: ${scan.findings.open} open (${scan.findings.new} new since the previous scan), ${scan.findings.resolved} resolved`,
  ];
  for (const w of scan.warnings) lines.push(`warning: ${w.where ? `${w.where}: ` : ""}${w.message}`);
  return lines.join("\n");
}
