// Safe auto-remediation of one workload on a live cluster: access check first, then read, evaluate, merge
// the allowed fixes into one JSON Patch guarded by the object's resourceVersion, server-side dry run or
// apply (re-reading on a conflict), rollout progress, and a record of every change for rollback.
// Fixes that need an approval are stored as pending; approve and rollback go through the same path.
import type { KubeClient, ResourceType } from "../kube/client.js";
import type { WorkloadKind, WorkloadRef } from "../kube/source.js";
import { AppError, ForbiddenError, InvalidInputError, NotFoundError } from "../errors.js";
import { logger } from "../logger.js";
import type { FixEventInput } from "../notify/events.js";
import type { PolicyInput } from "../policy/engine.js";
import { SEVERITIES, type JsonPatchOp, type Severity } from "../policy/types.js";
import type { Runtime } from "../runtime.js";
import { FixStore, type FixChange, type PendingFix } from "../store/fix-store.js";
import { applyPatch, clone, deepEqual, diffPatch } from "./json-patch.js";
import { checkRuleFilter, mergeFixes, planFixes, type FixPlan, type ManualFinding, type RuleFix } from "./plan.js";
import { unifiedDiff } from "./yaml-diff.js";

/** Kinds whose pod template can be changed in place and rolled out; Jobs and Pods are (mostly) immutable. */
export const FIXABLE_KINDS = ["Deployment", "StatefulSet", "DaemonSet", "CronJob"] as const satisfies readonly WorkloadKind[];
export type FixableKind = (typeof FIXABLE_KINDS)[number];

export class ReadOnlySourceError extends AppError {
  static override code = "read_only_source";
  static override status = 409;
}

/** The object changed under us more often than we retry, or since a change we are asked to undo. */
export class ChangedError extends AppError {
  static override code = "conflict";
  static override status = 409;
}

export interface RemediationOptions {
  /** How long to follow the rollout after a change (0: look once). Default 60 s. */
  rolloutTimeoutMs?: number;
  /** Default 1 s. */
  pollIntervalMs?: number;
  /** Re-reads after a conflict (the object changed between our read and our patch). Default 3. */
  maxRetries?: number;
  /** Runs between reading the object and sending the patch; tests inject a concurrent edit here. */
  beforePatch?: (attempt: number) => void | Promise<void>;
  progress?: (done: number, total: number, message?: string) => void | Promise<void>;
}

export interface RolloutReport {
  status: "complete" | "timed-out" | "not-applicable";
  message: string;
  generation: number | null;
  observedGeneration: number | null;
  replicas: number | null;
  updatedReplicas: number | null;
  readyReplicas: number | null;
  waitedMs: number;
}

export interface RuleChange {
  ruleId: string;
  title: string;
  severity: string;
  risk: string;
  findings: { message: string; path: string }[];
  patch: JsonPatchOp[];
}

export interface PendingView {
  id: string | null;
  ruleId: string;
  severity: string;
  risk: string;
  reason: string;
  patch: JsonPatchOp[];
  diff: string;
}

export interface RemediationResult {
  workload: { namespace: string; kind: string; name: string };
  dryRun: boolean;
  status: "applied" | "dry-run" | "nothing-to-fix" | "rejected" | "obsolete";
  summary: { fixed: number; failed: number; pendingApproval: number; manual: number };
  ruleIds: string[];
  changes: RuleChange[];
  failures: { ruleId: string; reason: string }[];
  pending: PendingView[];
  manual: ManualFinding[];
  skipped: { ruleId: string; reason: string }[];
  patch: JsonPatchOp[];
  diff: string;
  resourceVersion: { before: string | null; after: string | null };
  changeId: string | null;
  approvedPendingId: string | null;
  attempts: number;
  rollout: RolloutReport | null;
  message: string;
}

export interface RollbackResult {
  workload: { namespace: string; kind: string; name: string };
  status: "rolled-back" | "nothing-to-roll-back";
  rolledBack: string;
  changeId: string | null;
  ruleIds: string[];
  forced: boolean;
  changedSince: string | null;
  patch: JsonPatchOp[];
  diff: string;
  resourceVersion: { before: string | null; after: string | null };
  attempts: number;
  rollout: RolloutReport | null;
  message: string;
}

type KubeObject = Record<string, unknown> & {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; generation?: number; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown> & { replicas?: number };
  status?: Record<string, unknown>;
};

const DEFAULTS = { rolloutTimeoutMs: 60_000, pollIntervalMs: 1_000, maxRetries: 3 };
const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

