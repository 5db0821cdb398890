// The scan tools: run a scan now and store it, read the trend of a scope, list stored scans.
// run_compliance_scan writes only the local history database, never the cluster.
import { z } from "zod";
import { InvalidInputError } from "../errors.js";
import { describeScan, existingScanStore, runScan } from "../scans/scan.js";
import { computeTrend, DEFAULT_TREND_DAYS } from "../scans/trends.js";
import { renderTrendText } from "../report/trend.js";
import { renderAutoFixText } from "../report/autofix.js";
import { computeAutoFixEfficiency, fixabilityFor } from "../scans/autofix.js";
import { SCAN_STATUSES } from "../store/scan-store.js";
import { checkNamespace } from "./evaluation.js";
import { autoFixEfficiencySchema, complianceTrendSchema, scanSchema } from "./schemas.js";
import { defineTool } from "./types.js";

const namespaceName = z.string().min(1).max(63);

export const runComplianceScan = defineTool({
  name: "run_compliance_scan",
  title: "Run a compliance scan",
  description:
    "Evaluates every workload in scope once and stores the result in the scan history (findings with first seen / resolved times, " +
    "scores per category and framework), which get_compliance_trends and the compliance report's trend section read. " +
    "Give a configured scan's name to run it now, or namespaces (or nothing, for the whole cluster) for an ad-hoc scan. " +
    "A scan of the same name already running is refused; a scan that fails (cluster unreachable, forbidden) is stored as failed. " +
    "Sends progress notifications while it works.",
  inputSchema: {
    namespace: namespaceName.optional().describe("Scan only this namespace"),
    namespaces: z.array(namespaceName).max(500).optional().describe("Scan these namespaces; omit both for the whole cluster"),
    name: z.string().min(1).max(100).optional().describe("A configured scan's name (its namespaces apply), or a name for this ad-hoc scan"),
  },
  outputSchema: { scan: scanSchema },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  writes: false,
  async handler(args, ctx) {
    if (args.namespace && args.namespaces) {
      throw new InvalidInputError("invalid arguments for run_compliance_scan", {
        details: [{ where: "namespace", message: "give namespace or namespaces, not both" }],
      });
    }
    const namespaces = args.namespace ? [args.namespace] : args.namespaces;
    const scan = await runScan(ctx.runtime, { name: args.name, namespaces, trigger: "manual" }, { progress: ctx.progress, signal: ctx.signal });
    return { structured: { scan }, text: describeScan(scan) };
  },
});

export const getComplianceTrends = defineTool({
  name: "get_compliance_trends",
  title: "Get compliance trends",
  description:
    "Compliance over time from the stored scans of one namespace or of the whole cluster: score per scan, per category and per framework; " +
    "new, resolved and still-open violations of the latest scan against the previous one; time to resolve per rule and severity, " +
    "and the oldest violations still open. Returns trend: null when no scan of that scope is stored in the window. " +
    "autoFixEfficiency is Auto-Fix Efficiency over the same window: of the violations open at some point in it, how many a fix applied by " +
    "kube-policy remediated (same workload and rule, applied after the last scan that still saw the violation and no later than the start of " +
    "the scan that saw it resolved, not rolled back), how many were resolved otherwise and how many are still open, with the percentage " +
    "auto-remediated, and the headroom: open violations whose fix the current configuration allows without an approval (null: no data).",
  inputSchema: {
    namespace: namespaceName.optional().describe("Only this namespace; omit for the whole cluster"),
    days: z.number().int().min(1).max(3650).optional().describe(`Window in days (default ${DEFAULT_TREND_DAYS})`),
  },
  outputSchema: {
    namespace: z.string().nullable(),
    days: z.number(),
    trend: complianceTrendSchema.nullable(),
    autoFixEfficiency: autoFixEfficiencySchema.nullable(),
  },
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  async handler(args, ctx) {
    const { runtime } = ctx;
    if (args.namespace) checkNamespace(runtime, args.namespace);
    const days = args.days ?? DEFAULT_TREND_DAYS;
    const store = existingScanStore(runtime);
    const trend = store ? computeTrend(store, { cluster: runtime.source.clusterName, namespace: args.namespace ?? null, days }) : null;
    const fixability = fixabilityFor(runtime.evaluator.catalogue(), runtime.config);
    const autoFixEfficiency = store
      ? computeAutoFixEfficiency(store, { cluster: runtime.source.clusterName, namespace: args.namespace ?? null, days, fixability })
      : null;
    const scope = args.namespace ? `namespace ${args.namespace}` : "the whole cluster";
    const text = trend
      ? `${[...renderTrendText(trend), ...renderAutoFixText(autoFixEfficiency, { days })].join("\n")}\n`
      : `No stored scan of ${scope} on ${runtime.source.clusterName} in the last ${days} days: run run_compliance_scan (or configure scans) to start a history.\n`;
    return { structured: { namespace: args.namespace ?? null, days, trend, autoFixEfficiency }, text };
  },
});

export const listScans = defineTool({
  name: "list_scans",
  title: "List compliance scans",
  description:
    "The stored scans, newest first: name, scope, status (running, succeeded, failed with its reason: interrupted, cluster unreachable, " +
    "forbidden, missed runs), duration, workload counts, compliance and new / resolved findings.",
  inputSchema: {
    limit: z.number().int().min(1).max(1000).optional().describe("At most this many (default 20)"),
    status: z.enum(SCAN_STATUSES).optional().describe("Only scans with this status"),
  },
  outputSchema: { scans: z.array(scanSchema) },
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  async handler(args, ctx) {
    const store = existingScanStore(ctx.runtime);
    const scans = store ? store.list({ limit: args.limit ?? 20, status: args.status }) : [];
    const text =
      scans.length === 0
        ? "No scans stored yet.\n"
        : `${scans
            .map(
              (s) =>
                `#${s.id} ${s.startedAt.slice(0, 19)}Z ${s.name} ${s.status}` +
                (s.status === "succeeded" ? `: ${s.compliancePercent ?? "n/a"}%, ${s.workloads.evaluated} workloads, ${s.findings.open} open (${s.findings.new} new, ${s.findings.resolved} resolved)` : s.reason ? `: ${s.reason}` : ""),
            )
            .join("\n")}\n`;
    return { structured: { scans }, text };
  },
});

export const SCAN_TOOLS = [runComplianceScan, getComplianceTrends, listScans];
