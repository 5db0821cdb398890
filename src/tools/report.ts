// generate_compliance_report: the whole cluster or one namespace, rule by rule and control by control.
import { z } from "zod";
import { buildComplianceReport, renderComplianceText } from "../report/compliance.js";
import { checkNamespace } from "./evaluation.js";
import { complianceReportOutput } from "./schemas.js";
import { defineTool } from "./types.js";

export const generateComplianceReport = defineTool({
  name: "generate_compliance_report",
  title: "Generate a compliance report",
  description:
    "Evaluates every workload of one namespace or of the whole cluster and reports overall compliance (rules passed / rules evaluated), " +
    "violations by severity and category, per-framework control status for the organisation's frameworks (SOC2, ISO27001, ...), " +
    "recommendations and how many violations can be fixed automatically. Sends progress notifications while it works.",
  inputSchema: {
    namespace: z.string().min(1).max(253).optional().describe("Only this namespace; omit for the whole cluster"),
  },
  outputSchema: complianceReportOutput,
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  async handler(args, ctx) {
    const { runtime } = ctx;
    if (args.namespace) checkNamespace(runtime, args.namespace);
    const collection = await runtime.source.collect({
      namespace: args.namespace,
      namespaceAllowed: (ns) => runtime.namespaceAllowed(ns),
    });
    const evaluator = runtime.evaluator;
    const total = collection.workloads.length;
    const results = [];
    for (const [i, workload] of collection.workloads.entries()) {
      results.push(evaluator.evaluate(workload.input));
      if (ctx.progress && (i % 50 === 49 || i === total - 1)) await ctx.progress(i + 1, total, `evaluated ${i + 1} of ${total} workloads`);
      if (ctx.signal?.aborted) throw ctx.signal.reason ?? new Error("cancelled");
    }
    const report = buildComplianceReport({
      results,
      catalogue: evaluator.catalogue(),
      config: runtime.config,
      cluster: runtime.source.clusterName,
      namespace: args.namespace,
      namespaces: collection.namespaces,
      warnings: collection.warnings,
    });
    return { structured: report, text: renderComplianceText(report) };
  },
});
