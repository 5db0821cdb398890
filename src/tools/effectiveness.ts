// analyze_policy_effectiveness: per rule, what it found in a period, how fast and by whom its findings were
// resolved, what came back, and rankings. Reads only the local history database (read-only mode offers it).
import { z } from "zod";
import { CATEGORIES } from "../policy/types.js";
import { existingScanStore } from "../scans/scan.js";
import { computePolicyEffectiveness, EFFECTIVENESS_DEFINITION, noEffectivenessData, renderEffectivenessText } from "../scans/effectiveness.js";
import { DEFAULT_TREND_DAYS } from "../scans/trends.js";
import { checkNamespace } from "./evaluation.js";
import { defineTool } from "./types.js";

const count = z.number().int();
const hoursOrNull = z.number().nullable();
const ruleSchema = z.object({
  ruleId: z.string(),
  category: z.string(),
  severity: z.string(),
  enabled: z.boolean().nullable(),
  openNow: count,
  opened: count,
  recurred: count,
  recurrencePercent: z.number().nullable(),
  activeInPeriod: count,
  resolved: z.object({ total: count, byKubePolicyFix: count, otherwise: count, otherwiseBy: z.record(z.string(), count) }),
  exempted: count,
  timeToResolve: z.object({ resolutions: count, medianHours: hoursOrNull, p90Hours: hoursOrNull }),
  medianOpenHours: hoursOrNull,
  mostAffected: z.object({ namespaces: z.array(z.object({ namespace: z.string(), findings: count })) }),
});
export const policyEffectivenessSchema = z.object({
  scope: z.object({ cluster: z.string(), namespace: z.string().nullable(), scannedNamespaces: z.array(z.string()).nullable() }),
  window: z.object({ days: z.number(), from: z.string(), to: z.string() }),
  category: z.string().nullable(),
  scans: count,
  rules: z.array(ruleSchema),
  mostAffectedWorkloads: z.array(z.object({ namespace: z.string(), kind: z.string(), name: z.string(), findings: count, rules: count })),
  ranking: z.object({
    mostFired: z.array(z.object({ ruleId: z.string(), activeInPeriod: count, opened: count, openNow: count })),
    longestOpen: z.array(z.object({ ruleId: z.string(), medianOpenHours: z.number(), p90ResolveHours: hoursOrNull, openNow: count })),
    neverFired: z.array(z.object({ ruleId: z.string(), category: z.string(), severity: z.string() })),
    highRecurrence: z.array(z.object({ ruleId: z.string(), recurred: count, recurrencePercent: z.number().nullable() })),
  }),
  definition: z.string(),
});

export const analyzePolicyEffectiveness = defineTool({
  name: "analyze_policy_effectiveness",
  title: "Analyze policy effectiveness",
  description:
    "Policy effectiveness per rule from the stored scans and the fix history, for one namespace or the whole cluster, optionally one category: " +
    "open violations now, opened and resolved in the period (resolved by a kube-policy fix vs otherwise), median and p90 time to resolve, " +
    "recurrence, exempted, the namespaces most affected per rule and the workloads most affected overall; and rankings: rules that fire most, whose violations stay open " +
    "longest (training or auto-fix candidates), that never fired (review candidates), with high recurrence. Returns effectiveness: null " +
    "when no scan of that scope is stored in the period. Definitions: " +
    EFFECTIVENESS_DEFINITION,
  inputSchema: {
    namespace: z.string().min(1).max(63).optional().describe("Only this namespace; omit for the whole cluster"),
    category: z.enum(CATEGORIES).optional().describe("Only the rules of this category"),
    days: z.number().int().min(1).max(3650).optional().describe(`Period in days (default ${DEFAULT_TREND_DAYS})`),
  },
  outputSchema: { namespace: z.string().nullable(), category: z.string().nullable(), days: z.number(), effectiveness: policyEffectivenessSchema.nullable() },
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  async handler(args, ctx) {
    const { runtime } = ctx;
    if (args.namespace) checkNamespace(runtime, args.namespace);
    const days = args.days ?? DEFAULT_TREND_DAYS;
    const namespace = args.namespace ?? null;
    const store = existingScanStore(runtime);
    const rules = runtime.evaluator.catalogue().map((r) => ({ id: r.id, category: r.category, severity: r.effectiveSeverity, enabled: r.enabled }));
    const effectiveness = store
      ? computePolicyEffectiveness(store, { cluster: runtime.source.clusterName, namespace, category: args.category ?? null, days, rules })
      : null;
    const text = effectiveness ? renderEffectivenessText(effectiveness) : noEffectivenessData(runtime.source.clusterName, namespace, days);
    return { structured: { namespace, category: args.category ?? null, days, effectiveness }, text };
  },
});
