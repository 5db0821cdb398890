// Zod schemas of the tool outputs, shared by the tool definitions (MCP outputSchema, HTTP /tools).
import { z } from "zod";
import { CATEGORIES, FIX_RISKS, SEVERITIES } from "../policy/types.js";

export const severitySchema = z.enum(SEVERITIES);
export const categorySchema = z.enum(CATEGORIES);
const countsBySeverity = z.object({ critical: z.number(), high: z.number(), medium: z.number(), low: z.number() });
const countsByCategory = z.object({ security: z.number(), compliance: z.number(), performance: z.number(), cost: z.number(), operations: z.number() });

export const resourceSchema = z.object({
  apiVersion: z.string(),
  kind: z.string(),
  namespace: z.string().nullable(),
  name: z.string(),
});

export const findingSchema = z.object({
  ruleId: z.string().describe("Rule id from the catalogue, e.g. privileged-container"),
  title: z.string(),
  severity: severitySchema,
  category: categorySchema,
  frameworks: z.record(z.array(z.string())).describe("Framework → control ids this rule evidences"),
  message: z.string(),
  path: z.string().describe("Offending field, dotted (spec.template.spec.containers[0].securityContext)"),
  pointer: z.string().describe("The same field as a JSON Pointer"),
  resource: resourceSchema,
  fix: z
    .object({
      patch: z.array(z.object({ op: z.string(), path: z.string(), value: z.unknown().optional(), from: z.string().optional() })),
      risk: z.enum(FIX_RISKS),
    })
    .nullable()
    .describe("JSON Patch that fixes the finding, or null when the remediation is manual"),
  autoFixable: z.boolean().describe("True when the configuration lets the fix be applied without an approval"),
  remediation: z.string(),
  outcome: z.enum(["violation", "warning", "exempt", "not-evaluated"]),
  reason: z.string().optional(),
});

export const summarySchema = z.object({
  workloads: z.number(),
  passed: z.number(),
  failed: z.number(),
  skipped: z.number(),
  violations: z.number(),
  warnings: z.number(),
  exempt: z.number(),
  notEvaluated: z.number(),
  bySeverity: countsBySeverity,
  autoFixable: z.number(),
  fixable: z.number(),
});

const detailSchema = z.object({ where: z.string().optional(), message: z.string() });

/** The output of the evaluation tools: the same JSON as `kube-policy eval --format json`. */
export const evaluationOutput = {
  passed: z.boolean().describe("False when any strict violation was found"),
  status: z.enum(["pass", "fail"]),
  violations: z.array(findingSchema),
  warnings: z.array(findingSchema),
  exempt: z.array(findingSchema),
  notEvaluated: z.array(findingSchema),
  summary: summarySchema,
  autoFix: z.object({
    available: z.number().describe("Findings whose fix can be applied now (auto_fix_policy_violations)"),
    needsApproval: z.number().describe("Findings with a fix that needs a manual approval"),
    manual: z.number().describe("Findings without an automatic fix"),
  }),
  workloads: z.array(z.object({ resource: resourceSchema, passed: z.boolean(), source: z.string().optional(), skipped: z.string().optional() })),
  skipped: z.array(z.object({ source: z.string(), kind: z.string(), name: z.string(), reason: z.string() })),
  errors: z.array(detailSchema),
};

const ruleStatus = z.enum(["passed", "failed", "not-evaluated"]);

export const complianceReportOutput = {
  generated: z.string(),
  cluster: z.string(),
  scope: z.object({ namespace: z.string().nullable(), namespaces: z.array(z.string()) }),
  compliance: z.object({
    percent: z.number().nullable().describe("Rules passed / rules evaluated, rounded"),
    rulesEvaluated: z.number(),
    rulesPassed: z.number(),
    rulesFailed: z.number(),
    rulesNotEvaluated: z.number(),
  }),
  workloads: z.object({ evaluated: z.number(), passed: z.number(), failed: z.number(), skipped: z.number() }),
  failedRulesBySeverity: countsBySeverity,
  findingsBySeverity: countsBySeverity,
  findingsByCategory: countsByCategory,
  frameworks: z.array(
    z.object({
      framework: z.string(),
      percent: z.number().nullable(),
      controls: z.array(z.object({ control: z.string(), status: ruleStatus, rules: z.array(z.object({ id: z.string(), status: ruleStatus })) })),
    }),
  ),
  recommendations: z.array(z.object({ category: z.string(), message: z.string(), rules: z.array(z.string()) })),
  autoFixable: z.number(),
  rules: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      category: categorySchema,
      severity: severitySchema,
      status: ruleStatus,
      failedWorkloads: z.number(),
      findings: z.number(),
      exempt: z.number(),
      autoFixable: z.number(),
      remediation: z.string(),
    }),
  ),
  topFailingWorkloads: z.array(z.object({ resource: resourceSchema, violations: z.number(), warnings: z.number() })),
  warnings: z.array(detailSchema),
  trend: z.unknown().nullable(),
};

export const ruleViewSchema = z.object({
  id: z.string(),
  title: z.string(),
  description: z.string(),
  category: categorySchema,
  severity: severitySchema,
  effectiveSeverity: severitySchema,
  enabled: z.boolean(),
  enforcement: z.enum(["strict", "advisory", "disabled"]),
  frameworks: z.record(z.array(z.string())),
  remediation: z.string(),
  fixAvailable: z.boolean(),
  fixRisk: z.enum(FIX_RISKS).nullable(),
  action: z.enum(["deny", "warn"]),
  source: z.enum(["built-in", "custom"]),
  file: z.string(),
});
