// What a message says, independent of the channel: slack.ts turns it into Block Kit, email.ts into HTML
// and plain text. Composing once is what keeps the channels' content the same.
import { SEVERITIES, type Severity } from "../policy/types.js";
import {
  CLUSTER_SCOPE,
  compareFindings,
  countBySeverity,
  resourceLabel,
  round1,
  type FixEvent,
  type NotificationEvent,
  type ScanFinding,
  type ScanNewViolationsEvent,
} from "./events.js";

export interface MessageFinding {
  severity: Severity;
  ruleId: string;
  resource: string;
  message: string;
  /** The fix hint, else the rule's remediation. */
  fix: string;
}

export interface MessageContent {
  /** E-mail subject and Slack header. */
  subject: string;
  /** One sentence: what happened. */
  headline: string;
  /** Short label / value pairs: score and its change, counts. */
  facts: { label: string; value: string }[];
  /** New violations per severity, when the message is about new violations. */
  severityCounts: Record<Severity, number> | null;
  /** The most severe new violations, at most maxFindings. */
  findings: MessageFinding[];
  /** New violations not listed. */
  moreFindings: number;
  /** Further paragraphs: failures, thresholds, fix details, digest sections. */
  notes: string[];
  /** Where it comes from: scan id, time, scope, cluster. */
  context: string[];
}

const PREFIX = "[kube-policy]";

export function scopeLabel(scope: string, cluster?: string): string {
  const where = scope === CLUSTER_SCOPE ? "the whole cluster" : scope.includes(",") ? `namespaces ${scope.split(",").join(", ")}` : `namespace ${scope}`;
  return cluster ? `${where} (${cluster})` : where;
}

const percent = (value: number | null) => (value === null ? "n/a" : `${round1(value).toFixed(1)}%`);

export function scoreChange(score: number | null, previous: number | null): string {
  if (score === null) return "n/a";
  if (previous === null) return `${percent(score)} (first scan)`;
  const delta = round1(score - previous);
  const arrow = delta > 0 ? "▲" : delta < 0 ? "▼" : "=";
  return `${percent(score)} (${arrow} ${Math.abs(delta).toFixed(1)} from ${percent(previous)})`;
}

function severitySummary(counts: Record<Severity, number>): string {
  const parts = SEVERITIES.filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`);
  return parts.length > 0 ? parts.join(", ") : "none";
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

function toMessageFinding(f: ScanFinding): MessageFinding {
  return { severity: f.severity, ruleId: f.ruleId, resource: resourceLabel(f.resource), message: f.message, fix: f.fixHint ?? f.remediation };
}

const workloadLabel = (e: FixEvent) => `${e.workload.kind} ${e.workload.namespace}/${e.workload.name}`;

/** Subject of one event, used when it leads a message. */
function eventSubject(event: NotificationEvent): string {
  const where = scopeLabel(event.scope, event.cluster);
  switch (event.type) {
    case "scan-new-violations":
      return `${plural(event.newFindings.length, "new violation")} in ${where}: score ${scoreChange(event.score, event.previousScore)}`;
    case "score-below-threshold":
      return `Compliance of ${where} fell below ${event.threshold}%: ${percent(event.score)}`;
    case "score-dropped":
      return `Compliance of ${where} dropped ${event.drop.toFixed(1)} points to ${percent(event.score)}`;
    case "scan-failed":
      return `Scan ${event.scanName ? `${event.scanName} ` : ""}of ${where} failed`;
    case "stale":
      return `No successful scan of ${where} for ${Math.floor(event.hours)} hours`;
    case "fix-applied":
      return `Fix applied to ${workloadLabel(event)} (${event.ruleIds.join(", ")})`;
    case "fix-failed":
      return `Fix failed on ${workloadLabel(event)} (${event.ruleIds.join(", ")})`;
    case "fix-awaiting-approval":
      return `Fix ${event.pendingId} awaits approval: ${workloadLabel(event)} (${event.ruleIds.join(", ")})`;
    case "rollback":
      return `Change ${event.rolledBack} rolled back on ${workloadLabel(event)}`;
  }
}

/** The paragraph an event contributes to a message it does not lead (or leads without findings). */
function eventNote(event: NotificationEvent): string | null {
  switch (event.type) {
    case "scan-new-violations":
      return null;
    case "score-below-threshold":
      return `The compliance score is ${percent(event.score)}, below the threshold of ${event.threshold}%${event.previousScore === null ? "" : ` (it was ${percent(event.previousScore)})`}.`;
    case "score-dropped":
      return `The compliance score dropped ${event.drop.toFixed(1)} points, from ${percent(event.previousScore)} to ${percent(event.score)} (alert threshold: more than ${event.threshold} points).`;
    case "scan-failed":
      return `The scan failed: ${event.reason}${event.errorCode ? ` (${event.errorCode})` : ""}. Its findings are not known; the previous results still stand.`;
    case "stale":
      return event.lastSuccessAt
        ? `The last successful scan finished at ${event.lastSuccessAt} (scan #${event.lastSuccessScanId}), ${event.hours.toFixed(1)} hours ago; the limit is ${event.staleAfterHours} hours. The compliance data of this scope is out of date.`
        : `No scan of this scope has succeeded in the ${event.hours.toFixed(1)} hours since it was first scanned; the limit is ${event.staleAfterHours} hours.`;
    case "fix-applied":
      return `Change ${event.changeId} applied${event.actor ? ` by ${event.actor}` : ""}.${event.diff ? `\n${event.diff}` : ""}`;
    case "fix-failed":
      return `The fix could not be applied${event.actor ? ` (asked by ${event.actor})` : ""}: ${event.reason}`;
    case "fix-awaiting-approval":
      return [
        `Pending fix ${event.pendingId}${event.risk ? ` (${event.risk} risk)` : ""}${event.reason ? `: ${event.reason}` : ""}. Approve it with approve_fix or reject it with reject_fix.`,
        `What it would change:\n${event.diff}`,
      ].join("\n");
    case "rollback":
      return `Change ${event.rolledBack} was undone by change ${event.changeId}${event.actor ? ` (${event.actor})` : ""}${event.forced ? ", forced over later edits" : ""}.`;
  }
}

