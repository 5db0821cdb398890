// What the notifications tell people about: the event types, and eventsForScan(), which turns two scan
// summaries (plain data, so the scans module and the tests hand in the same shape) into the events of the
// newer scan. The rules against noise live here: only what is new since the previous scan, one event for
// all of a scan's new findings, a score threshold alerts when it is crossed (not at every scan below it),
// and nothing at all when nothing changed.
import { createHash } from "node:crypto";
import type { NotificationsConfig } from "../config/types.js";
import { SEVERITIES, type Severity } from "../policy/types.js";

export const NOTIFICATION_EVENT_TYPES = [
  "scan-new-violations",
  "score-below-threshold",
  "score-dropped",
  "scan-failed",
  "stale",
  "fix-applied",
  "fix-failed",
  "fix-awaiting-approval",
  "rollback",
] as const;
export type NotificationEventType = (typeof NOTIFICATION_EVENT_TYPES)[number];

/** The scope of a scan of the whole cluster, as the scan history writes it. */
export const CLUSTER_SCOPE = "*";

export interface ResourceRef {
  kind: string;
  namespace?: string | null;
  name: string;
}

/** An open finding of a scan, as the notifications need it. */
export interface ScanFinding {
  /** Stable identity of the finding across scans (rule, workload, field): what "new" is decided on. */
  key: string;
  ruleId: string;
  severity: Severity;
  category: string;
  resource: ResourceRef;
  message: string;
  /** The rule's one-sentence remediation. */
  remediation: string;
  /** A shorter, concrete hint ("auto-fixable: set privileged to false"), shown instead of the remediation when given. */
  fixHint?: string;
  /** Warnings never alert; absent means violation. */
  outcome?: "violation" | "warning";
}

/** A finished scan as plain data: what onScanCompleted() and eventsForScan() take. */
export interface ScanSummary {
  scanId: number;
  /** The scan's name (a configured scan, or adhoc:...), for the message. */
  name?: string;
  cluster?: string;
  /** ISO 8601. */
  finishedAt: string;
  /** "*" for the whole cluster, else the scanned namespaces sorted and joined by ",". */
  scope: string;
  status: "succeeded" | "failed";
  /** Why a failed scan failed. */
  reason?: string;
  /** The error code of a failed scan (cluster_unavailable, forbidden, ...): repeated failures with the same code are one event. */
  errorCode?: string;
  /** Compliance percentage (0-100); null when nothing was judged or the scan failed. */
  score: number | null;
  /** The scan's open findings (violations; warnings are ignored). Empty for a failed scan. */
  findings: ScanFinding[];
}

interface EventBase {
  /** ISO 8601: when it happened (the scan's end, the fix's time). */
  at: string;
  /** A scan scope, or the namespace of a fix event. */
  scope: string;
  cluster?: string;
}

export interface ScanNewViolationsEvent extends EventBase {
  type: "scan-new-violations";
  scanId: number;
  scanName?: string;
  previousScanId: number | null;
  score: number | null;
  previousScore: number | null;
  /** Violations the previous scan did not have, most severe first. */
  newFindings: ScanFinding[];
  /** Violations of the previous scan this one no longer has. */
  resolvedCount: number;
  /** Violations open after this scan. */
  openCount: number;
}

export interface ScoreBelowThresholdEvent extends EventBase {
  type: "score-below-threshold";
  scanId: number;
  score: number;
  previousScore: number | null;
  threshold: number;
}

export interface ScoreDroppedEvent extends EventBase {
  type: "score-dropped";
  scanId: number;
  previousScanId: number;
  score: number;
  previousScore: number;
  /** previousScore - score, in percentage points. */
  drop: number;
  threshold: number;
}

export interface ScanFailedEvent extends EventBase {
  type: "scan-failed";
  scanId: number;
  scanName?: string;
  reason: string;
  errorCode?: string;
}

export interface StaleEvent extends EventBase {
  type: "stale";
  /** ISO 8601 of the last successful scan; null when none succeeded since the notifier first heard of the scope. */
  lastSuccessAt: string | null;
  lastSuccessScanId: number | null;
  /** Hours since the last successful scan (or since the scope was first seen). */
  hours: number;
  staleAfterHours: number;
}

