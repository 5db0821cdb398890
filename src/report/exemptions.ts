// Exception management: every exemption in force or on record, from the configuration (`exemptions`)
// and from workload annotations (kube-policy.io/exempt), with its status (active, expiring, expired,
// invalid), what it covers and how many findings it suppresses now. The annotations and dates are read
// by the evaluator's own functions (policy/enforcement.ts), and each exempt finding is attributed to the
// exemption that decided it by the same matching the evaluator applies, so the counts agree with it.
import type { PolicyConfig } from "../config/types.js";
import type { CollectedWorkload } from "../kube/source.js";
import {
  EXEMPT_ANNOTATION,
  EXEMPT_REASON_ANNOTATION,
  EXEMPT_UNTIL_ANNOTATION,
  annotationExemptionOf,
  configExemptionCovers,
  exemptionEnd,
  exemptionMatch,
  globMatch,
} from "../policy/enforcement.js";
import type { CatalogueEntry } from "../policy/types.js";
import type { WorkloadResult } from "../policy/evaluator.js";

export const EXEMPTION_STATUSES = ["active", "expiring", "expired", "invalid"] as const;
export type ExemptionStatus = (typeof EXEMPTION_STATUSES)[number];
export const DEFAULT_EXPIRING_WITHIN_DAYS = 14;

export interface ExemptionWorkload {
  kind: string;
  namespace: string;
  name: string;
}

export interface ExemptionEntry {
  /** "config:/exemptions/3" or "annotation:Deployment/shop/web". */
  id: string;
  origin: "configuration" | "annotation";
  /** The JSON path in the configuration, or the workload and its annotation (with its file:line for manifests). */
  where: string;
  /** Configuration: the namespace glob (null: every namespace); annotation: the workload's namespace. */
  namespace: string | null;
  /** Configuration: the name glob and kind (null: any); annotation: the workload's. */
  name: string | null;
  kind: string | null;
  /** Workloads of the current source in scope that it covers (at most 100 listed; workloadCount counts all). */
  workloads: ExemptionWorkload[];
  workloadCount: number;
  rules: string[];
  reason: string | null;
  expires: string | null;
  /** Days from today (UTC) to the last day it applies: 0 = expires today, negative = expired; null without a readable expiry. */
  daysLeft: number | null;
  status: ExemptionStatus;
  /** What is wrong with an invalid one (and notes on others, e.g. an expired annotation left in place). */
  problems: string[];
  /** Findings evaluated as `exempt` because of this exemption right now. */
  suppressedFindings: number;
  /** Open findings (violations, warnings) of its rules on the workloads it covers: what it does not (or no longer) suppress. */
  openFindings: number;
  /** One line on what the status means for the findings. */
  note: string;
}

export interface ExemptionCounts {
  total: number;
  active: number;
  expiring: number;
  expired: number;
  invalid: number;
}

export interface ExemptionList {
  generated: string;
  expiringWithinDays: number;
  scope: { namespace: string | null };
  counts: ExemptionCounts;
  suppressedFindings: number;
  exemptions: ExemptionEntry[];
}

export interface ExemptionFilter {
  namespace?: string;
  status?: ExemptionStatus;
  expiringWithinDays?: number;
  ruleId?: string;
}

