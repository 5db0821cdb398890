// test_policy_rule: compile one custom rule (JSON, or a Rego module) with the built-in catalogue and run it
// on a sample manifest, so an assistant can help a platform team write and check rules.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import type { CustomRuleJson } from "../config/types.js";
import { InvalidInputError, PolicyCompileError } from "../errors.js";
import { parseManifestText } from "../manifests/load.js";
import { offlineInputs } from "../manifests/offline-context.js";
import { PolicyBundle } from "../policy/bundle.js";
import { compileCustomRules, loadCustomRules } from "../policy/custom/compile.js";
import { PolicyEvaluator } from "../policy/evaluator.js";
import { buildReport } from "../report/evaluation.js";
import { findingSchema } from "./schemas.js";
import { defineTool } from "./types.js";

export const testPolicyRule = defineTool({
  name: "test_policy_rule",
  title: "Test a custom policy rule on a sample manifest",
  description:
    "Compiles one custom rule — a JSON rule in the customRules format ({id, name, severity, category, conditions: [{field, operator, value}], actions: [{type: deny|warn, message}]}) " +
    "or a Rego module (package kubepolicy.custom.<name> with a METADATA block) — together with the built-in rules, evaluates the sample manifest, " +
    "and returns that rule's findings and the generated Rego. Nothing is saved.",
  inputSchema: {
    rule: z.union([z.record(z.unknown()), z.string().min(1)]).describe("The rule: a JSON object (customRules format) or Rego source text"),
    manifest: z.string().min(1).max(1_000_000).describe("Sample Kubernetes manifests (YAML or JSON) to evaluate the rule on"),
  },
  outputSchema: {
    ruleId: z.string(),
    findings: z.array(findingSchema),
    passed: z.boolean().describe("True when the rule found no violation or warning in the manifest"),
    workloads: z.number(),
    generatedRego: z.string().nullable(),
    errors: z.array(z.object({ where: z.string().optional(), message: z.string() })),
  },
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  async handler(args, ctx) {
    const parsed = parseManifestText(args.manifest, "manifest");
    if (parsed.documents.length === 0) {
      throw new InvalidInputError("the sample manifest holds no Kubernetes object", { details: parsed.errors });
    }
    const builtIn = await PolicyBundle.load();
    const work = await mkdtemp(path.join(os.tmpdir(), "kube-policy-rule-"));
    try {
      let set;
      if (typeof args.rule === "string") {
        const pkg = /^package\s+(kubepolicy\.custom\.[\w]+)\s*$/m.exec(args.rule);
        if (!pkg) {
          throw new InvalidInputError("a Rego rule must declare `package kubepolicy.custom.<name>`", { details: [{ where: "rule", message: "no such package line" }] });
        }
        await writeFile(path.join(work, "rule.rego"), args.rule);
        set = await loadCustomRules({ customRulesDir: work }, path.join(work, "config.json"), builtIn);
      } else {
        set = await loadCustomRules({ customRules: [args.rule as unknown as CustomRuleJson] }, "rule", builtIn);
      }
      const compiled = await compileCustomRules(set);
      const custom = compiled.bundle.catalogue.filter((e) => e.source === "custom");
      if (custom.length !== 1) {
        throw new PolicyCompileError(`expected exactly one custom rule, found ${custom.length}`, {
          details: custom.map((e) => ({ where: e.file, message: e.id })),
        });
      }
      const ruleId = custom[0]!.id;
      // The rule is tested as enabled and strict whatever its own default, inside the caller's configuration.
      const config = { ...ctx.runtime.config, ruleOverrides: { ...ctx.runtime.config.ruleOverrides, [ruleId]: { enabled: true } } };
      const evaluator = new PolicyEvaluator(compiled.bundle, config);
      const { inputs } = offlineInputs(parsed.documents);
      const report = buildReport(inputs.map(({ input, source }) => ({ ...evaluator.evaluate(input), source })), { errors: parsed.errors });
      const findings = [...report.violations, ...report.warnings, ...report.exempt, ...report.notEvaluated].filter((f) => f.ruleId === ruleId);
      const open = findings.filter((f) => f.outcome === "violation" || f.outcome === "warning");
      const generatedRego = set.generated.get(ruleId) ?? null;
      const text = [
        `${ruleId}: ${open.length === 0 ? "no finding" : `${open.length} finding(s)`} in ${inputs.length} workload(s)${compiled.cached ? " (compiled bundle from cache)" : ""}.`,
        ...findings.map((f) => `- ${f.outcome} ${f.resource.kind} ${f.resource.name}: ${f.message}`),
      ].join("\n");
      return { structured: { ruleId, findings, passed: open.length === 0, workloads: inputs.length, generatedRego, errors: report.errors }, text };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  },
});
