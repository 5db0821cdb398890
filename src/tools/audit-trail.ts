// Every tool call (evaluations, fixes, approvals, rollbacks, audit queries) goes into the append-only audit
// log and a structured log line: who, which tool, which namespace and workload, which rules, the outcome.
// defineTool's run() calls this, so every door (MCP, HTTP) is covered in one place. Auditing never fails
// a tool: when the store is unavailable the call is still logged, with a warning.
import { createHash } from "node:crypto";
import { toAppError } from "../errors.js";
import { logger } from "../logger.js";
import { auditStoreFor, type AuditEntry } from "../store/audit-store.js";
import type { ToolContext } from "./types.js";

/** Argument names whose values are never recorded. */
const SECRET_KEY = /token|password|passwd|secret|credential|authorization|api[-_]?key|private[-_]?key/i;
/** Longer strings (a manifest given to evaluate_manifest, say) are recorded as length and hash only. */
const MAX_STRING = 256;


export function redactArgs(value: unknown, key?: string): unknown {
  if (key !== undefined && SECRET_KEY.test(key)) return "[redacted]";
  if (typeof value === "string" && value.length > MAX_STRING) {
    return `[${value.length} characters, sha256 ${createHash("sha256").update(value).digest("hex").slice(0, 16)}]`;
  }
  if (Array.isArray(value)) return value.map((v) => redactArgs(v));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactArgs(v, k)]));
  }
  return value;
}

type Structured = Record<string, unknown>;

const asRecord = (v: unknown): Structured | undefined => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Structured) : undefined);
const asString = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** The audit fields a tool call yields: from its arguments, else from its result. */
export function auditEntry(tool: string, actor: string, args: Structured, outcome: { result: Structured } | { error: unknown }, durationMs: number): AuditEntry {
  const result = "result" in outcome ? outcome.result : undefined;
  const workload = asRecord(result?.workload);
  const namespace = asString(args.namespace) ?? asString(workload?.namespace) ?? null;
  const name = asString(args.deployment) ?? asString(args.name) ?? asString(workload?.name);
  const kind = asString(workload?.kind) ?? (args.deployment !== undefined ? "Deployment" : asString(args.kind));
  const ruleIds = Array.isArray(result?.ruleIds)
    ? (result.ruleIds as unknown[]).filter((r): r is string => typeof r === "string")
    : [
        ...new Set(
          [result?.violations, result?.warnings]
            .flatMap((list) => (Array.isArray(list) ? list : []))
            .map((f) => asString(asRecord(f)?.ruleId))
            .filter((r): r is string => r !== undefined),
        ),
      ];
  const details: Structured = { args: redactArgs(args), durationMs };
  let status: string;
  if (result) {
    status = asString(result.status) ?? "ok";
    details.result = summary(result);
  } else {
    const error = toAppError((outcome as { error: unknown }).error);
    status = `error:${error.code}`;
    details.error = { code: error.code, message: error.message.slice(0, 1000) };
  }
  return { time: new Date().toISOString(), actor, action: tool, namespace, resource: kind && name ? `${kind}/${name}` : null, ruleIds, outcome: status, details };
}

/** Scalars, small count objects and the lengths of lists: enough to say what happened, never whole objects. */
function summary(result: Structured): Structured {
  const out: Structured = {};
  for (const [key, value] of Object.entries(result)) {
    if (typeof value === "boolean" || typeof value === "number") out[key] = value;
    else if (typeof value === "string" && value.length <= 200) out[key] = value;
    else if (Array.isArray(value)) out[key] = { count: value.length };
    else if (key === "summary" || key === "resourceVersion" || key === "compliance") out[key] = value;
  }
  return out;
}

export function recordToolCall(ctx: ToolContext, tool: string, args: Structured, outcome: { result: Structured } | { error: unknown }, started: number): void {
  let entry: AuditEntry | undefined;
  try {
    entry = auditEntry(tool, ctx.actor, args, outcome, Date.now() - started);
    if (ctx.via) entry.details.via = ctx.via;
    logger.info({ audit: entry }, "audit");
    auditStoreFor(ctx.runtime.db()).append(entry);
  } catch (error) {
    logger.warn({ tool, actor: ctx.actor, err: (error as Error).message }, "audit log unavailable: this tool call is only in the log lines");
  }
}
