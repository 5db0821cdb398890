// Auto-Fix Efficiency, the product document's fifth dashboard metric: of the violations open at some point
// in a period, how many kube-policy's own fixes remediated. Computed from the scan history and the fix
// history by scans/autofix.ts; this module is the shape, the definition and the text rendering, so
// report/ needs no store.

/** Whether a rule's findings can be fixed on request under the current configuration. */
export type FixAvailability = "auto" | "approval" | "manual";

/** How a violation open in the period was resolved when kube-policy's fix does not account for it. */
export const OTHER_RESOLUTIONS = ["fixed", "exempted", "excluded", "workload-removed", "rule-disabled"] as const;
export type OtherResolution = (typeof OTHER_RESOLUTIONS)[number];

export const AUTOFIX_DEFINITION =
  "Auto-Fix Efficiency: of the violations (findings: violations and warnings, one per rule, workload and field) open at some point in the period, " +
  "the share remediated by a fix kube-policy applied. A violation counts once, in the state its newest open interval ended in: still open, " +
  "auto-remediated, or resolved otherwise (changed by hand or by other tools, exempted, namespace excluded, workload removed, rule disabled). " +
  "A resolution counts as auto-remediated when a change of the fix history (auto_fix_policy_violations, fix_workload, approve_fix) " +
  "on the same workload lists the finding's rule, was applied after the last scan that still saw the finding started and no later than " +
  "the start of the scan that saw it resolved, and has not been rolled back. A rolled-back fix never counts. " +
  "Headroom: the violations open now whose rule has a fix the configuration lets kube-policy apply without an approval.";

export interface AutoFixEfficiency {
  scope: {
    cluster: string;
    namespace: string | null;
    /** The scan series the history comes from: null = whole-cluster scans, else the namespaces they covered. */
    scannedNamespaces: string[] | null;
  };
  window: { days: number; from: string; to: string };
  /** Violations open at some point in the window. */
  violations: number;
  autoRemediated: number;
  resolvedOtherwise: number;
  resolvedOtherwiseBy: Record<OtherResolution, number>;
  stillOpen: number;
  /** autoRemediated / violations in percent (one decimal); null when no violation was open in the window. */
  percent: number | null;
  /** The same from 0 to 1 (four decimals), as /metrics exposes it. */
  ratio: number | null;
  /** autoRemediated / (autoRemediated + resolvedOtherwise) in percent: the share of resolutions kube-policy made. */
  ofResolvedPercent: number | null;
  /** Changes kube-policy applied in the window to workloads in scope, and how many were rolled back since. */
  fixes: { applied: number; rolledBack: number };
  /** What is open now and could be fixed on request under the current configuration. */
  headroom: {
    open: number;
    autoFixable: number;
    needsApproval: number;
    manual: number;
    /** autoFixable / open in percent; null with nothing open. */
    percent: number | null;
    /** The auto-fixable open violations per rule, most first. */
    rules: { ruleId: string; severity: string; open: number }[];
  };
  definition: string;
}

const RESOLUTION_LABEL: Record<OtherResolution, string> = {
  fixed: "fixed outside kube-policy",
  exempted: "exempted",
  excluded: "namespace excluded",
  "workload-removed": "workload removed",
  "rule-disabled": "rule disabled",
};

const pct = (n: number | null) => (n === null ? "n/a" : `${n}%`);

/** One line for cards and summaries: "40% (2 of 5)" or "no data". */
export function autoFixHeadline(e: AutoFixEfficiency | null): string {
  if (!e || e.percent === null) return "no data";
  return `${pct(e.percent)} (${e.autoRemediated} of ${e.violations})`;
}

/** What resolved the violations kube-policy did not: "1 fixed outside kube-policy, 1 exempted". */
export function otherResolutionsText(e: AutoFixEfficiency): string {
  return OTHER_RESOLUTIONS.filter((r) => e.resolvedOtherwiseBy[r] > 0)
    .map((r) => `${e.resolvedOtherwiseBy[r]} ${RESOLUTION_LABEL[r]}`)
    .join(", ");
}

/**
 * The report's "Auto-Fix Efficiency" section. `e` null: no scan history of the scope in the period,
 * which is "no data", never 0%.
 */
export function renderAutoFixText(e: AutoFixEfficiency | null, options: { days: number }): string[] {
  if (!e) return [`Auto-Fix Efficiency (last ${options.days} days): no data (no stored scan of this scope in the period)`];
  const lines = [`Auto-Fix Efficiency (last ${e.window.days} days): ${e.percent === null ? "no data (no violation was open in the period)" : `${pct(e.percent)} auto-remediated`}`];
  if (e.violations > 0) {
    const others = otherResolutionsText(e);
    lines.push(
      `- Violations open in the period: ${e.violations}: ${e.autoRemediated} auto-remediated, ${e.resolvedOtherwise} resolved otherwise${others ? ` (${others})` : ""}, ${e.stillOpen} still open`,
    );
  }
  if (e.fixes.applied > 0) lines.push(`- Fixes applied by kube-policy: ${e.fixes.applied}${e.fixes.rolledBack ? ` (${e.fixes.rolledBack} rolled back, not counted)` : ""}`);
  const h = e.headroom;
  if (h.open > 0) {
    lines.push(
      `- Headroom: ${h.autoFixable} of ${h.open} open violation(s) auto-fixable now (${pct(h.percent)}); ${h.needsApproval} need an approval, ${h.manual} have no automatic fix`,
    );
    if (h.rules.length > 0) lines.push(`  🔧 ${h.rules.slice(0, 5).map((r) => `${r.ruleId} (${r.open})`).join(", ")}`);
  }
  return lines;
}
