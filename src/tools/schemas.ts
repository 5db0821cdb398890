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

const percentSchema = z.number().nullable();
const bySeveritySchema = z.object({ critical: z.number(), high: z.number(), medium: z.number(), low: z.number() });
const dimensionTrendSchema = z.object({
  key: z.string().describe("A category (security, ...) or a framework (SOC2, ...)"),
  first: percentSchema,
  latest: percentSchema,
  change: z.number().nullable().describe("latest - first, in percentage points"),
  points: z.array(z.object({ scanId: z.number(), at: z.string(), percent: percentSchema })),
});
const findingChangeSchema = z.object({
  ruleId: z.string(),
  severity: z.string(),
  resource: z.object({ kind: z.string(), namespace: z.string(), name: z.string() }),
  field: z.string().describe("JSON Pointer of the field; empty when the rule names none"),
  message: z.string(),
  firstSeen: z.string(),
  resolvedAt: z.string().nullable(),
  resolution: z.string().nullable().describe("fixed, exempted, excluded, workload-removed or rule-disabled; null while open"),
});
const resolveTimeSchema = z.object({
  ruleId: z.string().nullable().describe("null in the per-severity summary"),
  severity: z.string(),
  resolved: z.number().describe("Findings resolved in the window"),
  meanHours: z.number().nullable(),
  medianHours: z.number().nullable(),
  maxHours: z.number().nullable(),
  open: z.number().describe("Findings open now"),
  oldestOpenDays: z.number().nullable().describe("Age of the oldest open finding, in days"),
});

/** The trend section: compliance over time from the scan history (scans/trends.ts). */
export const complianceTrendSchema = z.object({
  scope: z.object({
    cluster: z.string(),
    namespace: z.string().nullable(),
    scannedNamespaces: z.array(z.string()).nullable().describe("The scans the history comes from: null = whole-cluster scans"),
  }),
  window: z.object({ days: z.number(), from: z.string(), to: z.string() }),
  scans: z.object({ succeeded: z.number(), failed: z.number(), first: z.string(), latest: z.string() }),
  score: z.object({
    first: percentSchema,
    latest: percentSchema,
    change: z.number().nullable(),
    points: z.array(
      z.object({
        scanId: z.number(),
        at: z.string(),
        percent: percentSchema,
        workloads: z.number(),
        open: z.number().describe("Findings open after this scan"),
        new: z.number().describe("Findings this scan saw first"),
        resolved: z.number().describe("Findings this scan no longer saw"),
        bySeverity: bySeveritySchema,
      }),
    ),
  }),
  sincePrevious: z
    .object({
      scanId: z.number(),
      at: z.string(),
      previousScanId: z.number(),
      previousAt: z.string(),
      new: z.number(),
      resolved: z.number(),
      stillOpen: z.number(),
      scoreChange: z.number().nullable(),
      newFindings: z.array(findingChangeSchema),
      resolvedFindings: z.array(findingChangeSchema),
    })
    .nullable()
    .describe("The latest scan against the one before it; null with a single scan"),
  categories: z.array(dimensionTrendSchema),
  frameworks: z.array(dimensionTrendSchema),
  timeToResolve: z.object({ bySeverity: z.array(resolveTimeSchema), byRule: z.array(resolveTimeSchema) }),
});

/** Auto-Fix Efficiency over a period (scans/autofix.ts; the definition is report/autofix.ts AUTOFIX_DEFINITION). */
export const autoFixEfficiencySchema = z.object({
  scope: z.object({ cluster: z.string(), namespace: z.string().nullable(), scannedNamespaces: z.array(z.string()).nullable() }),
  window: z.object({ days: z.number(), from: z.string(), to: z.string() }),
  violations: z.number().describe("Violations (and warnings) open at some point in the period, one per rule, workload and field"),
  autoRemediated: z.number().describe("Resolved by a fix kube-policy applied and did not roll back"),
  resolvedOtherwise: z.number().describe("Resolved any other way"),
  resolvedOtherwiseBy: z.object({
    fixed: z.number().describe("Changed by hand or by other tools"),
    exempted: z.number(),
    excluded: z.number(),
    "workload-removed": z.number(),
    "rule-disabled": z.number(),
  }),
  stillOpen: z.number(),
  percent: percentSchema.describe("autoRemediated / violations in percent; null when no violation was open in the period"),
  ratio: z.number().nullable().describe("The same from 0 to 1"),
  ofResolvedPercent: percentSchema.describe("autoRemediated / (autoRemediated + resolvedOtherwise)"),
  fixes: z.object({ applied: z.number(), rolledBack: z.number() }).describe("Changes kube-policy applied in the period in scope"),
  headroom: z
    .object({
      open: z.number(),
      autoFixable: z.number(),
      needsApproval: z.number(),
      manual: z.number(),
      percent: percentSchema,
      rules: z.array(z.object({ ruleId: z.string(), severity: z.string(), open: z.number() })),
    })
    .describe("Violations open now by what the current configuration lets kube-policy fix: on request, after an approval, or not at all"),
  definition: z.string(),
});

/** A stored scan (list_scans, run_compliance_scan). */
export const scanSchema = z.object({
  id: z.number(),
  name: z.string().describe("The configured scan's name, or adhoc:<scope>"),
  trigger: z.enum(["schedule", "manual", "missed"]),
  cluster: z.string(),
  namespaces: z.array(z.string()).nullable().describe("null: the whole cluster"),
  ruleSetHash: z.string().describe("Hash of the policy bundle the scan evaluated"),
  status: z.enum(["running", "succeeded", "failed"]),
  reason: z.string().nullable().describe("Why the scan failed (interrupted, cluster unreachable, forbidden, missed runs)"),
  errorCode: z.string().nullable(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  owner: z.string().describe("host:pid of the process that ran it"),
  workloads: z.object({ total: z.number(), evaluated: z.number(), passed: z.number(), failed: z.number(), skipped: z.number() }),
  compliancePercent: z.number().nullable(),
  findings: z.object({ open: z.number(), new: z.number(), resolved: z.number() }),
  warnings: z.array(detailSchema),
});

export const exemptionCountsSchema = z.object({ total: z.number(), active: z.number(), expiring: z.number(), expired: z.number(), invalid: z.number() });

/** The compliance report's exemptions section (report/exemptions.ts exemptionSummary). */
export const exemptionSummarySchema = z.object({
  expiringWithinDays: z.number(),
  counts: exemptionCountsSchema,
  suppressedFindings: z.number(),
  expiring: z.array(
    z.object({
      id: z.string(),
      where: z.string(),
      rules: z.array(z.string()),
      reason: z.string().nullable(),
      expires: z.string(),
      daysLeft: z.number(),
      suppressedFindings: z.number(),
    }),
  ),
});

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
  trend: complianceTrendSchema.nullable().describe("Trend analysis from the scan history of this scope; null when there is none"),
  autoFixEfficiency: autoFixEfficiencySchema.nullable().describe("Auto-Fix Efficiency over the trend's 30 days; null when no scan of this scope is stored (no data)"),
  exemptions: exemptionSummarySchema.optional().describe("Exemptions by status (active, expiring soon, expired but still in place, invalid) and the ones expiring soon"),
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
