// generate_compliance_report: the whole cluster or one namespace, rule by rule and control by control,
// with the trend of the scan history when there is one. complianceReportData() is the same evaluation
// for the other doors (`kube-policy report`, GET /reports/compliance), which render it in other formats.
import { z } from "zod";
import { toAppError } from "../errors.js";
import { buildComplianceReport, renderComplianceText } from "../report/compliance.js";
import type { ReportInput } from "../report/formats/index.js";
import type { Runtime } from "../runtime.js";
import { existingScanStore } from "../scans/scan.js";
import { computeAutoFixEfficiency, fixabilityFor } from "../scans/autofix.js";
import { computeTrend } from "../scans/trends.js";
import { checkNamespace } from "./evaluation.js";
import { exemptionSummary, listExemptions } from "../report/exemptions.js";
import { complianceReportOutput } from "./schemas.js";
import { defineTool, type ToolContext } from "./types.js";

/** The report with the per-workload results (and where each came from) that SARIF and JUnit need. */
export type ComplianceReportData = ReportInput;

/** Evaluates the scope live and attaches the stored trend of the same scope. */
export async function complianceReportData(
  runtime: Runtime,
  args: { namespace?: string },
  ctx: Pick<ToolContext, "progress" | "signal"> = {},
): Promise<ComplianceReportData> {
  if (args.namespace) checkNamespace(runtime, args.namespace);
  const collection = await runtime.source.collect({
    namespace: args.namespace,
    namespaceAllowed: (ns) => runtime.namespaceAllowed(ns),
  });
  const evaluator = runtime.evaluator;
  const total = collection.workloads.length;
  const results: ComplianceReportData["results"] = [];
  // A first notification once the workloads are known: clients see progress start before the answer.
  if (ctx.progress) await ctx.progress(0, total, `collected ${total} workloads in ${collection.namespaces.length} namespace(s)`);
  for (const [i, workload] of collection.workloads.entries()) {
    const result = evaluator.evaluate(workload.input);
    results.push(workload.source ? { ...result, source: workload.source } : result);
    if (ctx.progress && (i % 50 === 49 || i === total - 1)) await ctx.progress(i + 1, total, `evaluated ${i + 1} of ${total} workloads`);
    if (ctx.signal?.aborted) throw ctx.signal.reason ?? new Error("cancelled");
  }
  const catalogue = evaluator.catalogue();
  const report = buildComplianceReport({
    results,
    catalogue,
    config: runtime.config,
    cluster: runtime.source.clusterName,
    namespace: args.namespace,
    namespaces: collection.namespaces,
    warnings: collection.warnings,
  });
  // The same listing as list_exemptions, over the same workloads and results.
  report.exemptions = exemptionSummary(
    listExemptions({
      config: evaluator.config,
      catalogue: evaluator.bundle.catalogue,
      workloads: collection.workloads,
      results,
      namespaceAllowed: (ns) => runtime.namespaceAllowed(ns),
      filter: args.namespace ? { namespace: args.namespace } : {},
    }),
  );
  try {
    // A history that cannot be read costs the report its trend, not the report.
    const store = existingScanStore(runtime);
    report.trend = store ? computeTrend(store, { cluster: runtime.source.clusterName, namespace: args.namespace ?? null }) : null;
    report.autoFixEfficiency = store
      ? computeAutoFixEfficiency(store, { cluster: runtime.source.clusterName, namespace: args.namespace ?? null, fixability: fixabilityFor(catalogue, runtime.config) })
      : null;
  } catch (error) {
    report.warnings.push({ where: "trend", message: `the scan history could not be read: ${toAppError(error).message}` });
  }
  return { report, results, catalogue };
}

export const generateComplianceReport = defineTool({
  name: "generate_compliance_report",
  title: "Generate a compliance report",
  description:
    "Evaluates every workload of one namespace or of the whole cluster and reports overall compliance (rules passed / rules evaluated), " +
    "violations by severity and category, per-framework control status for the organisation's frameworks (SOC2, ISO27001, ...), " +
    "recommendations and how many violations can be fixed automatically; with a trend section (score over time, new and resolved " +
    "violations, time to resolve) when scans of the same scope are stored, and Auto-Fix Efficiency over the same 30 days: of the violations " +
    "open at some point in the period, how many a fix applied by kube-policy (same workload and rule, applied after the last scan that still " +
    "saw the violation and before the scan that saw it resolved, not rolled back) remediated, how many were resolved otherwise and how many " +
    "are still open, plus how many open ones are auto-fixable under the current configuration (null: no scan history, i.e. no data). " +
    "Sends progress notifications while it works.",
  inputSchema: {
    namespace: z.string().min(1).max(253).optional().describe("Only this namespace; omit for the whole cluster"),
  },
  outputSchema: complianceReportOutput,
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  async handler(args, ctx) {
    const { report } = await complianceReportData(ctx.runtime, args, ctx);
    return { structured: report, text: renderComplianceText(report) };
  },
});
