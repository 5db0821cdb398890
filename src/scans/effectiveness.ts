// Policy effectiveness per rule from the scan history and the fix history: what each rule found in a
// period, how fast its findings were resolved and by whom, what came back, and rankings (rules that fire
// most, stay open longest, never fired, recur). Same series choice and "no data" as get_compliance_trends
// (scans/trends.ts); the split of resolutions between kube-policy's fixes and the rest is Auto-Fix
// Efficiency's (store/autofix-store.ts windowCounts), so both show the same numbers.
import { OTHER_RESOLUTIONS, type OtherResolution } from "../report/autofix.js";
import { AutoFixStore } from "../store/autofix-store.js";
import { EffectivenessStore, type AffectedWorkload } from "../store/effectiveness-store.js";
import { scopeNamespaces, type ScanStore } from "../store/scan-store.js";
import { DEFAULT_TREND_DAYS } from "./trends.js";

const DAY_MS = 86_400_000;
const RANKED = 10;
const AFFECTED = 3;
const WORKLOADS_LISTED = 10;
const iso = (ms: number) => new Date(ms).toISOString();
const hours = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : Math.round((ms / 3_600_000) * 10) / 10);
const percentOf = (part: number, whole: number) => (whole === 0 ? null : Math.round((part / whole) * 1000) / 10);

/** The median of (value, how many) pairs as SQLite's median() computes it: the middle value, or the mean of the two middle ones. */
function weightedMedian(pairs: { ms: number; n: number }[]): number | null {
  const total = pairs.reduce((sum, p) => sum + p.n, 0);
  if (total === 0) return null;
  const sorted = [...pairs].sort((x, y) => x.ms - y.ms);
  const at = (index: number) => {
    let seen = 0;
    for (const p of sorted) if ((seen += p.n) > index) return p.ms;
    return sorted.at(-1)!.ms;
  };
  return total % 2 ? at((total - 1) / 2) : (at(total / 2 - 1) + at(total / 2)) / 2;
}

/** The AFFECTED keys with the highest counts, ties by key. */
function top(counts: Map<string, number>): [string, number][] {
  return [...counts].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)).slice(0, AFFECTED);
}

export const EFFECTIVENESS_DEFINITION =
  "Per rule, over the scan series of the scope (like get_compliance_trends) and the last `days` days. A finding is one rule on one " +
  "workload and field; each stretch during which scans saw it is an interval. openNow: findings open after the newest succeeded scan. " +
  "opened: intervals opened by a scan started in the period (new findings and ones that came back). recurred: of those, intervals " +
  "of a finding that had been resolved before (it came back); recurrencePercent = recurred / opened. activeInPeriod: intervals open " +
  "at some point in the period (open now or resolved in it). resolved: findings whose newest interval a scan of the period resolved " +
  "and that are not open again (a finding resolved and back counts as open), split into byKubePolicyFix (Auto-Fix Efficiency's " +
  "attribution: a fix or approval listing the rule on that workload, applied after the last scan that still saw it and no later " +
  "than the start of the scan that saw it resolved, not rolled back) and otherwise (by resolution: fixed by hand or other tools, " +
  "exempted, excluded, workload-removed, rule-disabled); exempted repeats otherwiseBy.exempted (exempt findings are stored as " +
  "resolved 'exempted', not as open). timeToResolve: over every interval resolved in the period (recurring ones each time), " +
  "from the end of the scan that first saw it to the end of the scan that saw it gone: a resolution between two scans counts " +
  "up to the next scan, so the numbers are exact to the scan interval; median and p90 (linear interpolation), in hours. " +
  "medianOpenHours: median of how long the period's active intervals were open (until now for open ones). mostAffected: " +
  "the three namespaces with the most active intervals of the rule; mostAffectedWorkloads: the ten workloads with the most (over the rules listed). Rankings: mostFired by activeInPeriod; longestOpen by medianOpenHours " +
  "(candidates for training or auto-fix); neverFired: enabled rules with no active interval (candidates for review); highRecurrence " +
  "by recurred. null: no succeeded scan of the scope in the period.";

export interface RuleInfo {
  id: string;
  category: string;
  severity: string;
  enabled: boolean;
}

export interface RuleEffectiveness {
  ruleId: string;
  category: string;
  severity: string;
  /** False for a rule the configuration disables; null for one no longer in the catalogue. */
  enabled: boolean | null;
  openNow: number;
  opened: number;
  recurred: number;
  recurrencePercent: number | null;
  activeInPeriod: number;
  resolved: { total: number; byKubePolicyFix: number; otherwise: number; otherwiseBy: Record<OtherResolution, number> };
  exempted: number;
  timeToResolve: { resolutions: number; medianHours: number | null; p90Hours: number | null };
  medianOpenHours: number | null;
  mostAffected: { namespaces: { namespace: string; findings: number }[] };
}

