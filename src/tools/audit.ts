// query_audit_log: the append-only record of every tool call (evaluations, fixes, approvals, rollbacks),
// filtered by time range, namespace, actor and tool. Namespaces the configuration hides stay hidden.
import { z } from "zod";
import { ForbiddenError, InvalidInputError, type ErrorDetail } from "../errors.js";
import { AuditStore } from "../store/audit-store.js";
import { defineTool } from "./types.js";

const instant = (what: string) =>
  z.string().min(1).max(64).optional().describe(`${what}, an ISO 8601 date or date-time (2026-01-31, 2026-01-31T12:00:00Z); inclusive`);

/** ISO 8601 as stored (UTC, toISOString); a bare date means its start (since) or its end (until). */
function normaliseInstant(value: string | undefined, where: "since" | "until", problems: ErrorDetail[]): string | undefined {
  if (value === undefined) return undefined;
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const parsed = new Date(dateOnly ? `${value}T${where === "since" ? "00:00:00.000" : "23:59:59.999"}Z` : value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(parsed.getTime())) {
    problems.push({ where, message: `${JSON.stringify(value)} is not an ISO 8601 date or date-time` });
    return undefined;
  }
  return parsed.toISOString();
}

const entrySchema = z.object({
  id: z.number(),
  time: z.string(),
  actor: z.string(),
  action: z.string().describe("The tool called"),
  namespace: z.string().nullable(),
  resource: z.string().nullable().describe("Kind/name of the workload concerned"),
  ruleIds: z.array(z.string()),
  outcome: z.string().describe("ok, a tool status (applied, dry-run, pass, fail, ...) or error:<code>"),
  details: z.record(z.unknown()).describe("Arguments (secrets and long texts elided), duration, result summary or error"),
});

export const queryAuditLog = defineTool({
  name: "query_audit_log",
  title: "Query the audit log",
  description:
    "Every evaluation and every change made through this server, newest first: time, actor (MCP client or HTTP token name), tool, namespace, workload, rule ids, outcome and details. " +
    "The log is append-only.",
  inputSchema: {
    since: instant("Earliest time"),
    until: instant("Latest time"),
    namespace: z.string().min(1).max(253).optional().describe("Only this namespace"),
    actor: z.string().min(1).max(253).optional().describe("Only this actor, e.g. http:ci or mcp-stdio:claude-ai"),
    tool: z.string().min(1).max(100).optional().describe("Only calls of this tool"),
    limit: z.number().int().min(1).max(1000).optional().describe("Most entries to return (default 100)"),
  },
  outputSchema: { entries: z.array(entrySchema) },
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  async handler(args, ctx) {
    const problems: ErrorDetail[] = [];
    const since = normaliseInstant(args.since, "since", problems);
    const until = normaliseInstant(args.until, "until", problems);
    if (since && until && since > until) problems.push({ where: "until", message: `${args.until} is before since (${args.since})` });
    if (problems.length > 0) throw new InvalidInputError("invalid arguments for query_audit_log", { details: problems });
    if (args.namespace !== undefined && !ctx.runtime.namespaceAllowed(args.namespace)) {
      throw new ForbiddenError(`namespace ${JSON.stringify(args.namespace)} is not allowed by the policy configuration (namespaces.allow / namespaces.deny)`);
    }
    const entries = new AuditStore(ctx.runtime.db())
      .query({ since, until, namespace: args.namespace, actor: args.actor, action: args.tool, limit: args.limit })
      .filter((e) => e.namespace === null || ctx.runtime.namespaceAllowed(e.namespace));
    const lines = entries
      .slice(0, 50)
      .map((e) => `- ${e.time} ${e.actor} ${e.action}${e.resource ? ` ${e.namespace ?? ""}/${e.resource}` : e.namespace ? ` ${e.namespace}` : ""} → ${e.outcome}${e.ruleIds.length > 0 ? ` (${e.ruleIds.join(", ")})` : ""}`);
    if (entries.length > 50) lines.push(`- … and ${entries.length - 50} more (see structured content)`);
    return { structured: { entries }, text: [`${entries.length} audit entr${entries.length === 1 ? "y" : "ies"}.`, ...lines].join("\n") };
  },
});