export function fixableKind(kind: WorkloadKind): FixableKind {
  if ((FIXABLE_KINDS as readonly string[]).includes(kind)) return kind as FixableKind;
  const why = kind === "Pod" || kind === "Job" ? `the pod template of a ${kind} cannot be changed after creation` : `a ReplicaSet's pods are not replaced when its template changes`;
  throw new InvalidInputError(`cannot fix a ${kind}: ${why}`, {
    details: [{ where: "kind", message: `fixes apply to ${FIXABLE_KINDS.join(", ")}; fix the workload that creates this ${kind} instead` }],
  });
}

/** What the cluster machinery needs; loaded on first use so servers without a cluster never pay for the client library. */
interface Target {
  client: KubeClient;
  type: ResourceType;
  path: string;
  resource: string;
  kube: typeof import("../kube/client.js");
}

function checkNamespace(runtime: Runtime, namespace: string): void {
  if (!runtime.namespaceAllowed(namespace)) {
    throw new ForbiddenError(`namespace ${JSON.stringify(namespace)} is not allowed by the policy configuration (namespaces.allow / namespaces.deny): nothing was changed`);
  }
}

async function openTarget(runtime: Runtime, ref: WorkloadRef): Promise<Target> {
  checkNamespace(runtime, ref.namespace);
  fixableKind(ref.kind);
  const source = runtime.source as typeof runtime.source & { client?: KubeClient };
  if (!source.writable || typeof source.client !== "object") {
    throw new ReadOnlySourceError(
      `${source.description} cannot be changed: fixes need a live cluster (serve with a kubeconfig instead of --demo or -f); dry runs too, since the API server checks them`,
    );
  }
  const [kube, { WORKLOAD_TYPES }] = await Promise.all([import("../kube/client.js"), import("../kube/cluster-source.js")]);
  const type = WORKLOAD_TYPES[ref.kind];
  return { client: source.client, type, path: kube.KubeClient.path(type, ref.namespace, ref.name), resource: kube.resourceName(type), kube };
}

/** RBAC first: a SelfSubjectAccessReview for `patch` on this workload, before anything is read or written. */
export async function checkPatchAccess(target: Target, ref: WorkloadRef): Promise<void> {
  const review = await target.client.request<{ status?: { allowed?: boolean; reason?: string; evaluationError?: string } }>(
    "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
    {
      method: "POST",
      body: {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SelfSubjectAccessReview",
        spec: { resourceAttributes: { namespace: ref.namespace, verb: "patch", group: target.type.group, resource: target.type.plural, name: ref.name } },
      },
      what: { verb: "create", resource: "selfsubjectaccessreviews.authorization.k8s.io" },
    },
  );
  if (review.status?.allowed === true) return;
  const why = review.status?.reason || review.status?.evaluationError;
  throw new ForbiddenError(
    `forbidden: the credentials of context ${JSON.stringify(target.client.contextName)} may not patch ${target.resource} ${JSON.stringify(ref.name)} in namespace ${JSON.stringify(ref.namespace)}${why ? ` (${why})` : ""}; nothing was attempted. Grant the patch verb (see config/deploy/kube-policy-autofix.yaml) to allow fixes`,
  );
}

/** Without status, managed fields and the last-applied copy: what we store, diff and restore. */
export function strip(object: KubeObject): KubeObject {
  const { status: _status, ...rest } = clone(object);
  const metadata = { ...(rest.metadata ?? {}) } as Record<string, unknown>;
  delete metadata.managedFields;
  const annotations = metadata.annotations as Record<string, string> | undefined;
  if (annotations && LAST_APPLIED in annotations) {
    const { [LAST_APPLIED]: _lastApplied, ...kept } = annotations;
    metadata.annotations = kept;
  }
  return { ...rest, metadata } as KubeObject;
}

/** What a reviewer reads: bookkeeping that changes on every write is left out. */
function view(object: KubeObject): KubeObject {
  const copy = strip(object);
  const metadata = copy.metadata as Record<string, unknown>;
  delete metadata.resourceVersion;
  delete metadata.generation;
  return copy;
}

function describeRef(ref: WorkloadRef): string {
  return `${ref.kind} ${ref.namespace}/${ref.name}`;
}

/**
 * Tells the configured channels (Slack, e-mail) about a fix event. Loaded on first use (the mail and
 * cron libraries are not needed to evaluate), and never fails or delays the fix: the notifier returns
 * at once and delivers in the background.
 */
function notify(runtime: Runtime, event: FixEventInput): void {
  import("../notify/notifier.js")
    .then(({ notifierFor }) => void notifierFor(runtime).onFixEvent(event))
    .catch((error: unknown) => logger.warn({ err: (error as Error).message, event: event.type }, "fix notification not sent"));
}

function highest(severities: string[]): Severity | undefined {
  return SEVERITIES.find((s) => severities.includes(s));
}

function precondition(object: KubeObject): JsonPatchOp {
  return { op: "test", path: "/metadata/resourceVersion", value: object.metadata?.resourceVersion ?? "" };
}

