// list_policy_rules: the catalogue as the configuration sees it.
import { z } from "zod";
import { categorySchema, ruleViewSchema } from "./schemas.js";
import { defineTool } from "./types.js";

export const listPolicyRules = defineTool({
  name: "list_policy_rules",
  title: "List policy rules",
  description:
    "Lists every policy rule (built-in and custom) with its category, severity, enabled state and enforcement under the current configuration, " +
    "auto-fix capability and risk, the compliance framework controls it evidences, and where it is defined.",
  inputSchema: {
    category: categorySchema.optional().describe("Only rules of this category"),
  },
  outputSchema: {
    rules: z.array(ruleViewSchema),
    total: z.number(),
    enabled: z.number(),
  },
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  async handler(args, ctx) {
    const rules = ctx.runtime.evaluator
      .catalogue()
      .filter((r) => !args.category || r.category === args.category)
      .map((r) => ({
        id: r.id,
        title: r.title,
        description: r.description,
        category: r.category,
        severity: r.severity,
        effectiveSeverity: r.effectiveSeverity as typeof r.severity,
        enabled: r.enabled,
        enforcement: r.enforcement as "strict" | "advisory" | "disabled",
        frameworks: r.frameworks,
        remediation: r.remediation,
        fixAvailable: r.fixAvailable,
        fixRisk: r.fixRisk,
        action: r.action,
        source: r.source,
        file: r.file,
      }));
    const enabled = rules.filter((r) => r.enabled).length;
    const text = [
      `${rules.length} rule(s)${args.category ? ` in ${args.category}` : ""}, ${enabled} enabled:`,
      ...rules.map((r) => `- ${r.id} [${r.category}, ${r.effectiveSeverity}${r.enabled ? `, ${r.enforcement}` : ", disabled"}${r.fixRisk ? `, fix: ${r.fixRisk} risk` : ""}] ${r.title}`),
    ].join("\n");
    return { structured: { rules, total: rules.length, enabled }, text };
  },
});
