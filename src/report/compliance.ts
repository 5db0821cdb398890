// The compliance report: rule-level pass/fail over the workloads in scope, the frameworks the
// organisation follows control by control, recommendations, and the product document's text layout.
import type { PolicyConfig } from "../config/types.js";
import type { ErrorDetail } from "../errors.js";
import type { CatalogueView, WorkloadResult } from "../policy/evaluator.js";
import { CATEGORIES, SEVERITIES, type Category, type Finding, type Severity } from "../policy/types.js";
import { renderAutoFixText, type AutoFixEfficiency } from "./autofix.js";
import { renderTrendText, type ComplianceTrend } from "./trend.js";
import { renderExemptionSummaryText, type ExemptionSummary } from "./exemptions.js";

export type RuleStatus = "passed" | "failed" | "not-evaluated";

export interface RuleOutcome {
  id: string;
  title: string;
  category: Category;
  severity: Severity;
  status: RuleStatus;
  /** Workloads the rule failed on (violations and warnings), and findings counted. */
  failedWorkloads: number;
  findings: number;
  exempt: number;
  autoFixable: number;
  remediation: string;
}

export interface FrameworkReport {
  framework: string;
  percent: number | null;
  controls: { control: string; status: RuleStatus; rules: { id: string; status: RuleStatus }[] }[];
}

export interface ComplianceReport {
  generated: string;
  cluster: string;
  scope: { namespace: string | null; namespaces: string[] };
  compliance: { percent: number | null; rulesEvaluated: number; rulesPassed: number; rulesFailed: number; rulesNotEvaluated: number };
  workloads: { evaluated: number; passed: number; failed: number; skipped: number };
  /** Failing rules per severity (the sample report's "Violations by Severity"). */
  failedRulesBySeverity: Record<Severity, number>;
  /** Open findings (violations and warnings) per severity and per category. */
  findingsBySeverity: Record<Severity, number>;
  findingsByCategory: Record<Category, number>;
  frameworks: FrameworkReport[];
  recommendations: { category: Category | "auto-fix"; message: string; rules: string[] }[];
  autoFixable: number;
  rules: RuleOutcome[];
  topFailingWorkloads: { resource: Finding["resource"]; violations: number; warnings: number }[];
  warnings: ErrorDetail[];
  /** The scan history of this scope (scans/trends.ts), when there is one. */
  trend: ComplianceTrend | null;
  /** Auto-Fix Efficiency over the trend's period (scans/autofix.ts); null: no stored scan of this scope in it ("no data"). */
  autoFixEfficiency: AutoFixEfficiency | null;
  /** Exception management (report/exemptions.ts): exemptions by status, the ones expiring soon; set by the doors that know the workloads. */
  exemptions?: ExemptionSummary;
}

const percentOf = (passed: number, total: number) => (total === 0 ? null : Math.round((passed / total) * 100));
const zero = <K extends string>(keys: readonly K[]) => Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

const worst = (statuses: RuleStatus[]): RuleStatus =>
  statuses.includes("failed") ? "failed" : statuses.includes("passed") ? "passed" : "not-evaluated";