async function sendPatch(target: Target, ref: WorkloadRef, patch: JsonPatchOp[], dryRun: boolean): Promise<KubeObject> {
  return target.client.request<KubeObject>(target.path, {
    method: "PATCH",
    query: dryRun ? { dryRun: "All" } : undefined,
    contentType: "application/json-patch+json",
    body: patch,
    what: { verb: dryRun ? "patch (server-side dry run)" : "patch", resource: target.resource, namespace: ref.namespace, name: ref.name },
  });
}

/**
 * Did the patch fail because the object moved on? A 409 says so; a failed `test` operation does not: the
 * API server answers it with the same bare 422 as any JSON Patch that does not apply, so the object's
 * current resourceVersion tells them apart.
 */
async function changedUnderUs(error: unknown, target: Target, ref: WorkloadRef, sentVersion: string | undefined): Promise<boolean> {
  if (error instanceof target.kube.ConflictError) return true;
  if (!(error instanceof target.kube.RejectedError)) return false;
  const current = await target.client.get<KubeObject>(target.type, ref.namespace, ref.name);
  return current.metadata?.resourceVersion !== sentVersion;
}

/** The API server's reason, without our prefix and without the whole object it sometimes quotes. */
function serverReason(error: AppError): string {
  const text = error.message
    .replace(/^the API server refused to [^:]*: /, "")
    .replace(/Invalid value: "(?:[^"\\]|\\.){200,}?"(?=:)/g, "Invalid value: <the patched object>");
  return text.length > 600 ? `${text.slice(0, 600)}…` : text;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Follows the rollout the change started, up to a timeout, and says plainly where it stands. */
export async function followRollout(
  target: Target,
  ref: WorkloadRef,
  generation: number | null,
  options: Pick<RemediationOptions, "rolloutTimeoutMs" | "pollIntervalMs" | "progress">,
): Promise<RolloutReport> {
  const timeoutMs = options.rolloutTimeoutMs ?? DEFAULTS.rolloutTimeoutMs;
  const pollMs = Math.max(10, options.pollIntervalMs ?? DEFAULTS.pollIntervalMs);
  if (ref.kind === "CronJob") {
    return {
      status: "not-applicable",
      message: "a CronJob has no rollout: its next Job is created from the new template",
      generation,
      observedGeneration: null,
      replicas: null,
      updatedReplicas: null,
      readyReplicas: null,
      waitedMs: 0,
    };
  }
  const started = Date.now();
  for (;;) {
    const object = await target.client.get<KubeObject>(target.type, ref.namespace, ref.name);
    const state = rolloutState(ref.kind, object, generation);
    const waitedMs = Date.now() - started;
    await options.progress?.(state.updated ?? 0, state.desired ?? 0, state.detail);
    if (state.done) return { ...state.report, status: "complete", message: `rollout complete: ${state.detail}`, waitedMs };
    if (waitedMs >= timeoutMs) {
      return {
        ...state.report,
        status: "timed-out",
        message: `the cluster did not finish the rollout within ${Math.round(timeoutMs / 100) / 10}s: ${state.detail}. The change is applied; the rollout continues (or not) on the cluster's side`,
        waitedMs,
      };
    }
    await sleep(Math.min(pollMs, timeoutMs - waitedMs));
  }
}

function rolloutState(kind: WorkloadKind, object: KubeObject, changedGeneration: number | null) {
  const status = (object.status ?? {}) as Record<string, number | string | undefined>;
  const num = (v: unknown) => (typeof v === "number" ? v : null);
  const generation = num(object.metadata?.generation) ?? changedGeneration;
  const observed = num(status.observedGeneration);
  const daemon = kind === "DaemonSet";
  const desired = daemon ? num(status.desiredNumberScheduled) : (num(object.spec?.replicas) ?? 1);
  const updated = daemon ? num(status.updatedNumberScheduled) : num(status.updatedReplicas);
  const ready = daemon ? num(status.numberReady) : num(status.readyReplicas);
  const available = daemon ? num(status.numberAvailable) : num(status.availableReplicas);
  const total = daemon ? num(status.currentNumberScheduled) : num(status.replicas);
  const report = { generation, observedGeneration: observed, replicas: desired, updatedReplicas: updated, readyReplicas: ready };
  let detail: string;
  let done = false;
  if (observed === null || generation === null || observed < generation) {
    detail = `its controller has not observed generation ${generation ?? "?"} yet (observedGeneration: ${observed ?? "none"}); is the controller manager running?`;
  } else if ((updated ?? 0) < (desired ?? 0)) {
    detail = `${updated ?? 0} of ${desired} replicas updated`;
  } else if (!daemon && (total ?? 0) > (updated ?? 0)) {
    detail = `${(total ?? 0) - (updated ?? 0)} old replicas are pending termination`;
  } else if ((kind === "StatefulSet" ? (ready ?? 0) : (available ?? 0)) < (desired ?? 0)) {
    detail = `${kind === "StatefulSet" ? ready ?? 0 : available ?? 0} of ${desired} updated replicas are ${kind === "StatefulSet" ? "ready" : "available"}`;
  } else {
    done = true;
    detail = `${updated ?? 0} of ${desired ?? 0} replicas updated and ready (generation ${generation})`;
  }
  return { done, detail, report, desired, updated };
}