// The order in which a scan's events lead its message: what needs action first.
const LEAD_ORDER: NotificationEvent["type"][] = ["scan-failed", "scan-new-violations", "score-below-threshold", "score-dropped"];

/**
 * One message for the events of one scan (or one fix or stale event) on one channel: the most pressing
 * event gives the subject, new violations give the findings list, every other event a paragraph.
 */
export function composeAlert(events: readonly NotificationEvent[], options: { maxFindings?: number } = {}): MessageContent {
  if (events.length === 0) throw new Error("composeAlert needs at least one event");
  const maxFindings = options.maxFindings ?? 10;
  const lead = [...events].sort((a, b) => rank(a.type) - rank(b.type))[0]!;
  const violations = events.find((e): e is ScanNewViolationsEvent => e.type === "scan-new-violations");
  const facts: MessageContent["facts"] = [];
  const scanEvent = events.find((e) => "scanId" in e) as (NotificationEvent & { scanId: number }) | undefined;
  const scored = events.find((e): e is Extract<NotificationEvent, { score: number | null }> => "score" in e);
  if (scored) facts.push({ label: "Score", value: scoreChange(scored.score, scored.previousScore) });
  if (violations) {
    facts.push({ label: "New violations", value: `${violations.newFindings.length} (${severitySummary(countBySeverity(violations.newFindings))})` });
    facts.push({ label: "Resolved", value: String(violations.resolvedCount) });
    facts.push({ label: "Open", value: String(violations.openCount) });
  }
  const findings = violations ? [...violations.newFindings].sort(compareFindings) : [];
  const headline =
    lead.type === "scan-new-violations"
      ? `The scan of ${scopeLabel(lead.scope, lead.cluster)} found ${plural(lead.newFindings.length, "violation")} that the previous scan did not have.`
      : eventSubject(lead) + ".";
  const context = [
    ...(scanEvent ? [`Scan #${scanEvent.scanId}`] : []),
    lead.at,
    scopeLabel(lead.scope, lead.cluster),
  ];
  return {
    subject: `${PREFIX} ${eventSubject(lead)}`,
    headline,
    facts,
    severityCounts: violations ? countBySeverity(violations.newFindings) : null,
    findings: findings.slice(0, maxFindings).map(toMessageFinding),
    moreFindings: Math.max(0, findings.length - maxFindings),
    notes: events.map(eventNote).filter((n): n is string => n !== null),
    context,
  };
}

function rank(type: NotificationEvent["type"]): number {
  const i = LEAD_ORDER.indexOf(type);
  return i === -1 ? LEAD_ORDER.length : i;
}

/** The digest of a period: what happened, per event type, with the most severe new violations listed. */
export function composeDigest(events: readonly NotificationEvent[], period: { from: number; to: number }, options: { maxFindings?: number } = {}): MessageContent {
  const maxFindings = options.maxFindings ?? 10;
  const newFindings = events.flatMap((e) => (e.type === "scan-new-violations" ? e.newFindings : [])).sort(compareFindings);
  const count = (type: NotificationEvent["type"]) => events.filter((e) => e.type === type).length;
  const facts: MessageContent["facts"] = [
    { label: "New violations", value: `${newFindings.length} (${severitySummary(countBySeverity(newFindings))})` },
    { label: "Failed scans", value: String(count("scan-failed")) },
    { label: "Fixes applied", value: String(count("fix-applied")) },
    { label: "Awaiting approval", value: String(count("fix-awaiting-approval")) },
  ];
  // The latest score per scope, from the events that carry one.
  const latest = new Map<string, { score: number | null; previous: number | null; label: string }>();
  for (const e of events) {
    if ("score" in e) latest.set(`${e.cluster ?? ""}\u0000${e.scope}`, { score: e.score, previous: e.previousScore, label: scopeLabel(e.scope, e.cluster) });
  }
  const notes = [
    ...[...latest.values()].map((s) => `Score of ${s.label}: ${scoreChange(s.score, s.previous)}`),
    ...events.filter((e) => e.type !== "scan-new-violations").map((e) => `${eventSubject(e)}. ${eventNote(e) ?? ""}`.trim()),
  ];
  return {
    subject: `${PREFIX} Digest: ${plural(events.length, "event")}, ${plural(newFindings.length, "new violation")}`,
    headline: `What happened between ${new Date(period.from).toISOString()} and ${new Date(period.to).toISOString()}.`,
    facts,
    severityCounts: countBySeverity(newFindings),
    findings: newFindings.slice(0, maxFindings).map(toMessageFinding),
    moreFindings: Math.max(0, newFindings.length - maxFindings),
    notes,
    context: [`${plural(events.length, "event")}`, `${new Date(period.from).toISOString()} – ${new Date(period.to).toISOString()}`],
  };
}

/** The message of send_test_notification / `kube-policy notify test`. */
export function composeTest(channel: string, at: number, origin: string): MessageContent {
  return {
    subject: `${PREFIX} Test notification (${channel})`,
    headline: `This is a test of the ${channel} notifications of kube-policy-mcp: if you read it, alerts will reach you here.`,
    facts: [
      { label: "Channel", value: channel },
      { label: "Sent by", value: origin },
    ],
    severityCounts: null,
    findings: [],
    moreFindings: 0,
    notes: [],
    context: [new Date(at).toISOString()],
  };
}