export interface WorkloadRef {
  namespace: string;
  kind: string;
  name: string;
}

interface FixEventBase extends EventBase {
  workload: WorkloadRef;
  ruleIds: string[];
  /** The highest severity of the rules concerned, for the channels' severity filters. */
  severity?: Severity;
  /** Who asked (mcp:<client>, http:<token name>, cli). */
  actor?: string;
}

export interface FixAppliedEvent extends FixEventBase {
  type: "fix-applied";
  changeId: string;
  /** Readable diff of the change. */
  diff?: string;
}

export interface FixFailedEvent extends FixEventBase {
  type: "fix-failed";
  reason: string;
}

export interface FixAwaitingApprovalEvent extends FixEventBase {
  type: "fix-awaiting-approval";
  pendingId: string;
  risk?: string;
  /** Why it needs an approval. */
  reason?: string;
  /** What it would change: a readable diff. */
  diff: string;
}

export interface RollbackEvent extends FixEventBase {
  type: "rollback";
  /** The rollback's own change id. */
  changeId: string;
  /** The change that was undone. */
  rolledBack: string;
  forced?: boolean;
}

export type FixEvent = FixAppliedEvent | FixFailedEvent | FixAwaitingApprovalEvent | RollbackEvent;
export type ScanEvent = ScanNewViolationsEvent | ScoreBelowThresholdEvent | ScoreDroppedEvent | ScanFailedEvent;
export type NotificationEvent = ScanEvent | StaleEvent | FixEvent;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A fix event as the remediation code reports it: `at` (now) and `scope` (the workload's namespace) are filled in when absent. */
export type FixEventInput = DistributiveOmit<FixEvent, "at" | "scope"> & { at?: string; scope?: string };

const SEVERITY_RANK: Record<Severity, number> = Object.fromEntries(SEVERITIES.map((s, i) => [s, i])) as Record<Severity, number>;

/** Most severe first, then by resource and rule, so messages and fingerprints do not depend on input order. */
export function compareFindings(a: ScanFinding, b: ScanFinding): number {
  return (
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
    resourceLabel(a.resource).localeCompare(resourceLabel(b.resource)) ||
    a.ruleId.localeCompare(b.ruleId) ||
    a.key.localeCompare(b.key)
  );
}

export function resourceLabel(resource: ResourceRef): string {
  return `${resource.kind} ${resource.namespace ? `${resource.namespace}/` : ""}${resource.name}`;
}

const isViolation = (f: ScanFinding) => (f.outcome ?? "violation") === "violation";

/**
 * The events of `current` against `previous`, the last *succeeded* scan of the same scope (null for the
 * first scan, whose open violations are then all new). Thresholds come from the notifications config.
 * Returns [] when nothing changed: no new violation, no threshold crossed, no failure.
 */
export function eventsForScan(previous: ScanSummary | null, current: ScanSummary, config: NotificationsConfig = {}): ScanEvent[] {
  const base = { at: current.finishedAt, scope: current.scope, ...(current.cluster ? { cluster: current.cluster } : {}) };
  if (current.status === "failed") {
    return [
      {
        ...base,
        type: "scan-failed",
        scanId: current.scanId,
        ...(current.name ? { scanName: current.name } : {}),
        reason: current.reason ?? "the scan failed without a reason",
        ...(current.errorCode ? { errorCode: current.errorCode } : {}),
      },
    ];
  }
  // A failed scan saw no findings: diffing against it would report every open violation as new.
  const baseline = previous && previous.status === "succeeded" && previous.scope === current.scope ? previous : null;
  const before = new Set((baseline?.findings ?? []).filter(isViolation).map((f) => f.key));
  const open = current.findings.filter(isViolation);
  const now = new Set(open.map((f) => f.key));
  // One finding per key even if the caller repeats one.
  const unseen = new Map<string, ScanFinding>();
  for (const f of open) if (!before.has(f.key) && !unseen.has(f.key)) unseen.set(f.key, f);
  const newFindings = [...unseen.values()].sort(compareFindings);
  const resolvedCount = [...before].filter((key) => !now.has(key)).length;
  const previousScore = baseline?.score ?? null;
  const events: ScanEvent[] = [];
  if (newFindings.length > 0) {
    events.push({
      ...base,
      type: "scan-new-violations",
      scanId: current.scanId,
      ...(current.name ? { scanName: current.name } : {}),
      previousScanId: baseline?.scanId ?? null,
      score: current.score,
      previousScore,
      newFindings,
      resolvedCount,
      openCount: now.size,
    });
  }
  const score = current.score;
  if (score !== null && config.scoreBelow !== undefined && score < config.scoreBelow) {
    // Alert when the score crosses the threshold, not at every scan that stays below it.
    if (previousScore === null || previousScore >= config.scoreBelow) {
      events.push({ ...base, type: "score-below-threshold", scanId: current.scanId, score, previousScore, threshold: config.scoreBelow });
    }
  }
  if (score !== null && previousScore !== null && baseline && config.scoreDropPoints !== undefined) {
    const drop = round1(previousScore - score);
    if (drop > config.scoreDropPoints) {
      events.push({
        ...base,
        type: "score-dropped",
        scanId: current.scanId,
        previousScanId: baseline.scanId,
        score,
        previousScore,
        drop,
        threshold: config.scoreDropPoints,
      });
    }
  }
  return events;
}

/** The stale event of a scope whose last successful scan is older than staleAfterHours at `now`; null otherwise. */
export function staleEvent(
  state: { scope: string; cluster?: string; firstSeenAt: number; lastSuccessAt: number | null; lastSuccessScanId: number | null },
  now: number,
  staleAfterHours: number,
): StaleEvent | null {
  const since = state.lastSuccessAt ?? state.firstSeenAt;
  const hours = (now - since) / 3_600_000;
  if (hours <= staleAfterHours) return null;
  return {
    type: "stale",
    at: new Date(now).toISOString(),
    scope: state.scope,
    ...(state.cluster ? { cluster: state.cluster } : {}),
    lastSuccessAt: state.lastSuccessAt === null ? null : new Date(state.lastSuccessAt).toISOString(),
    lastSuccessScanId: state.lastSuccessScanId,
    hours: round1(hours),
    staleAfterHours,
  };
}

/** The severity an event concerns (for filters and the digest): the worst new finding, the fix's rules; null for the others. */
export function eventSeverity(event: NotificationEvent): Severity | null {
  switch (event.type) {
    case "scan-new-violations":
      return event.newFindings[0]?.severity ?? null;
    case "fix-applied":
    case "fix-failed":
    case "fix-awaiting-approval":
    case "rollback":
      return event.severity ?? null;
    default:
      return null;
  }
}

/**
 * What makes two events "the same" for deduplication. New violations: the scope and the set of new
 * finding keys (two identical scans alert once). Thresholds: the scope and the threshold, so a score
 * hovering around it alerts once per window. Failures: the scope and the error code (or reason). Stale:
 * the scope and the last success. Fix events: the change or pending fix they are about.
 */
export function fingerprint(event: NotificationEvent): string {
  const series = `${event.cluster ?? ""}\u0000${event.scope}`;
  let identity: string;
  switch (event.type) {
    case "scan-new-violations":
      identity = [...new Set(event.newFindings.map((f) => f.key))].sort().join("\u0001");
      break;
    case "score-below-threshold":
      identity = String(event.threshold);
      break;
    case "score-dropped":
      identity = `${event.previousScore}\u0001${event.score}`;
      break;
    case "scan-failed":
      identity = event.errorCode ?? event.reason;
      break;
    case "stale":
      identity = event.lastSuccessAt ?? "never";
      break;
    case "fix-applied":
    case "rollback":
      identity = event.changeId;
      break;
    case "fix-awaiting-approval":
      identity = event.pendingId;
      break;
    case "fix-failed":
      identity = `${event.workload.namespace}/${event.workload.kind}/${event.workload.name}\u0001${[...event.ruleIds].sort().join(",")}\u0001${event.reason}`;
      break;
  }
  return createHash("sha256").update(`${event.type}\u0000${series}\u0000${identity}`).digest("base64url").slice(0, 32);
}

/** Counts of findings per severity, every severity present. */
export function countBySeverity(findings: readonly ScanFinding[]): Record<Severity, number> {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of findings) counts[f.severity] += 1;
  return counts;
}

export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