type Mode = { kind: "fix"; dryRun: boolean; rules?: string[] } | { kind: "approve"; pending: PendingFix };

/** auto_fix_policy_violations / fix_workload: dry run or apply the fixes the configuration allows. */
export async function remediate(
  runtime: Runtime,
  actor: string,
  request: WorkloadRef & { dryRun?: boolean; rules?: string[] },
  options: RemediationOptions = {},
): Promise<RemediationResult> {
  checkRuleFilter(request.rules, new Set(runtime.evaluator.bundle.byId.keys()));
  const ref = { namespace: request.namespace, kind: request.kind, name: request.name };
  return run(runtime, actor, ref, { kind: "fix", dryRun: request.dryRun ?? false, rules: request.rules }, options);
}

/** approve_fix: applies one pending fix, if the workload still needs exactly the fix that was approved. */
export async function approveFix(runtime: Runtime, actor: string, id: string, options: RemediationOptions = {}): Promise<RemediationResult> {
  const store = new FixStore(runtime.db());
  const pending = store.pending(id);
  if (!pending) throw new NotFoundError(`no pending fix with id ${JSON.stringify(id)} (list_pending_fixes shows them)`);
  checkNamespace(runtime, pending.namespace);
  if (pending.status !== "pending") {
    throw new ChangedError(`fix ${id} is ${pending.status}${pending.decidedBy ? ` (by ${pending.decidedBy} at ${pending.decidedAt})` : ""}; only pending fixes can be approved`);
  }
  const ref = { namespace: pending.namespace, kind: pending.kind as WorkloadKind, name: pending.name };
  return run(runtime, actor, ref, { kind: "approve", pending }, options);
}

/** reject_fix: drops a pending fix; nothing on the cluster changes. */
export function rejectFix(runtime: Runtime, actor: string, id: string, note?: string): PendingFix {
  const store = new FixStore(runtime.db());
  const pending = store.pending(id);
  if (!pending) throw new NotFoundError(`no pending fix with id ${JSON.stringify(id)} (list_pending_fixes shows them)`);
  checkNamespace(runtime, pending.namespace);
  if (!store.decide(id, "rejected", actor, note ?? null)) {
    const now = store.pending(id)!;
    throw new ChangedError(`fix ${id} is ${now.status}${now.decidedBy ? ` (by ${now.decidedBy} at ${now.decidedAt})` : ""}; only pending fixes can be rejected`);
  }
  logger.info({ fix: { id, action: "reject", actor, rule: pending.ruleId, workload: `${pending.kind} ${pending.namespace}/${pending.name}` } }, "fix rejected");
  return store.pending(id)!;
}