export interface PolicyEffectiveness {
  scope: { cluster: string; namespace: string | null; scannedNamespaces: string[] | null };
  window: { days: number; from: string; to: string };
  category: string | null;
  scans: number;
  rules: RuleEffectiveness[];
  /** The workloads with the most intervals active in the period, over the rules listed. */
  mostAffectedWorkloads: AffectedWorkload[];
  ranking: {
    mostFired: { ruleId: string; activeInPeriod: number; opened: number; openNow: number }[];
    longestOpen: { ruleId: string; medianOpenHours: number; p90ResolveHours: number | null; openNow: number }[];
    neverFired: { ruleId: string; category: string; severity: string }[];
    highRecurrence: { ruleId: string; recurred: number; recurrencePercent: number | null }[];
  };
  definition: string;
}

export interface EffectivenessInput {
  cluster: string;
  namespace?: string | null;
  category?: string | null;
  days?: number;
  now?: number;
  /** The catalogue as the configuration sees it: categories, severities, and which rules could have fired. */
  rules: readonly RuleInfo[];
}

/** Policy effectiveness of a scope over the last `days` days; null when no succeeded scan covers it in that window. */
export function computePolicyEffectiveness(store: ScanStore, input: EffectivenessInput): PolicyEffectiveness | null {
  const days = input.days ?? DEFAULT_TREND_DAYS;
  const now = input.now ?? Date.now();
  const since = now - days * DAY_MS;
  const namespace = input.namespace ?? null;
  const category = input.category ?? null;
  const series = store.seriesFor(input.cluster, namespace, since);
  if (!series) return null;
  const scans = store.trendPoints(series, namespace ?? "", since).length;
  if (scans === 0) return null;

  const q = new EffectivenessStore(store.db);
  const catalogue = new Map(input.rules.map((r) => [r.id, r]));
  const byRule = new Map<string, RuleEffectiveness>();
  const ruleOf = (ruleId: string, category: string, severity = ""): RuleEffectiveness => {
    let r = byRule.get(ruleId);
    if (!r) {
      const known = catalogue.get(ruleId);
      r = {
        ruleId,
        category: known?.category ?? category,
        severity: known?.severity ?? severity,
        enabled: known ? known.enabled : null,
        openNow: 0,
        opened: 0,
        recurred: 0,
        recurrencePercent: null,
        activeInPeriod: 0,
        resolved: { total: 0, byKubePolicyFix: 0, otherwise: 0, otherwiseBy: Object.fromEntries(OTHER_RESOLUTIONS.map((k) => [k, 0])) as Record<OtherResolution, number> },
        exempted: 0,
        timeToResolve: { resolutions: 0, medianHours: null, p90Hours: null },
        medianOpenHours: null,
        mostAffected: { namespaces: [] },
      };
      byRule.set(ruleId, r);
    }
    if (!r.severity && severity) r.severity = severity;
    return r;
  };
  // Rows carry the category the finding was stored with; the catalogue's wins for known rules.
  for (const row of q.opened(series, namespace, since)) {
    const r = ruleOf(row.ruleId, row.category, row.severity);
    r.opened += row.opened;
    r.recurred += row.recurred;
  }
  for (const row of q.resolutionTimes(series, namespace, since)) {
    const r = ruleOf(row.ruleId, row.category);
    r.timeToResolve = { resolutions: row.resolutions, medianHours: hours(row.medianMs), p90Hours: hours(row.p90Ms) };
  }
  // The intervals active in the period: counts, time open, most affected namespaces.
  const namespaces = new Map<string, Map<string, number>>();
  for (const row of q.activeByNamespace(series, namespace, since)) {
    const r = ruleOf(row.ruleId, "");
    r.activeInPeriod += row.findings;
    const m = namespaces.get(row.ruleId) ?? namespaces.set(row.ruleId, new Map()).get(row.ruleId)!;
    m.set(row.namespace, row.findings);
  }
  for (const [ruleId, m] of namespaces) byRule.get(ruleId)!.mostAffected.namespaces = top(m).map(([ns, findings]) => ({ namespace: ns, findings }));
  const durations = new Map<string, { ms: number; n: number }[]>();
  for (const d of q.openDurations(series, namespace, since, now)) (durations.get(d.ruleId) ?? durations.set(d.ruleId, []).get(d.ruleId)!).push(d);
  for (const [ruleId, pairs] of durations) ruleOf(ruleId, "").medianOpenHours = hours(weightedMedian(pairs));
  // Open now and the resolutions' split: the rows Auto-Fix Efficiency counts.
  for (const row of new AutoFixStore(store.db).windowCounts(series, namespace, since)) {
    const r = ruleOf(row.ruleId, "", row.severity);
    if (row.state === "open") {
      r.openNow += row.count;
      continue;
    }
    r.resolved.total += row.count;
    r.resolved.byKubePolicyFix += row.autoFixed;
    const other = row.count - row.autoFixed;
    r.resolved.otherwise += other;
    const key = (OTHER_RESOLUTIONS as readonly string[]).includes(row.state) ? (row.state as OtherResolution) : "fixed";
    r.resolved.otherwiseBy[key] += other;
  }
  // Enabled rules of the catalogue that found nothing still get a row: zeros are an answer.
  for (const rule of input.rules) if (rule.enabled && !byRule.has(rule.id)) ruleOf(rule.id, rule.category, rule.severity);

  const rules = [...byRule.values()]
    .filter((r) => category === null || r.category === category)
    .map((r) => ({ ...r, exempted: r.resolved.otherwiseBy.exempted, recurrencePercent: percentOf(r.recurred, r.opened) }))
    .sort((a, b) => a.ruleId.localeCompare(b.ruleId));

  const fired = rules.filter((r) => r.activeInPeriod > 0);
  return {
    scope: { cluster: series.cluster, namespace, scannedNamespaces: scopeNamespaces(series.scope) },
    window: { days, from: iso(since), to: iso(now) },
    category,
    scans,
    rules,
    mostAffectedWorkloads: q.mostAffectedWorkloads(series, namespace, since, category === null ? null : rules.map((r) => r.ruleId), WORKLOADS_LISTED),
    ranking: {
      mostFired: [...fired]
        .sort((a, b) => b.activeInPeriod - a.activeInPeriod || b.openNow - a.openNow || a.ruleId.localeCompare(b.ruleId))
        .slice(0, RANKED)
        .map((r) => ({ ruleId: r.ruleId, activeInPeriod: r.activeInPeriod, opened: r.opened, openNow: r.openNow })),
      longestOpen: fired
        .filter((r) => r.medianOpenHours !== null)
        .sort((a, b) => b.medianOpenHours! - a.medianOpenHours! || b.openNow - a.openNow || a.ruleId.localeCompare(b.ruleId))
        .slice(0, RANKED)
        .map((r) => ({ ruleId: r.ruleId, medianOpenHours: r.medianOpenHours!, p90ResolveHours: r.timeToResolve.p90Hours, openNow: r.openNow })),
      neverFired: rules
        .filter((r) => r.enabled === true && r.activeInPeriod === 0 && r.opened === 0 && r.openNow === 0)
        .map((r) => ({ ruleId: r.ruleId, category: r.category, severity: r.severity })),
      highRecurrence: rules
        .filter((r) => r.recurred > 0)
        .sort((a, b) => b.recurred - a.recurred || (b.recurrencePercent ?? 0) - (a.recurrencePercent ?? 0) || a.ruleId.localeCompare(b.ruleId))
        .slice(0, RANKED)
        .map((r) => ({ ruleId: r.ruleId, recurred: r.recurred, recurrencePercent: r.recurrencePercent })),
    },
    definition: EFFECTIVENESS_DEFINITION,
  };
}

