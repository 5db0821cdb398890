// Auto-Fix Efficiency from the scan history and the fix history (definition: report/autofix.ts,
// attribution: store/autofix-store.ts). The report, get_compliance_trends, the dashboard and /metrics all
// call computeAutoFixEfficiency, with the same series choice as the trend, so they show the same numbers.
import type { PolicyConfig } from "../config/types.js";
import { approvalReason } from "../policy/enforcement.js";
import type { CatalogueView } from "../policy/evaluator.js";
import { SEVERITIES, type Severity } from "../policy/types.js";
import { AUTOFIX_DEFINITION, OTHER_RESOLUTIONS, type AutoFixEfficiency, type FixAvailability, type OtherResolution } from "../report/autofix.js";
import { AutoFixStore } from "../store/autofix-store.js";
import { scopeNamespaces, type ScanStore, type SeriesRef } from "../store/scan-store.js";
import { DEFAULT_TREND_DAYS } from "./trends.js";

const DAY_MS = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const percentOf = (part: number, whole: number) => (whole === 0 ? null : Math.round((part / whole) * 1000) / 10);

export type Fixability = (ruleId: string, severity: string) => FixAvailability;

/**
 * Whether a rule's open findings can be fixed on request now: the rule is enabled and has a fix, and the
 * configuration lets that fix's risk through without an approval (policy/enforcement.ts approvalReason).
 */
export function fixabilityFor(catalogue: readonly CatalogueView[], config: PolicyConfig): Fixability {
  const rules = new Map(catalogue.map((r) => [r.id, r]));
  return (ruleId, severity) => {
    const rule = rules.get(ruleId);
    if (!rule || !rule.enabled || !rule.fixRisk) return "manual";
    const sev = (SEVERITIES as readonly string[]).includes(severity) ? (severity as Severity) : rule.severity;
    return approvalReason(rule, sev, rule.fixRisk, config) === null ? "auto" : "approval";
  };
}

export interface AutoFixInput {
  cluster: string;
  /** One namespace; null or omitted for the whole cluster. */
  namespace?: string | null;
  days?: number;
  now?: number;
  fixability: Fixability;
}

/**
 * Auto-Fix Efficiency of a scope over the last `days` days, from the series get_compliance_trends reads
 * for it; null when no succeeded scan covers the scope in that window ("no data").
 */
export function computeAutoFixEfficiency(store: ScanStore, input: AutoFixInput): AutoFixEfficiency | null {
  const days = input.days ?? DEFAULT_TREND_DAYS;
  const now = input.now ?? Date.now();
  const since = now - days * DAY_MS;
  const namespace = input.namespace ?? null;
  const series = store.seriesFor(input.cluster, namespace, since);
  if (!series) return null;
  return autoFixEfficiencyOfSeries(store, series, { namespace, days, now, fixability: input.fixability });
}

/** The same for a given series (/metrics: one per series). */
export function autoFixEfficiencyOfSeries(
  store: ScanStore,
  series: SeriesRef,
  input: { namespace: string | null; days: number; now: number; fixability: Fixability },
): AutoFixEfficiency {
  const { namespace, days, now, fixability } = input;
  const since = now - days * DAY_MS;
  const queries = new AutoFixStore(store.db);
  const rows = queries.windowCounts(series, namespace, since);

  const resolvedOtherwiseBy = Object.fromEntries(OTHER_RESOLUTIONS.map((r) => [r, 0])) as Record<OtherResolution, number>;
  let violations = 0;
  let autoRemediated = 0;
  let stillOpen = 0;
  const headroom = { open: 0, autoFixable: 0, needsApproval: 0, manual: 0 };
  const fixableRules = new Map<string, { ruleId: string; severity: string; open: number }>();
  for (const row of rows) {
    violations += row.count;
    if (row.state === "open") {
      stillOpen += row.count;
      headroom.open += row.count;
      const availability = fixability(row.ruleId, row.severity);
      if (availability === "auto") {
        headroom.autoFixable += row.count;
        const key = `${row.ruleId}\u0000${row.severity}`;
        const r = fixableRules.get(key) ?? fixableRules.set(key, { ruleId: row.ruleId, severity: row.severity, open: 0 }).get(key)!;
        r.open += row.count;
      } else if (availability === "approval") headroom.needsApproval += row.count;
      else headroom.manual += row.count;
      continue;
    }
    autoRemediated += row.autoFixed;
    const other = row.count - row.autoFixed;
    // A resolution this version does not know is still a resolution: counted with "fixed" elsewhere.
    const key = (OTHER_RESOLUTIONS as readonly string[]).includes(row.state) ? (row.state as OtherResolution) : "fixed";
    resolvedOtherwiseBy[key] += other;
  }
  const resolvedOtherwise = violations - autoRemediated - stillOpen;
  const ratio = violations === 0 ? null : Math.round((autoRemediated / violations) * 10_000) / 10_000;
  const namespaces = namespace !== null ? [namespace] : scopeNamespaces(series.scope);
  return {
    scope: { cluster: series.cluster, namespace, scannedNamespaces: scopeNamespaces(series.scope) },
    window: { days, from: iso(since), to: iso(now) },
    violations,
    autoRemediated,
    resolvedOtherwise,
    resolvedOtherwiseBy,
    stillOpen,
    percent: percentOf(autoRemediated, violations),
    ratio,
    ofResolvedPercent: percentOf(autoRemediated, autoRemediated + resolvedOtherwise),
    fixes: queries.appliedChanges(namespaces, since, now),
    headroom: {
      ...headroom,
      percent: percentOf(headroom.autoFixable, headroom.open),
      rules: [...fixableRules.values()].sort((a, b) => b.open - a.open || a.ruleId.localeCompare(b.ruleId)),
    },
    definition: AUTOFIX_DEFINITION,
  };
}