async function run(runtime: Runtime, actor: string, ref: WorkloadRef, mode: Mode, options: RemediationOptions): Promise<RemediationResult> {
  const target = await openTarget(runtime, ref);
  await checkPatchAccess(target, ref);
  const store = () => new FixStore(runtime.db());
  const dryRun = mode.kind === "fix" && mode.dryRun;
  const maxRetries = options.maxRetries ?? DEFAULTS.maxRetries;
  const rules = mode.kind === "fix" ? mode.rules : [mode.pending.ruleId];

  for (let attempt = 0; ; attempt++) {
    const read = await runtime.source.getWorkload(ref);
    const object = read.input.object as KubeObject;
    const plan = planFixes(runtime.evaluator.evaluate(read.input), { rules });
    let selected = plan.auto;
    if (mode.kind === "approve") {
      const outcome = approvedFix(store(), mode.pending, plan, actor);
      if (outcome === "obsolete") {
        return emptyResult(ref, dryRun, plan, object, attempt + 1, "obsolete", `rule ${mode.pending.ruleId} no longer fails on ${describeRef(ref)}: fix ${mode.pending.id} is obsolete and nothing was applied`, mode.pending.id);
      }
      selected = [outcome];
    }
    const merged = mergeFixes(object, selected);
    // Dry runs and approvals only show what would wait for an approval; real runs store it.
    const pendingFrom = (base: KubeObject, basePlan: FixPlan) => (dryRun || mode.kind === "approve" ? previewPending(basePlan, base) : proposePending(runtime, store(), basePlan, base, ref, actor));

    if (merged.merged.length === 0) {
      const result = emptyResult(ref, dryRun, plan, object, attempt + 1, "nothing-to-fix", "", null);
      result.failures = merged.failed;
      result.summary.failed = merged.failed.length;
      result.pending = pendingFrom(object, plan);
      result.summary.pendingApproval = result.pending.length;
      result.message = `${describeRef(ref)}: no fix to apply${result.pending.length > 0 ? `; ${result.pending.length} fix(es) wait for an approval` : ""}${plan.manual.length > 0 ? `; ${plan.manual.length} finding(s) need a manual change` : ""}.`;
      return result;
    }

    const patch = [precondition(object), ...diffPatch(object, merged.object)];
    await options.beforePatch?.(attempt);
    let answer: KubeObject;
    try {
      answer = await sendPatch(target, ref, patch, dryRun);
    } catch (error) {
      if (await changedUnderUs(error, target, ref, object.metadata?.resourceVersion)) {
        if (attempt < maxRetries) {
          logger.info({ fix: { workload: describeRef(ref), attempt: attempt + 1 } }, "the object changed between read and patch; reading it again");
          continue;
        }
        const exhausted = new ChangedError(
          `${describeRef(ref)} changed between our read and our patch ${attempt + 1} times in a row (resourceVersion precondition); nothing was applied. Try again when it is not being edited`,
        );
        if (!dryRun) notify(runtime, { type: "fix-failed", workload: ref, ruleIds: merged.merged.map((f) => f.ruleId), severity: highest(merged.merged.map((f) => f.severity)), actor, reason: exhausted.message });
        throw exhausted;
      }
      if (error instanceof target.kube.RejectedError) {
        const failures = await isolateRejected(target, ref, object, merged.merged, error);
        const result = emptyResult(ref, dryRun, plan, object, attempt + 1, "rejected", "", null);
        result.failures = [...failures, ...merged.failed];
        result.summary.failed = result.failures.length;
        result.patch = patch;
        result.pending = pendingFrom(object, plan);
        result.summary.pendingApproval = result.pending.length;
        result.message = `${describeRef(ref)}: the API server refused the merged fix; nothing was applied. ${failures
          .filter((f) => f.reason.startsWith("the API server refused this fix"))
          .map((f) => f.ruleId)
          .join(", ") || "no single fix is refused alone: the combination is"} — see failures.`;
        if (!dryRun) {
          notify(runtime, {
            type: "fix-failed",
            workload: ref,
            ruleIds: merged.merged.map((f) => f.ruleId),
            severity: highest(merged.merged.map((f) => f.severity)),
            actor,
            reason: [result.message, ...failures.filter((f) => f.reason.startsWith("the API server refused")).map((f) => `${f.ruleId}: ${f.reason}`)].join("\n"),
          });
        }
        return result;
      }
      throw error;
    }

    // What the change did, checked by evaluating the object the server answered with (same context facts).
    const after = strip(answer);
    const afterInput: PolicyInput = { object: after, context: read.input.context };
    const afterPlan = planFixes(runtime.evaluator.evaluate(afterInput), { rules });
    const stillFailing = new Set([...afterPlan.auto, ...afterPlan.needsApproval].map((f) => f.ruleId).concat(afterPlan.manual.map((m) => m.ruleId)));
    const failures = [
      ...merged.failed,
      ...merged.merged
        .filter((f) => stillFailing.has(f.ruleId))
        .map((f) => ({ ruleId: f.ruleId, reason: `still fails after its fix (the rule fires again on the ${dryRun ? "dry-run" : "patched"} object); review it manually` })),
    ];
    const fixedRules = merged.merged.filter((f) => !stillFailing.has(f.ruleId));
    // A fix can bring another rule into play (a second replica makes pod-anti-affinity matter): say so.
    const known = new Set([...plan.auto, ...plan.needsApproval].map((f) => f.ruleId));
    const newlyFixable = afterPlan.auto
      .filter((f) => !known.has(f.ruleId))
      .map((f) => ({ ruleId: f.ruleId, reason: "fires only on the fixed object (the other fixes brought it into play); run the fix again to apply it" }));
    const diff = unifiedDiff(view(object), view(answer), {
      from: `${describeRef(ref)} (resourceVersion ${object.metadata?.resourceVersion ?? "?"})`,
      to: `${describeRef(ref)} (${dryRun ? "server-side dry run" : `resourceVersion ${answer.metadata?.resourceVersion ?? "?"}`})`,
    });
    const ruleIds = merged.merged.map((f) => f.ruleId);
    let changeId: string | null = null;
    let rollout: RolloutReport | null = null;
    if (!dryRun) {
      const change = store().recordChange({
        actor,
        action: mode.kind === "approve" ? "approve" : "fix",
        namespace: ref.namespace,
        kind: ref.kind,
        name: ref.name,
        ruleIds,
        patch,
        diff,
        before: strip(object),
        after,
        resourceVersionBefore: object.metadata?.resourceVersion ?? null,
        resourceVersionAfter: answer.metadata?.resourceVersion ?? null,
        generationAfter: answer.metadata?.generation ?? null,
        pendingId: mode.kind === "approve" ? mode.pending.id : null,
        rollbackOf: null,
      });
      changeId = change.id;
      if (mode.kind === "approve") store().decide(mode.pending.id, "approved", actor, null, change.id);
      logger.info({ fix: { change: change.id, action: change.action, actor, workload: describeRef(ref), rules: ruleIds, resourceVersion: change.resourceVersionAfter } }, "fix applied");
      notify(runtime, { type: "fix-applied", workload: ref, ruleIds, severity: highest(merged.merged.map((f) => f.severity)), actor, changeId: change.id, diff });
      rollout = await followRollout(target, ref, answer.metadata?.generation ?? null, options);
    }
    const pending = mode.kind === "approve" ? [] : pendingFrom(after, afterPlan);
    const result: RemediationResult = {
      workload: { namespace: ref.namespace, kind: ref.kind, name: ref.name },
      dryRun,
      status: dryRun ? "dry-run" : "applied",
      summary: {
        fixed: fixedRules.reduce((n, f) => n + f.findings.length, 0),
        failed: failures.length,
        pendingApproval: pending.length,
        manual: afterPlan.manual.length,
      },
      ruleIds,
      changes: merged.merged.map(ruleChange),
      failures,
      pending,
      manual: afterPlan.manual,
      skipped: [...plan.skipped, ...newlyFixable],
      patch,
      diff,
      resourceVersion: { before: object.metadata?.resourceVersion ?? null, after: dryRun ? object.metadata?.resourceVersion ?? null : answer.metadata?.resourceVersion ?? null },
      changeId,
      approvedPendingId: mode.kind === "approve" ? mode.pending.id : null,
      attempts: attempt + 1,
      rollout,
      message: "",
    };
    result.message = dryRun
      ? `${describeRef(ref)}: the API server accepted the fixes of ${ruleIds.join(", ")} in a dry run; nothing was changed.`
      : `${describeRef(ref)}: applied the fixes of ${ruleIds.join(", ")} as change ${changeId}${attempt > 0 ? ` after ${attempt} conflict(s)` : ""}. ${rollout?.message ?? ""}`.trim();
    return result;
  }
}

