// Summaries and renderings of evaluation results, shared by the CLI, MCP and HTTP doors.
import type { ErrorDetail } from "../errors.js";
import type { WorkloadResult } from "../policy/evaluator.js";
import { SEVERITIES, type Finding, type Severity } from "../policy/types.js";

export interface EvaluationSummary {
  workloads: number;
  passed: number;
  failed: number;
  skipped: number;
  violations: number;
  warnings: number;
  exempt: number;
  notEvaluated: number;
  /** Violations and warnings per severity. */
  bySeverity: Record<Severity, number>;
  /** Violations and warnings whose fix may be applied without an approval. */
  autoFixable: number;
  /** Violations and warnings that have a fix (some need an approval). */
  fixable: number;
}

export interface EvaluationReport {
  passed: boolean;
  violations: Finding[];
  warnings: Finding[];
  exempt: Finding[];
  notEvaluated: Finding[];
  summary: EvaluationSummary;
  workloads: { resource: WorkloadResult["resource"]; passed: boolean; source?: string; skipped?: string }[];
  skipped: { source: string; kind: string; name: string; reason: string }[];
  errors: ErrorDetail[];
}

export function buildReport(
  results: (WorkloadResult & { source?: string })[],
  extra: { skipped?: EvaluationReport["skipped"]; errors?: ErrorDetail[] } = {},
): EvaluationReport {
  const all = results.flatMap((r) => r.findings);
  const pick = (outcome: Finding["outcome"]) => all.filter((f) => f.outcome === outcome);
  const open = all.filter((f) => f.outcome === "violation" || f.outcome === "warning");
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, open.filter((f) => f.severity === s).length])) as Record<Severity, number>;
  const evaluated = results.filter((r) => !r.skipped);
  const report: EvaluationReport = {
    passed: evaluated.every((r) => r.passed),
    violations: pick("violation"),
    warnings: pick("warning"),
    exempt: pick("exempt"),
    notEvaluated: pick("not-evaluated"),
    summary: {
      workloads: evaluated.length,
      passed: evaluated.filter((r) => r.passed).length,
      failed: evaluated.filter((r) => !r.passed).length,
      skipped: results.length - evaluated.length + (extra.skipped?.length ?? 0),
      violations: pick("violation").length,
      warnings: pick("warning").length,
      exempt: pick("exempt").length,
      notEvaluated: pick("not-evaluated").length,
      bySeverity,
      autoFixable: open.filter((f) => f.autoFixable).length,
      fixable: open.filter((f) => f.fix !== null).length,
    },
    workloads: results.map((r) => ({
      resource: r.resource,
      passed: r.passed,
      ...(r.source ? { source: r.source } : {}),
      ...(r.skipped ? { skipped: r.skipped } : {}),
    })),
    skipped: extra.skipped ?? [],
    errors: extra.errors ?? [],
  };
  return report;
}

const SEVERITY_MARK: Record<Severity, string> = { critical: "CRITICAL", high: "HIGH", medium: "MEDIUM", low: "LOW" };
const OUTCOME_MARK: Record<Finding["outcome"], string> = {
  violation: "✗",
  warning: "!",
  exempt: "~",
  "not-evaluated": "?",
};

export function resourceName(r: Finding["resource"]): string {
  return `${r.kind} ${r.namespace ? `${r.namespace}/` : ""}${r.name}`;
}

/** A terminal rendering: one block per workload, its findings most severe first, then the summary. */
export function renderText(report: EvaluationReport, results: (WorkloadResult & { source?: string })[]): string {
  const lines: string[] = [];
  const order = (f: Finding) => SEVERITIES.indexOf(f.severity) + (f.outcome === "violation" ? 0 : 10) + (f.outcome === "not-evaluated" ? 20 : 0);
  for (const result of results) {
    const name = resourceName(result.resource);
    if (result.skipped) {
      lines.push(`- ${name}: skipped (${result.skipped})`);
      continue;
    }
    const counts = (o: Finding["outcome"]) => result.findings.filter((f) => f.outcome === o).length;
    lines.push(
      `${result.passed ? "PASS" : "FAIL"} ${name}${result.source ? `  (${result.source})` : ""}: ${counts("violation")} violation(s), ${counts("warning")} warning(s)` +
        (counts("exempt") ? `, ${counts("exempt")} exempt` : "") +
        (counts("not-evaluated") ? `, ${counts("not-evaluated")} not evaluated` : ""),
    );
    for (const f of [...result.findings].sort((a, b) => order(a) - order(b))) {
      lines.push(`  ${OUTCOME_MARK[f.outcome]} [${SEVERITY_MARK[f.severity]}] ${f.ruleId}: ${f.message}`);
      if (f.path) lines.push(`      field: ${f.path}`);
      if (f.outcome === "violation" || f.outcome === "warning") {
        lines.push(`      fix: ${f.fix ? `${f.autoFixable ? "auto-fixable" : "needs approval"} (${f.fix.risk} risk)` : "manual"} — ${f.remediation}`);
      }
      if (f.reason && f.outcome !== "not-evaluated" && (f.outcome === "exempt" || !f.fix)) lines.push(`      note: ${f.reason}`);
    }
  }
  for (const s of report.skipped) lines.push(`- ${s.kind} ${s.name} (${s.source}): skipped, ${s.reason}`);
  for (const e of report.errors) lines.push(`error: ${e.where ? `${e.where}: ` : ""}${e.message}`);
  const s = report.summary;
  lines.push(
    "",
    `${s.workloads} workload(s) evaluated: ${s.passed} passed, ${s.failed} failed${s.skipped ? `, ${s.skipped} skipped` : ""}`,
    `violations: ${s.violations}, warnings: ${s.warnings}, exempt: ${s.exempt}, not evaluated: ${s.notEvaluated}`,
    `by severity: ${SEVERITIES.map((sev) => `${sev} ${s.bySeverity[sev]}`).join(", ")}`,
    `fixes: ${s.autoFixable} auto-fixable, ${s.fixable - s.autoFixable} need approval`,
  );
  return `${lines.join("\n")}\n`;
}
