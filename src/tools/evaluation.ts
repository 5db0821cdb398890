// Evaluation tools: one deployment (the product document's tool), any workload kind, or a manifest
// that is not deployed yet. All return the same JSON as `kube-policy eval --format json`.
import { z } from "zod";
import { ForbiddenError, InvalidInputError, type ErrorDetail } from "../errors.js";
import { parseManifestText } from "../manifests/load.js";
import { offlineInputs } from "../manifests/offline-context.js";
import { normaliseKind, WORKLOAD_KINDS, type WorkloadRef } from "../kube/source.js";
import type { WorkloadResult } from "../policy/evaluator.js";
import { buildReport, resourceName, type EvaluationReport } from "../report/evaluation.js";
import type { Runtime } from "../runtime.js";
import { defineTool } from "./types.js";
import { evaluationOutput } from "./schemas.js";

export type EvaluationOutput = EvaluationReport & {
  status: "pass" | "fail";
  autoFix: { available: number; needsApproval: number; manual: number };
};

export function withStatus(report: EvaluationReport): EvaluationOutput {
  const open = [...report.violations, ...report.warnings];
  return {
    ...report,
    status: report.passed ? "pass" : "fail",
    autoFix: {
      available: open.filter((f) => f.autoFixable).length,
      needsApproval: open.filter((f) => f.fix && !f.autoFixable).length,
      manual: open.filter((f) => !f.fix).length,
    },
  };
}

export function checkNamespace(runtime: Runtime, namespace: string): void {
  if (!runtime.namespaceAllowed(namespace)) {
    throw new ForbiddenError(`namespace ${JSON.stringify(namespace)} is not allowed by the policy configuration (namespaces.allow / namespaces.deny)`);
  }
}

/** Evaluates one workload of the runtime's source. */
export async function evaluateRef(runtime: Runtime, ref: WorkloadRef): Promise<{ result: WorkloadResult; output: EvaluationOutput }> {
  checkNamespace(runtime, ref.namespace);
  const workload = await runtime.source.getWorkload(ref);
  const result = { ...runtime.evaluator.evaluate(workload.input), ...(workload.source ? { source: workload.source } : {}) };
  return { result, output: withStatus(buildReport([result], { errors: workload.warnings })) };
}

/** The assistant-facing summary of an evaluation. */
export function summariseEvaluation(output: EvaluationOutput, subject: string): string {
  const s = output.summary;
  const severities = Object.entries(s.bySeverity)
    .filter(([, n]) => n > 0)
    .map(([sev, n]) => `${n} ${sev}`)
    .join(", ");
  const lines = [
    `${subject}: ${output.passed ? "PASS" : "FAIL"} — ${s.violations} violation(s), ${s.warnings} warning(s)${severities ? ` (${severities})` : ""}, ${s.exempt} exempt, ${s.notEvaluated} not evaluated.`,
    `Auto-fix: ${output.autoFix.available} can be fixed now, ${output.autoFix.needsApproval} need an approval, ${output.autoFix.manual} are manual.`,
  ];
  const open = [...output.violations, ...output.warnings];
  for (const f of open.slice(0, 25)) {
    lines.push(`- [${f.severity}] ${f.ruleId} (${f.outcome}) ${resourceName(f.resource)}: ${f.message}${f.fix ? ` — fix: ${f.autoFixable ? "auto" : "needs approval"}` : ""}`);
  }
  if (open.length > 25) lines.push(`- … and ${open.length - 25} more (see structured content)`);
  for (const f of output.notEvaluated.slice(0, 10)) lines.push(`- not evaluated: ${f.ruleId}: ${f.message}`);
  for (const e of output.errors) lines.push(`- could not check: ${e.where ? `${e.where}: ` : ""}${e.message}`);
  return lines.join("\n");
}

const namespace = z.string().min(1).max(253).describe("Namespace of the workload");