/** The approved rule's fix as the workload needs it now; "obsolete" when the rule passes. Refuses a fix that changed. */
function approvedFix(store: FixStore, pending: PendingFix, plan: FixPlan, actor: string): RuleFix | "obsolete" {
  const now = [...plan.auto, ...plan.needsApproval].find((f) => f.ruleId === pending.ruleId);
  if (!now) {
    store.decide(pending.id, "obsolete", actor, "the rule no longer fails on the workload");
    return "obsolete";
  }
  if (!deepEqual(now.patch, pending.patch)) {
    store.decide(pending.id, "stale", actor, "the workload changed: the fix is not the one that was approved");
    throw new ChangedError(
      `${pending.kind} ${pending.namespace}/${pending.name} changed since fix ${pending.id} was proposed: the fix of ${pending.ruleId} would now be ${JSON.stringify(now.patch)}, not the approved ${JSON.stringify(pending.patch)}. Nothing was applied; run auto_fix_policy_violations again for a new proposal`,
    );
  }
  return now;
}

/** Finds which fixes the API server refuses, each alone in a dry run; none of them is applied. */
async function isolateRejected(target: Target, ref: WorkloadRef, object: KubeObject, fixes: RuleFix[], error: AppError): Promise<{ ruleId: string; reason: string }[]> {
  const refused: { ruleId: string; reason: string }[] = [];
  for (const fix of fixes) {
    const alone = mergeFixes(object, [fix]).object;
    try {
      await sendPatch(target, ref, [precondition(object), ...diffPatch(object, alone)], true);
    } catch (e) {
      if (!(e instanceof target.kube.RejectedError)) throw e;
      refused.push({ ruleId: fix.ruleId, reason: `the API server refused this fix: ${serverReason(e)}` });
    }
  }
  if (refused.length === 0) {
    return fixes.map((f) => ({ ruleId: f.ruleId, reason: `not applied: the API server accepts each fix alone but refuses them together: ${serverReason(error)}` }));
  }
  const refusedIds = new Set(refused.map((r) => r.ruleId));
  const others = fixes.filter((f) => !refusedIds.has(f.ruleId)).map((f) => f.ruleId);
  return [
    ...refused,
    ...others.map((ruleId) => ({
      ruleId,
      reason: `not applied: the API server accepts this fix, but nothing is applied when part of the patch is refused; run again with rules: ${JSON.stringify(others)}`,
    })),
  ];
}