const DAY_MS = 86_400_000;
const MAX_LISTED_WORKLOADS = 100;
const STRICT_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real calendar date written YYYY-MM-DD (2027-02-30 is not, although Date rolls it over). */
function strictDate(value: string): boolean {
  const m = STRICT_DATE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

function daysLeftOf(expires: string, now: Date): number | null {
  const end = exemptionEnd(expires);
  if (!end) return null;
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const last = Date.UTC(end.getUTCFullYear(), end.getUTCMonth(), end.getUTCDate());
  return Math.round((last - today) / DAY_MS);
}

const workloadOf = (w: CollectedWorkload): ExemptionWorkload => {
  const meta = (w.input.object.metadata ?? {}) as { name?: string; namespace?: string };
  return { kind: String(w.input.object.kind ?? ""), namespace: meta.namespace ?? "default", name: meta.name ?? "" };
};
const label = (w: ExemptionWorkload) => `${w.kind} ${w.namespace}/${w.name}`;

/** Status and problems common to both origins. */
function judge(
  entry: { rules: string[]; reason: string | null; expires: string | null },
  knownRules: Set<string>,
  now: Date,
  withinDays: number,
  where: { reason: string; expires: string; rules: string },
): { status: ExemptionStatus; daysLeft: number | null; problems: string[] } {
  const problems: string[] = [];
  const unknown = entry.rules.filter((id) => id !== "*" && !knownRules.has(id));
  if (entry.rules.length === 0 || entry.rules.every((id) => id === "")) problems.push(`${where.rules} names no rule`);
  else if (unknown.length > 0) {
    problems.push(`${where.rules}: unknown rule id(s) ${unknown.map((id) => JSON.stringify(id)).join(", ")} (no finding of such a rule exists to exempt)`);
  }
  if (!entry.reason) problems.push(`${where.reason} is missing: a reason is required, so the exemption is ignored and its findings are not exempt`);
  let daysLeft: number | null = null;
  if (entry.expires !== null) {
    daysLeft = daysLeftOf(entry.expires, now);
    if (daysLeft === null) {
      problems.push(`${where.expires} ${JSON.stringify(entry.expires)} is not a date (YYYY-MM-DD): the exemption is treated as expired, its findings are not exempt`);
    } else if (!strictDate(entry.expires)) {
      problems.push(`${where.expires} ${JSON.stringify(entry.expires)} is not a calendar date written YYYY-MM-DD (it is read as ${new Date(Date.parse(`${entry.expires}T00:00:00Z`)).toISOString().slice(0, 10)})`);
    }
  }
  if (problems.length > 0) return { status: "invalid", daysLeft, problems };
  if (daysLeft !== null && daysLeft < 0) return { status: "expired", daysLeft, problems };
  if (daysLeft !== null && daysLeft <= withinDays) return { status: "expiring", daysLeft, problems };
  return { status: "active", daysLeft, problems };
}

function noteFor(e: ExemptionEntry): string {
  switch (e.status) {
    case "active":
      return `suppresses ${e.suppressedFindings} finding(s)${e.expires ? ` until ${e.expires}` : ", no expiry"}`;
    case "expiring":
      return `suppresses ${e.suppressedFindings} finding(s); expires ${e.daysLeft === 0 ? "today" : `in ${e.daysLeft} day(s)`} (${e.expires})`;
    case "expired":
      return `expired on ${e.expires} (${-e.daysLeft!} day(s) ago): its findings are no longer exempt (${e.openFindings} open finding(s) of its rules)` +
        (e.origin === "annotation" ? `; remove or renew the ${EXEMPT_ANNOTATION} annotation` : "; remove or renew it in the configuration");
    case "invalid":
      return e.suppressedFindings > 0
        ? `invalid, but still suppresses ${e.suppressedFindings} finding(s) of the rules it names correctly`
        : `invalid: suppresses nothing (${e.openFindings} open finding(s) of its rules)`;
  }
}

/**
 * Every exemption of the configuration and of the workloads given (a collection of the runtime's
 * source, already limited to the namespaces the configuration lets tools see), with the results of
 * evaluating those workloads (same order) for the counts. Filters apply after the statuses are known;
 * with filter.namespace, give the workloads of that namespace only (what configuration exemptions cover is counted there).
 */
export function listExemptions(input: {
  config: PolicyConfig;
  catalogue: CatalogueEntry[];
  workloads: CollectedWorkload[];
  results: WorkloadResult[];
  namespaceAllowed: (namespace: string) => boolean;
  filter?: ExemptionFilter;
  now?: Date;
}): ExemptionList {
  const now = input.now ?? new Date();
  const filter = input.filter ?? {};
  const withinDays = filter.expiringWithinDays ?? DEFAULT_EXPIRING_WITHIN_DAYS;
  const rulesById = new Map(input.catalogue.map((r) => [r.id, r]));
  const knownRules = new Set(rulesById.keys());
  const entries: ExemptionEntry[] = [];
  const configEntries = new Map<number, ExemptionEntry>();
  const annotationEntries = new Map<number, ExemptionEntry>();

  for (const [index, exemption] of (input.config.exemptions ?? []).entries()) {
    const pattern = exemption.namespace ?? null;
    // A configured exemption for one namespace tools may not see is not shown (its name would leak); globs are, with what they cover in scope.
    if (pattern !== null && !/[*?]/.test(pattern) && !input.namespaceAllowed(pattern)) continue;
    const rules = Array.isArray(exemption.rules) ? exemption.rules.map(String) : [];
    const covered = input.workloads.filter((w) => configExemptionCovers(exemption, w.input.object as never)).map(workloadOf);
    const judged = judge({ rules, reason: exemption.reason?.trim() || null, expires: exemption.expires ?? null }, knownRules, now, withinDays, {
      rules: `/exemptions/${index}/rules`,
      reason: `/exemptions/${index}/reason`,
      expires: `/exemptions/${index}/expires`,
    });
    const entry: ExemptionEntry = {
      id: `config:/exemptions/${index}`,
      origin: "configuration",
      where: `/exemptions/${index}`,
      namespace: pattern,
      name: exemption.name ?? null,
      kind: exemption.kind ?? null,
      workloads: covered.slice(0, MAX_LISTED_WORKLOADS),
      workloadCount: covered.length,
      rules,
      reason: exemption.reason?.trim() || null,
      expires: exemption.expires ?? null,
      ...judged,
      suppressedFindings: 0,
      openFindings: 0,
      note: "",
    };
    configEntries.set(index, entry);
    entries.push(entry);
  }

  for (const [i, workload] of input.workloads.entries()) {
    const annotations = (workload.input.object.metadata as { annotations?: Record<string, string> } | undefined)?.annotations;
    const annotated = annotationExemptionOf(annotations);
    if (!annotated) continue;
    const w = workloadOf(workload);
    const rules = annotated.rules.filter((id) => id !== "");
    const judged = judge({ rules, reason: annotated.reason ?? null, expires: annotated.until ?? null }, knownRules, now, withinDays, {
      rules: `annotation ${EXEMPT_ANNOTATION}`,
      reason: `annotation ${EXEMPT_REASON_ANNOTATION}`,
      expires: `annotation ${EXEMPT_UNTIL_ANNOTATION}`,
    });
    const entry: ExemptionEntry = {
      id: `annotation:${w.kind}/${w.namespace}/${w.name}`,
      origin: "annotation",
      where: `${label(w)} annotation ${EXEMPT_ANNOTATION}${workload.source ? ` (${workload.source})` : ""}`,
      namespace: w.namespace,
      name: w.name,
      kind: w.kind,
      workloads: [w],
      workloadCount: 1,
      rules,
      reason: annotated.reason ?? null,
      expires: annotated.until ?? null,
      ...judged,
      suppressedFindings: 0,
      openFindings: 0,
      note: "",
    };
    annotationEntries.set(i, entry);
    entries.push(entry);
  }

  // Attribute every exempt finding to the exemption that decided it, and every open finding to the exemptions naming its rule.
  for (const [i, result] of input.results.entries()) {
    if (result.skipped) continue;
    const workload = input.workloads[i];
    if (!workload) continue;
    const object = workload.input.object as never;
    for (const finding of result.findings) {
      const rule = rulesById.get(finding.ruleId);
      if (!rule) continue;
      if (finding.outcome === "exempt") {
        const match = exemptionMatch(rule, object, input.config, now);
        const entry = match?.origin.type === "annotation" ? annotationEntries.get(i) : match ? configEntries.get(match.origin.index) : undefined;
        if (entry) entry.suppressedFindings++;
      } else if (finding.outcome === "violation" || finding.outcome === "warning") {
        const names = (e: ExemptionEntry | undefined) => e !== undefined && (e.rules.includes(finding.ruleId) || e.rules.includes("*"));
        const own = annotationEntries.get(i);
        if (names(own)) own!.openFindings++;
        for (const [index, exemption] of (input.config.exemptions ?? []).entries()) {
          const entry = configEntries.get(index);
          if (names(entry) && configExemptionCovers(exemption, object)) entry!.openFindings++;
        }
      }
    }
  }
  for (const e of entries) e.note = noteFor(e);

  const listed = entries.filter((e) => {
    if (filter.status && e.status !== filter.status) return false;
    if (filter.ruleId && !e.rules.includes(filter.ruleId) && !e.rules.includes("*")) return false;
    if (filter.namespace) {
      if (e.origin === "annotation" && e.namespace !== filter.namespace) return false;
      if (e.origin === "configuration" && e.namespace !== null && !globMatch(e.namespace, filter.namespace)) return false;
    }
    return true;
  });
  const scoped = listed;
  const counts: ExemptionCounts = { total: scoped.length, active: 0, expiring: 0, expired: 0, invalid: 0 };
  for (const e of scoped) counts[e.status]++;
  return {
    generated: now.toISOString(),
    expiringWithinDays: withinDays,
    scope: { namespace: filter.namespace ?? null },
    counts,
    suppressedFindings: scoped.reduce((n, e) => n + e.suppressedFindings, 0),
    exemptions: scoped,
  };
}

/** The readable list (CLI text, MCP text content). */
export function renderExemptionsText(list: ExemptionList): string {
  const c = list.counts;
  const lines = [
    `Exemptions${list.scope.namespace ? ` in namespace ${list.scope.namespace}` : ""}: ${c.total} (${c.active} active, ${c.expiring} expiring within ${list.expiringWithinDays} day(s), ${c.expired} expired, ${c.invalid} invalid); ${list.suppressedFindings} finding(s) suppressed now`,
  ];
  for (const e of list.exemptions) {
    const covers =
      e.origin === "annotation"
        ? ""
        : ` covers ${e.namespace ?? "every namespace"}/${e.name ?? "*"}${e.kind ? ` (${e.kind})` : ""}: ${e.workloadCount} workload(s)`;
    lines.push(
      "",
      `[${e.status}] ${e.where}${covers}`,
      `  rules: ${e.rules.join(", ") || "(none)"}; reason: ${e.reason ?? "(missing)"}; expires: ${e.expires ?? "never"}`,
      `  ${e.note}`,
    );
    for (const p of e.problems) lines.push(`  problem: ${p}`);
  }
  return `${lines.join("\n")}\n`;
}

/** The compliance report's "Exemptions" section: the counts, and the exemptions expiring soon. */
export interface ExemptionSummary {
  expiringWithinDays: number;
  counts: ExemptionCounts;
  suppressedFindings: number;
  expiring: { id: string; where: string; rules: string[]; reason: string | null; expires: string; daysLeft: number; suppressedFindings: number }[];
}

export function exemptionSummary(list: ExemptionList): ExemptionSummary {
  return {
    expiringWithinDays: list.expiringWithinDays,
    counts: { ...list.counts },
    suppressedFindings: list.suppressedFindings,
    expiring: list.exemptions
      .filter((e) => e.status === "expiring")
      .sort((a, b) => a.daysLeft! - b.daysLeft! || a.id.localeCompare(b.id))
      .map((e) => ({ id: e.id, where: e.where, rules: e.rules, reason: e.reason, expires: e.expires!, daysLeft: e.daysLeft!, suppressedFindings: e.suppressedFindings })),
  };
}

export function renderExemptionSummaryText(s: ExemptionSummary): string[] {
  const c = s.counts;
  const lines = [
    "Exemptions:",
    `- Active: ${c.active}`,
    `- Expiring within ${s.expiringWithinDays} days: ${c.expiring}`,
    `- Expired but still annotated or configured: ${c.expired}`,
    `- Invalid: ${c.invalid}`,
    `- Findings suppressed now: ${s.suppressedFindings}`,
  ];
  for (const e of s.expiring) {
    lines.push(`- ⏳ ${e.where}: ${e.rules.join(", ")} until ${e.expires} (${e.daysLeft === 0 ? "today" : `${e.daysLeft} day(s) left`}; ${e.reason ?? "no reason"})`);
  }
  return lines;
}