/** A readable summary (CLI text, MCP text content). */
export function renderEffectivenessText(e: PolicyEffectiveness): string {
  const scope = e.scope.namespace ? `namespace ${e.scope.namespace}` : "the whole cluster";
  const lines = [
    `Policy effectiveness of ${scope} on ${e.scope.cluster}${e.category ? `, category ${e.category}` : ""}: last ${e.window.days} days (${e.window.from.slice(0, 10)} to ${e.window.to.slice(0, 10)}), ${e.scans} scan(s)`,
    "",
    "RULE  OPEN  OPENED  RESOLVED(FIX/OTHER)  EXEMPT  RECURRED  TTR-MEDIAN-H  TTR-P90-H  TOP-NAMESPACE",
  ];
  const h = (n: number | null) => (n === null ? "-" : String(n));
  for (const r of e.rules.filter((r) => r.activeInPeriod > 0)) {
    const w = r.mostAffected.namespaces[0];
    lines.push(
      `${r.ruleId}  ${r.openNow}  ${r.opened}  ${r.resolved.total}(${r.resolved.byKubePolicyFix}/${r.resolved.otherwise})  ${r.exempted}  ${r.recurred}  ${h(r.timeToResolve.medianHours)}  ${h(r.timeToResolve.p90Hours)}  ${w ? `${w.namespace} (${w.findings})` : "-"}`,
    );
  }
  lines.push("", "Most affected workloads: " + (e.mostAffectedWorkloads.map((w) => `${w.namespace}/${w.kind}/${w.name} (${w.findings} in ${w.rules} rule(s))`).join(", ") || "none"));
  lines.push("Fire most: " + (e.ranking.mostFired.map((r) => `${r.ruleId} (${r.activeInPeriod})`).join(", ") || "none"));
  lines.push("Stay open longest (median hours open): " + (e.ranking.longestOpen.map((r) => `${r.ruleId} (${r.medianOpenHours})`).join(", ") || "none"));
  lines.push("High recurrence: " + (e.ranking.highRecurrence.map((r) => `${r.ruleId} (${r.recurred})`).join(", ") || "none"));
  lines.push(`Never fired (${e.ranking.neverFired.length}): ` + (e.ranking.neverFired.map((r) => r.ruleId).join(", ") || "none"));
  return `${lines.join("\n")}\n`;
}

export function noEffectivenessData(cluster: string, namespace: string | null, days: number): string {
  const scope = namespace ? `namespace ${namespace}` : "the whole cluster";
  return `No stored scan of ${scope} on ${cluster} in the last ${days} days: run run_compliance_scan (or kube-policy scan, or configure scans) to start a history.\n`;
}