function ruleChange(fix: RuleFix): RuleChange {
  return { ruleId: fix.ruleId, title: fix.title, severity: fix.severity, risk: fix.risk, findings: fix.findings, patch: fix.patch };
}

function previewPending(plan: FixPlan, object: KubeObject): PendingView[] {
  return plan.needsApproval.map((fix) => ({
    id: null,
    ruleId: fix.ruleId,
    severity: fix.severity,
    risk: fix.risk,
    reason: fix.approval ?? "",
    patch: fix.patch,
    diff: fixDiff(object, fix),
  }));
}

function proposePending(runtime: Runtime, store: FixStore, plan: FixPlan, object: KubeObject, ref: WorkloadRef, actor: string): PendingView[] {
  return previewPending(plan, object).map((view, i) => {
    const fix = plan.needsApproval[i]!;
    const { fix: stored, created } = store.propose({
      actor,
      namespace: ref.namespace,
      kind: ref.kind,
      name: ref.name,
      ruleId: fix.ruleId,
      severity: fix.severity,
      category: fix.category,
      risk: fix.risk,
      reason: view.reason,
      patch: fix.patch,
      findings: fix.findings,
      diff: view.diff,
      resourceVersion: object.metadata?.resourceVersion ?? null,
      generation: object.metadata?.generation ?? null,
    });
    // Told once, when proposed; the same proposal found again is not news.
    if (created) {
      notify(runtime, { type: "fix-awaiting-approval", workload: ref, ruleIds: [fix.ruleId], severity: fix.severity, actor, pendingId: stored.id, risk: fix.risk, reason: view.reason, diff: view.diff });
    }
    return { ...view, id: stored.id };
  });
}

function fixDiff(object: KubeObject, fix: RuleFix): string {
  try {
    return unifiedDiff(view(object), view(applyPatch(object, fix.patch, { mergeObjects: true })), { from: "current", to: `with the fix of ${fix.ruleId}` });
  } catch (error) {
    return `(the fix does not apply to the current object: ${(error as Error).message})`;
  }
}

function emptyResult(
  ref: WorkloadRef,
  dryRun: boolean,
  plan: FixPlan,
  object: KubeObject,
  attempts: number,
  status: RemediationResult["status"],
  message: string,
  approvedPendingId: string | null,
): RemediationResult {
  const rv = object.metadata?.resourceVersion ?? null;
  return {
    workload: { namespace: ref.namespace, kind: ref.kind, name: ref.name },
    dryRun,
    status,
    summary: { fixed: 0, failed: 0, pendingApproval: 0, manual: plan.manual.length },
    ruleIds: [],
    changes: [],
    failures: [],
    pending: [],
    manual: plan.manual,
    skipped: plan.skipped,
    patch: [],
    diff: "",
    resourceVersion: { before: rv, after: rv },
    changeId: null,
    approvedPendingId,
    attempts,
    rollout: null,
    message,
  };
}

/**
 * What changed on the object since a recorded change, in the fields that change set: the spec (through
 * its generation, which status updates leave alone) and the labels / annotations it touched.
 */
function changedSince(current: KubeObject, change: FixChange): string | null {
  const reasons: string[] = [];
  const generation = current.metadata?.generation ?? null;
  if (change.generationAfter !== null && generation !== change.generationAfter) {
    reasons.push(`its spec changed (generation ${generation} now, ${change.generationAfter} after the change)`);
  }
  for (const map of ["labels", "annotations"] as const) {
    for (const key of touchedKeys(change, map)) {
      const recorded = (change.after.metadata as KubeObject["metadata"])?.[map]?.[key];
      const now = current.metadata?.[map]?.[key];
      if (recorded !== now) reasons.push(`${map.slice(0, -1)} ${key} is ${JSON.stringify(now ?? null)}, not ${JSON.stringify(recorded ?? null)}`);
    }
  }
  return reasons.length > 0 ? reasons.join("; ") : null;
}

function touchedKeys(change: FixChange, map: "labels" | "annotations"): string[] {
  const before = ((change.before.metadata as KubeObject["metadata"])?.[map] ?? {}) as Record<string, string>;
  const after = ((change.after.metadata as KubeObject["metadata"])?.[map] ?? {}) as Record<string, string>;
  return [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => before[k] !== after[k]);
}

/** The current object with the spec recorded before the change, and the labels / annotations it touched restored. */
function restored(current: KubeObject, change: FixChange): KubeObject {
  const target = clone(strip(current));
  target.spec = clone(change.before.spec as KubeObject["spec"]);
  for (const map of ["labels", "annotations"] as const) {
    const before = ((change.before.metadata as KubeObject["metadata"])?.[map] ?? {}) as Record<string, string>;
    for (const key of touchedKeys(change, map)) {
      const values = { ...(target.metadata?.[map] ?? {}) };
      if (key in before) values[key] = before[key]!;
      else delete values[key];
      target.metadata = { ...target.metadata, [map]: values };
    }
  }
  return target;
}