export const evaluateDeploymentPolicies = defineTool({
  name: "evaluate_deployment_policies",
  title: "Evaluate a deployment against all enabled policies",
  description:
    "Evaluates one Deployment against every enabled policy rule (security, compliance, performance, cost, operations). " +
    "Returns pass/fail, the violation list with severities and field paths, a severity breakdown and which violations can be fixed automatically.",
  inputSchema: {
    namespace,
    deployment: z.string().min(1).max(253).describe("Name of the Deployment"),
  },
  outputSchema: evaluationOutput,
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  async handler(args, ctx) {
    const { output } = await evaluateRef(ctx.runtime, { namespace: args.namespace, kind: "Deployment", name: args.deployment });
    return { structured: output, text: summariseEvaluation(output, `Deployment ${args.namespace}/${args.deployment}`) };
  },
});

export const evaluateWorkload = defineTool({
  name: "evaluate_workload",
  title: "Evaluate any workload against all enabled policies",
  description: `Evaluates one workload of any kind (${WORKLOAD_KINDS.join(", ")}) against every enabled policy rule. Same output as evaluate_deployment_policies.`,
  inputSchema: {
    namespace,
    kind: z.string().min(1).describe(`Workload kind: ${WORKLOAD_KINDS.join(", ")} (plurals and kubectl short names accepted)`),
    name: z.string().min(1).max(253).describe("Name of the workload"),
  },
  outputSchema: evaluationOutput,
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  async handler(args, ctx) {
    const kind = normaliseKind(args.kind);
    if (!kind) {
      throw new InvalidInputError(`invalid arguments for evaluate_workload`, {
        details: [{ where: "kind", message: `${JSON.stringify(args.kind)} is not a workload kind (one of ${WORKLOAD_KINDS.join(", ")})` }],
      });
    }
    const { output } = await evaluateRef(ctx.runtime, { namespace: args.namespace, kind, name: args.name });
    return { structured: output, text: summariseEvaluation(output, `${kind} ${args.namespace}/${args.name}`) };
  },
});

export const evaluateManifest = defineTool({
  name: "evaluate_manifest",
  title: "Evaluate manifests that are not deployed yet",
  description:
    "Evaluates Kubernetes manifests given as YAML or JSON text (multi-document YAML and kind: List accepted) against every enabled policy rule, " +
    "without touching any cluster. NetworkPolicies, PodDisruptionBudgets, HPAs, ResourceQuotas, PVCs and StorageClasses in the same text count as facts; none given means none exist.",
  inputSchema: {
    yaml: z.string().min(1).max(2_000_000).describe("The manifests: YAML (several documents separated by ---) or JSON"),
  },
  outputSchema: evaluationOutput,
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  async handler(args, ctx) {
    const parsed = parseManifestText(args.yaml, "manifest");
    if (parsed.documents.length === 0) {
      throw new InvalidInputError("the manifest holds no Kubernetes object to evaluate", {
        details: parsed.errors.length > 0 ? parsed.errors : [{ where: "yaml", message: "no documents" }],
      });
    }
    const { inputs, skipped } = offlineInputs(parsed.documents);
    const errors: ErrorDetail[] = [...parsed.errors];
    const results = inputs.map(({ input, source }) => {
      const result = ctx.runtime.evaluator.evaluate(input);
      const ns = result.resource.namespace ?? "default";
      if (!ctx.runtime.namespaceAllowed(ns)) {
        errors.push({ where: source, message: `namespace ${JSON.stringify(ns)} is not allowed by the policy configuration` });
        return null;
      }
      return { ...result, source };
    });
    const kept = results.filter((r): r is NonNullable<typeof r> => r !== null);
    const output = withStatus(
      buildReport(kept, {
        skipped: skipped.map((s) => ({ ...s, reason: `${s.kind} is not a workload and not a fact any rule reads` })),
        errors,
      }),
    );
    return { structured: output, text: summariseEvaluation(output, `${kept.length} workload(s) from the manifest`) };
  },
});