export function buildComplianceReport(input: {
  results: WorkloadResult[];
  catalogue: CatalogueView[];
  config: PolicyConfig;
  cluster: string;
  namespace?: string;
  namespaces: string[];
  warnings: ErrorDetail[];
  now?: Date;
}): ComplianceReport {
  const evaluated = input.results.filter((r) => !r.skipped);
  const enabled = input.catalogue.filter((r) => r.enabled);
  const byRule = new Map<string, Finding[]>();
  for (const result of evaluated) {
    for (const f of result.findings) {
      // push, not spread: copying the list per finding was quadratic in the findings of one rule.
      const list = byRule.get(f.ruleId);
      if (list) list.push(f);
      else byRule.set(f.ruleId, [f]);
    }
  }

  const rules: RuleOutcome[] = enabled.map((rule) => {
    const findings = byRule.get(rule.id) ?? [];
    const open = findings.filter((f) => f.outcome === "violation" || f.outcome === "warning");
    const notEvaluatedWorkloads = new Set(findings.filter((f) => f.outcome === "not-evaluated").map((f) => key(f.resource)));
    const status: RuleStatus =
      open.length > 0 ? "failed" : evaluated.length > 0 && notEvaluatedWorkloads.size < evaluated.length ? "passed" : "not-evaluated";
    return {
      id: rule.id,
      title: rule.title,
      category: rule.category,
      severity: rule.effectiveSeverity as Severity,
      status,
      failedWorkloads: new Set(open.map((f) => key(f.resource))).size,
      findings: open.length,
      exempt: findings.filter((f) => f.outcome === "exempt").length,
      autoFixable: open.filter((f) => f.autoFixable).length,
      remediation: rule.remediation,
    };
  });
  const status = new Map(rules.map((r) => [r.id, r.status]));
  const failed = rules.filter((r) => r.status === "failed");
  const passed = rules.filter((r) => r.status === "passed");
  const open = evaluated.flatMap((r) => r.findings).filter((f) => f.outcome === "violation" || f.outcome === "warning");

  const frameworks: FrameworkReport[] = (input.config.organization?.compliance ?? []).map((framework) => {
    const controls = new Map<string, { id: string; status: RuleStatus }[]>();
    for (const rule of enabled) {
      for (const control of rule.frameworks[framework] ?? []) {
        controls.set(control, [...(controls.get(control) ?? []), { id: rule.id, status: status.get(rule.id) ?? "not-evaluated" }]);
      }
    }
    const list = [...controls.entries()]
      .sort(([a], [b]) => a.localeCompare(b, "en", { numeric: true }))
      .map(([control, rs]) => ({ control, status: worst(rs.map((r) => r.status)), rules: rs }));
    const judged = list.filter((c) => c.status !== "not-evaluated");
    return { framework, percent: percentOf(judged.filter((c) => c.status === "passed").length, judged.length), controls: list };
  });

  const recommendations: ComplianceReport["recommendations"] = [];
  for (const category of CATEGORIES) {
    const failing = failed.filter((r) => r.category === category).sort((a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity));
    if (failing.length === 0) continue;
    const top = failing[0]!;
    recommendations.push({
      category,
      message: `${failing.length} rule(s) failing; start with ${top.id} (${top.severity}, ${top.failedWorkloads} workload(s)): ${top.remediation}`,
      rules: failing.map((r) => r.id),
    });
  }
  const autoFixable = open.filter((f) => f.autoFixable).length;
  if (autoFixable > 0) {
    recommendations.push({ category: "auto-fix", message: `${autoFixable} violation(s) can be automatically fixed`, rules: [...new Set(open.filter((f) => f.autoFixable).map((f) => f.ruleId))] });
  }

  const failedRulesBySeverity = zero(SEVERITIES);
  for (const r of failed) failedRulesBySeverity[r.severity]++;
  const findingsBySeverity = zero(SEVERITIES);
  const findingsByCategory = zero(CATEGORIES);
  for (const f of open) {
    findingsBySeverity[f.severity]++;
    findingsByCategory[f.category]++;
  }
  const topFailingWorkloads = evaluated
    .map((r) => ({
      resource: r.resource,
      violations: r.findings.filter((f) => f.outcome === "violation").length,
      warnings: r.findings.filter((f) => f.outcome === "warning").length,
    }))
    .filter((w) => w.violations + w.warnings > 0)
    .sort((a, b) => b.violations - a.violations || b.warnings - a.warnings)
    .slice(0, 10);

  return {
    generated: (input.now ?? new Date()).toISOString(),
    cluster: input.cluster,
    scope: { namespace: input.namespace ?? null, namespaces: input.namespaces },
    compliance: {
      percent: percentOf(passed.length, passed.length + failed.length),
      rulesEvaluated: passed.length + failed.length,
      rulesPassed: passed.length,
      rulesFailed: failed.length,
      rulesNotEvaluated: rules.length - passed.length - failed.length,
    },
    workloads: {
      evaluated: evaluated.length,
      passed: evaluated.filter((r) => r.passed).length,
      failed: evaluated.filter((r) => !r.passed).length,
      skipped: input.results.length - evaluated.length,
    },
    failedRulesBySeverity,
    findingsBySeverity,
    findingsByCategory,
    frameworks,
    recommendations,
    autoFixable,
    rules,
    topFailingWorkloads,
    warnings: input.warnings,
    trend: null,
    autoFixEfficiency: null,
  };
}

