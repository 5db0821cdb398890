// list_exemptions: exception management. Every exemption of the configuration and of the workloads of
// the current source (annotations), with its status, what it covers and the findings it suppresses now
// (the covered workloads evaluated by the runtime's evaluator). Read-only, so offered in read-only mode.
import { z } from "zod";
import { InvalidInputError } from "../errors.js";
import {
  DEFAULT_EXPIRING_WITHIN_DAYS,
  EXEMPTION_STATUSES,
  listExemptions,
  renderExemptionsText,
  type ExemptionFilter,
  type ExemptionList,
} from "../report/exemptions.js";
import type { Runtime } from "../runtime.js";
import { checkNamespace } from "./evaluation.js";
import { defineTool } from "./types.js";
import { exemptionCountsSchema as countsSchema } from "./schemas.js";

export const MAX_EXPIRING_WITHIN_DAYS = 3650;

/** Checks the filters as every door gives them (CLI strings included): InvalidInputError naming each bad field. */
export function parseExemptionFilter(runtime: Runtime, args: Record<string, unknown>): ExemptionFilter {
  const problems: { where: string; message: string }[] = [];
  const filter: ExemptionFilter = {};
  if (args.namespace !== undefined) {
    if (typeof args.namespace !== "string" || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(args.namespace) || args.namespace.length > 63) {
      problems.push({ where: "namespace", message: `${JSON.stringify(args.namespace)} is not a namespace name (lower-case letters, digits and -, at most 63)` });
    } else filter.namespace = args.namespace;
  }
  if (args.status !== undefined) {
    if (typeof args.status === "string" && (EXEMPTION_STATUSES as readonly string[]).includes(args.status)) filter.status = args.status as ExemptionFilter["status"];
    else problems.push({ where: "status", message: `${JSON.stringify(args.status)} is not an exemption status: one of ${EXEMPTION_STATUSES.join(", ")}` });
  }
  if (args.expiringWithinDays !== undefined) {
    const raw = args.expiringWithinDays;
    const days = typeof raw === "string" && /^\d+$/.test(raw.trim()) ? Number(raw) : raw;
    if (typeof days !== "number" || !Number.isInteger(days) || days < 0 || days > MAX_EXPIRING_WITHIN_DAYS) {
      problems.push({ where: "expiringWithinDays", message: `${JSON.stringify(raw)} is not a whole number of days from 0 to ${MAX_EXPIRING_WITHIN_DAYS}` });
    } else filter.expiringWithinDays = days;
  }
  if (args.ruleId !== undefined) {
    const known = typeof args.ruleId === "string" && runtime.evaluator.bundle.catalogue.some((r) => r.id === args.ruleId);
    if (!known) {
      problems.push({
        where: "ruleId",
        message: `unknown rule id ${JSON.stringify(args.ruleId)} (list_policy_rules lists them; exemptions naming unknown ids are listed with status invalid)`,
      });
    } else filter.ruleId = args.ruleId as string;
  }
  if (problems.length > 0) throw new InvalidInputError(`invalid exemption filter: ${problems.map((p) => p.where).join(", ")}`, { details: problems });
  return filter;
}

/** Collects the scope from the runtime's source, evaluates it and lists its exemptions. */
export async function exemptionsData(runtime: Runtime, args: Record<string, unknown>, now: Date = new Date()): Promise<ExemptionList> {
  const filter = parseExemptionFilter(runtime, args);
  if (filter.namespace) checkNamespace(runtime, filter.namespace);
  const collection = await runtime.source.collect({ namespace: filter.namespace, namespaceAllowed: (ns) => runtime.namespaceAllowed(ns) });
  const evaluator = runtime.evaluator;
  const results = collection.workloads.map((w) => evaluator.evaluate(w.input));
  return listExemptions({
    config: evaluator.config,
    catalogue: evaluator.bundle.catalogue,
    workloads: collection.workloads,
    results,
    namespaceAllowed: (ns) => runtime.namespaceAllowed(ns),
    filter,
    now,
  });
}

const workloadSchema = z.object({ kind: z.string(), namespace: z.string(), name: z.string() });

export const listExemptionsTool = defineTool({
  name: "list_exemptions",
  title: "List policy exemptions",
  description:
    "Exception management: every exemption from the configuration (`exemptions`, by JSON path /exemptions/N) and from workload " +
    "annotations (kube-policy.io/exempt, -reason, -until) of the current cluster or manifests, with what it covers (workloads, namespace " +
    "and name patterns), rule ids, reason, expiry, status (active; expiring within expiringWithinDays, default 14; expired: its findings " +
    "are no longer exempt; invalid: unreadable expiry, unknown rule id or missing reason, the problem named) and how many findings it " +
    "suppresses now (the covered workloads evaluated live). Filters: namespace, status, expiringWithinDays, ruleId.",
  inputSchema: {
    namespace: z.string().min(1).max(253).optional().describe("Only exemptions that apply in this namespace"),
    status: z.string().min(1).max(32).optional().describe(`One of ${EXEMPTION_STATUSES.join(", ")}`),
    expiringWithinDays: z.number().optional().describe(`An exemption ending within this many days is "expiring" (default ${DEFAULT_EXPIRING_WITHIN_DAYS})`),
    ruleId: z.string().min(1).max(253).optional().describe("Only exemptions naming this rule (or *)"),
  },
  outputSchema: {
    generated: z.string(),
    expiringWithinDays: z.number(),
    scope: z.object({ namespace: z.string().nullable() }),
    counts: countsSchema,
    suppressedFindings: z.number().describe("Findings exempt right now because of the exemptions listed"),
    exemptions: z.array(
      z.object({
        id: z.string(),
        origin: z.enum(["configuration", "annotation"]),
        where: z.string(),
        namespace: z.string().nullable(),
        name: z.string().nullable(),
        kind: z.string().nullable(),
        workloads: z.array(workloadSchema),
        workloadCount: z.number(),
        rules: z.array(z.string()),
        reason: z.string().nullable(),
        expires: z.string().nullable(),
        daysLeft: z.number().nullable(),
        status: z.enum(EXEMPTION_STATUSES),
        problems: z.array(z.string()),
        suppressedFindings: z.number(),
        openFindings: z.number(),
        note: z.string(),
      }),
    ),
  },
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  async handler(args, ctx) {
    const list = await exemptionsData(ctx.runtime, args);
    return { structured: { ...list }, text: renderExemptionsText(list) };
  },
});