/** rollback_fix: restores the spec recorded before a change, unless the object changed since (or forced). */
export async function rollbackChange(
  runtime: Runtime,
  actor: string,
  changeId: string,
  options: RemediationOptions & { force?: boolean } = {},
): Promise<RollbackResult> {
  const store = new FixStore(runtime.db());
  const change = store.change(changeId);
  if (!change) throw new NotFoundError(`no change with id ${JSON.stringify(changeId)} (list_fix_history shows them)`);
  const ref = { namespace: change.namespace, kind: change.kind as WorkloadKind, name: change.name };
  const force = options.force ?? false;
  checkNamespace(runtime, change.namespace);
  if (change.rolledBackBy && !force) {
    throw new ChangedError(`change ${changeId} was already rolled back by ${change.rolledBackBy}; nothing was changed (force: true, or --force on the command line, restores its "before" state again)`);
  }
  const target = await openTarget(runtime, ref);
  await checkPatchAccess(target, ref);
  const maxRetries = options.maxRetries ?? DEFAULTS.maxRetries;
  for (let attempt = 0; ; attempt++) {
    const current = await target.client.get<KubeObject>(target.type, ref.namespace, ref.name).catch((error: unknown) => {
      if (error instanceof NotFoundError) throw new NotFoundError(`${describeRef(ref)} no longer exists: change ${changeId} cannot be rolled back`);
      throw error;
    });
    const changed = changedSince(current, change);
    if (changed && !force) {
      throw new ChangedError(
        `${describeRef(ref)} was changed after change ${changeId}: ${changed}. Rolling back would discard those later edits, so nothing was changed; pass force: true (--force on the command line) to restore the spec recorded before the change anyway`,
      );
    }
    const base = strip(current);
    const ops = diffPatch(base, restored(current, change));
    const rv = current.metadata?.resourceVersion ?? null;
    const result: RollbackResult = {
      workload: { namespace: ref.namespace, kind: ref.kind, name: ref.name },
      status: "nothing-to-roll-back",
      rolledBack: changeId,
      changeId: null,
      ruleIds: change.ruleIds,
      forced: force,
      changedSince: changed,
      patch: [],
      diff: "",
      resourceVersion: { before: rv, after: rv },
      attempts: attempt + 1,
      rollout: null,
      message: `${describeRef(ref)} already holds the spec recorded before change ${changeId}; nothing was changed`,
    };
    if (ops.length === 0) return result;
    const patch = [precondition(current), ...ops];
    await options.beforePatch?.(attempt);
    let answer: KubeObject;
    try {
      answer = await sendPatch(target, ref, patch, false);
    } catch (error) {
      if (await changedUnderUs(error, target, ref, rv ?? undefined)) {
        if (attempt < maxRetries) continue;
        throw new ChangedError(`${describeRef(ref)} changed between our read and our patch ${attempt + 1} times in a row; nothing was rolled back`);
      }
      throw error;
    }
    const diff = unifiedDiff(view(current), view(answer), {
      from: `${describeRef(ref)} (resourceVersion ${rv ?? "?"})`,
      to: `${describeRef(ref)} (resourceVersion ${answer.metadata?.resourceVersion ?? "?"}, rolled back)`,
    });
    const recorded = store.recordChange({
      actor,
      action: "rollback",
      namespace: ref.namespace,
      kind: ref.kind,
      name: ref.name,
      ruleIds: change.ruleIds,
      patch,
      diff,
      before: base,
      after: strip(answer),
      resourceVersionBefore: rv,
      resourceVersionAfter: answer.metadata?.resourceVersion ?? null,
      generationAfter: answer.metadata?.generation ?? null,
      pendingId: null,
      rollbackOf: changeId,
    });
    logger.info({ fix: { change: recorded.id, action: "rollback", of: changeId, actor, forced: force, workload: describeRef(ref) } }, "change rolled back");
    notify(runtime, { type: "rollback", workload: ref, ruleIds: change.ruleIds, actor, changeId: recorded.id, rolledBack: changeId, forced: force });
    const rollout = await followRollout(target, ref, answer.metadata?.generation ?? null, options);
    return {
      ...result,
      status: "rolled-back",
      changeId: recorded.id,
      patch,
      diff,
      resourceVersion: { before: rv, after: answer.metadata?.resourceVersion ?? null },
      rollout,
      message: `${describeRef(ref)}: change ${changeId} rolled back as change ${recorded.id}${force && changed ? " (forced over later edits)" : ""}. ${rollout.message}`,
    };
  }
}