function key(r: Finding["resource"]): string {
  return `${r.kind}/${r.namespace ?? ""}/${r.name}`;
}

const CATEGORY_LINE: Record<Category | "auto-fix", string> = {
  security: "🔒 Security",
  compliance: "📋 Compliance",
  performance: "📊 Resources",
  cost: "💰 Cost",
  operations: "⚙ Operations",
  "auto-fix": "🔧 Auto-fix",
};

/** The product document's sample layout. */
export function renderComplianceText(report: ComplianceReport): string {
  const c = report.compliance;
  const mark = c.percent === null ? "⚪" : c.percent >= 90 ? "🟢" : c.percent >= 70 ? "🟡" : "🔴";
  const scope = report.scope.namespace ? `${titleCase(report.scope.namespace)} Namespace` : "Cluster";
  const lines = [
    `📊 Compliance Report for ${scope}`,
    "",
    `Generated: ${report.generated.replace(/\.\d{3}Z$/, "Z")}`,
    `Cluster: ${report.cluster}`,
    `Overall Compliance: ${c.percent === null ? "n/a (no rule could be evaluated)" : `${c.percent}%`} ${mark}`,
    "",
    "Policy Evaluation Summary:",
    `- Total Rules Evaluated: ${c.rulesEvaluated}`,
    `- Rules Passed: ${c.rulesPassed} ✅`,
    `- Rules Failed: ${c.rulesFailed} ${c.rulesFailed > 0 ? "❌" : ""}`.trimEnd(),
  ];
  if (c.rulesNotEvaluated > 0) lines.push(`- Rules Not Evaluated: ${c.rulesNotEvaluated} (missing facts or permissions)`);
  lines.push(
    `- Workloads: ${report.workloads.evaluated} evaluated, ${report.workloads.passed} passed, ${report.workloads.failed} failed`,
    "",
    "Violations by Severity:",
    `- 🚨 CRITICAL: ${report.failedRulesBySeverity.critical}`,
    `- 🔴 HIGH: ${report.failedRulesBySeverity.high}`,
    `- 🟠 MEDIUM: ${report.failedRulesBySeverity.medium}`,
    `- 🟡 LOW: ${report.failedRulesBySeverity.low}`,
  );
  for (const framework of report.frameworks) {
    const failedControls = framework.controls.filter((control) => control.status === "failed");
    lines.push(
      "",
      `${framework.framework}: ${framework.percent === null ? "n/a" : `${framework.percent}%`} of controls passing (${framework.controls.length} controls mapped)`,
    );
    for (const control of failedControls.slice(0, 8)) {
      lines.push(`- ${control.control}: failing (${control.rules.filter((r) => r.status === "failed").map((r) => r.id).join(", ")})`);
    }
    if (failedControls.length > 8) lines.push(`- … and ${failedControls.length - 8} more failing control(s)`);
  }
  if (report.recommendations.length > 0) {
    lines.push("", "Recommendations:");
    for (const r of report.recommendations) lines.push(`${CATEGORY_LINE[r.category]}: ${r.message}`);
  }
  lines.push("", ...renderAutoFixText(report.autoFixEfficiency, { days: report.trend?.window.days ?? 30 }));
  if (report.exemptions) lines.push("", ...renderExemptionSummaryText(report.exemptions));
  if (report.trend) lines.push("", ...renderTrendText(report.trend, { frameworks: report.frameworks.map((f) => f.framework) }));
  if (report.warnings.length > 0) {
    lines.push("", "Could not check everything:");
    for (const w of report.warnings) lines.push(`- ${w.where ? `${w.where}: ` : ""}${w.message}`);
  }
  return `${lines.join("\n")}\n`;
}

function titleCase(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
