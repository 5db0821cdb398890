// Remediation tools: the product document's auto_fix_policy_violations (Deployments) and fix_workload (the
// other kinds), approve / reject of fixes that need an approval, rollback and the change history. Thin
// adapters over src/remediation; the write tools are hidden in read-only mode.
import { z } from "zod";
import { ForbiddenError, InvalidInputError } from "../errors.js";
import { normaliseKind, WORKLOAD_KINDS } from "../kube/source.js";
import {
  approveFix,
  FIXABLE_KINDS,
  fixableKind,
  rejectFix,
  remediate,
  rollbackChange,
  type RemediationOptions,
  type RemediationResult,
  type RollbackResult,
} from "../remediation/remediator.js";
import type { Runtime } from "../runtime.js";
import { FixStore, type FixChange, type PendingFix } from "../store/fix-store.js";
import { defineTool, type ToolContext } from "./types.js";
import { severitySchema } from "./schemas.js";

const namespace = z.string().min(1).max(253).describe("Namespace of the workload");
const dryRun = z.boolean().optional().describe("Check the fixes with the API server's server-side dry run (admission and validation run) and return the diff; nothing changes");
const rules = z
  .array(z.string().min(1).max(253))
  .min(1)
  .max(100)
  .optional()
  .describe("Only fix these rule ids (default: every failing rule whose fix the configuration allows)");
const rolloutTimeoutSeconds = z
  .number()
  .int()
  .min(0)
  .max(600)
  .optional()
  .describe("How long to follow the rollout after a change, in seconds (default 60; 0 looks once)");
const pendingId = z
  .string()
  .regex(/^fix-[0-9a-f]{8}$/, "must be a pending fix id such as fix-1a2b3c4d")
  .describe("Id of a pending fix (from auto_fix_policy_violations or list_pending_fixes)");
const changeId = z
  .string()
  .regex(/^chg-[0-9a-f]{8}$/, "must be a change id such as chg-1a2b3c4d")
  .describe("Id of an applied change (from auto_fix_policy_violations, approve_fix or list_fix_history)");
const limit = z.number().int().min(1).max(1000).optional().describe("Most entries to return, newest first (default 100)");

const patchOp = z.object({ op: z.string(), path: z.string(), value: z.unknown().optional(), from: z.string().optional() });
const workloadSchema = z.object({ namespace: z.string(), kind: z.string(), name: z.string() });
const ruleFailure = z.object({ ruleId: z.string(), reason: z.string() });
const rolloutSchema = z
  .object({
    status: z.enum(["complete", "timed-out", "not-applicable"]),
    message: z.string().describe("Where the rollout stands, plainly"),
    generation: z.number().nullable(),
    observedGeneration: z.number().nullable(),
    replicas: z.number().nullable(),
    updatedReplicas: z.number().nullable(),
    readyReplicas: z.number().nullable(),
    waitedMs: z.number(),
  })
  .nullable()
  .describe("Rollout progress after a change; null for dry runs and when nothing changed");
const resourceVersions = z.object({ before: z.string().nullable(), after: z.string().nullable() });

const remediationOutput = {
  workload: workloadSchema,
  dryRun: z.boolean(),
  status: z.enum(["applied", "dry-run", "nothing-to-fix", "rejected", "obsolete"]),
  summary: z.object({
    fixed: z.number().describe("Findings resolved by the applied (or dry-run) fixes"),
    failed: z.number().describe("Rules whose fix was refused, conflicted or did not resolve the finding"),
    pendingApproval: z.number(),
    manual: z.number().describe("Findings without an automatic fix, still open"),
  }),
  ruleIds: z.array(z.string()).describe("Rules whose fixes were applied (or accepted by the dry run)"),
  changes: z.array(
    z.object({
      ruleId: z.string(),
      title: z.string(),
      severity: z.string(),
      risk: z.string(),
      findings: z.array(z.object({ message: z.string(), path: z.string() })),
      patch: z.array(patchOp).describe("The rule's own JSON Patch, as computed against the object read"),
    }),
  ),
  failures: z.array(ruleFailure),
  pending: z.array(
    z.object({
      id: z.string().nullable().describe("Pending fix id for approve_fix / reject_fix; null in a dry run (nothing is stored)"),
      ruleId: z.string(),
      severity: z.string(),
      risk: z.string(),
      reason: z.string().describe("Why it needs an approval"),
      patch: z.array(patchOp),
      diff: z.string(),
    }),
  ),
  manual: z.array(
    z.object({ ruleId: z.string(), severity: severitySchema, outcome: z.enum(["violation", "warning"]), message: z.string(), path: z.string(), remediation: z.string() }),
  ),
  skipped: z.array(ruleFailure),
  patch: z.array(patchOp).describe("The one JSON Patch sent, starting with its resourceVersion test"),
  diff: z.string().describe("Unified diff of the object as YAML, before and as the API server answered"),
  resourceVersion: resourceVersions,
  changeId: z.string().nullable().describe("Id of the recorded change (rollback_fix); null when nothing was applied"),
  approvedPendingId: z.string().nullable(),
  attempts: z.number().describe("Reads of the object: more than 1 when it changed between read and patch"),
  rollout: rolloutSchema,
  message: z.string(),
};

const rollbackOutput = {
  workload: workloadSchema,
  status: z.enum(["rolled-back", "nothing-to-roll-back"]),
  rolledBack: z.string(),
  changeId: z.string().nullable().describe("Id of the rollback, itself a change"),
  ruleIds: z.array(z.string()),
  forced: z.boolean(),
  changedSince: z.string().nullable().describe("What changed on the object after the change, when forced"),
  patch: z.array(patchOp),
  diff: z.string(),
  resourceVersion: resourceVersions,
  attempts: z.number(),
  rollout: rolloutSchema,
  message: z.string(),
};

const pendingSchema = z.object({
  id: z.string(),
  createdAt: z.string(),
  actor: z.string(),
  workload: workloadSchema,
  ruleId: z.string(),
  severity: z.string(),
  category: z.string(),
  risk: z.string(),
  reason: z.string(),
  patch: z.array(patchOp),
  findings: z.array(z.object({ message: z.string(), path: z.string() })),
  diff: z.string(),
  status: z.enum(["pending", "approved", "rejected", "stale", "obsolete"]),
  decidedAt: z.string().nullable(),
  decidedBy: z.string().nullable(),
  decisionNote: z.string().nullable(),
  changeId: z.string().nullable(),
});

const changeSchema = z.object({
  id: z.string(),
  createdAt: z.string(),
  actor: z.string(),
  action: z.enum(["fix", "approve", "rollback"]),
  workload: workloadSchema,
  ruleIds: z.array(z.string()),
  diff: z.string(),
  resourceVersionBefore: z.string().nullable(),
  resourceVersionAfter: z.string().nullable(),
  generationAfter: z.number().nullable(),
  pendingId: z.string().nullable(),
  rollbackOf: z.string().nullable(),
  rolledBackBy: z.string().nullable(),
});

function options(ctx: ToolContext, timeoutSeconds: number | undefined): RemediationOptions {
  return { rolloutTimeoutMs: timeoutSeconds === undefined ? undefined : timeoutSeconds * 1000, progress: ctx.progress };
}

function remediationText(r: RemediationResult): string {
  const lines = [r.message || `${r.workload.kind} ${r.workload.namespace}/${r.workload.name}: ${r.status}`];
  lines.push(`Fixed ${r.summary.fixed} finding(s), ${r.summary.failed} failed, ${r.summary.pendingApproval} wait for an approval, ${r.summary.manual} manual.`);
  for (const c of r.changes) lines.push(`- ${r.dryRun ? "would fix" : "fixed"} ${c.ruleId} [${c.severity}, ${c.risk} risk]: ${c.findings.map((f) => f.message).join("; ")}`);
  for (const f of r.failures) lines.push(`- failed ${f.ruleId}: ${f.reason}`);
  for (const p of r.pending) lines.push(`- needs approval ${p.id ? `(approve_fix ${p.id}) ` : ""}${p.ruleId} [${p.severity}, ${p.risk} risk]: ${p.reason}`);
  for (const m of r.manual.slice(0, 20)) lines.push(`- manual ${m.ruleId} [${m.severity}]: ${m.message} — ${m.remediation}`);
  if (r.manual.length > 20) lines.push(`- … and ${r.manual.length - 20} more manual findings`);
  if (r.diff) lines.push("", r.diff);
  return lines.join("\n");
}

function rollbackText(r: RollbackResult): string {
  return [r.message, ...(r.diff ? ["", r.diff] : [])].join("\n");
}

function checkListNamespace(runtime: Runtime, ns: string | undefined): void {
  if (ns !== undefined && !runtime.namespaceAllowed(ns)) {
    throw new ForbiddenError(`namespace ${JSON.stringify(ns)} is not allowed by the policy configuration (namespaces.allow / namespaces.deny)`);
  }
}

export const autoFixPolicyViolations = defineTool({
  name: "auto_fix_policy_violations",
  title: "Fix a deployment's policy violations",
  description:
    "Applies the fixes (JSON Patch) of a Deployment's failing rules that the configuration allows, merged into one patch guarded by the object's resourceVersion. " +
    "With dryRun the API server checks it (server-side dry run) and the diff is returned without any change. " +
    "Fixes that need an approval are stored as pending (approve_fix / reject_fix); every change is recorded for rollback_fix. " +
    "Checks first that the credentials may patch the Deployment.",
  inputSchema: {
    namespace,
    deployment: z.string().min(1).max(253).describe("Name of the Deployment"),
    dryRun,
    rules,
    rolloutTimeoutSeconds,
  },
  outputSchema: remediationOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  writes: true,
  async handler(args, ctx) {
    const result = await remediate(
      ctx.runtime,
      ctx.actor,
      { namespace: args.namespace, kind: "Deployment", name: args.deployment, dryRun: args.dryRun, rules: args.rules },
      options(ctx, args.rolloutTimeoutSeconds),
    );
    return { structured: result, text: remediationText(result) };
  },
});

export const fixWorkload = defineTool({
  name: "fix_workload",
  title: "Fix the policy violations of any workload kind",
  description: `The same as auto_fix_policy_violations for ${FIXABLE_KINDS.join(", ")} (Jobs, Pods and ReplicaSets cannot have their pod template changed in place).`,
  inputSchema: {
    namespace,
    kind: z.string().min(1).describe(`Workload kind: ${FIXABLE_KINDS.join(", ")} (plurals and kubectl short names accepted)`),
    name: z.string().min(1).max(253).describe("Name of the workload"),
    dryRun,
    rules,
    rolloutTimeoutSeconds,
  },
  outputSchema: remediationOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  writes: true,
  async handler(args, ctx) {
    const kind = normaliseKind(args.kind);
    if (!kind) {
      throw new InvalidInputError("invalid arguments for fix_workload", {
        details: [{ where: "kind", message: `${JSON.stringify(args.kind)} is not a workload kind (one of ${WORKLOAD_KINDS.join(", ")})` }],
      });
    }
    const result = await remediate(
      ctx.runtime,
      ctx.actor,
      { namespace: args.namespace, kind: fixableKind(kind), name: args.name, dryRun: args.dryRun, rules: args.rules },
      options(ctx, args.rolloutTimeoutSeconds),
    );
    return { structured: result, text: remediationText(result) };
  },
});

export const approveFixTool = defineTool({
  name: "approve_fix",
  title: "Approve and apply a pending fix",
  description:
    "Applies a fix that was waiting for an approval, if the workload still needs exactly that fix (otherwise it is marked stale or obsolete and nothing changes). " +
    "Recorded as a change that rollback_fix can undo.",
  inputSchema: { id: pendingId, rolloutTimeoutSeconds },
  outputSchema: remediationOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  writes: true,
  async handler(args, ctx) {
    const result = await approveFix(ctx.runtime, ctx.actor, args.id, options(ctx, args.rolloutTimeoutSeconds));
    return { structured: result, text: remediationText(result) };
  },
});

export const rejectFixTool = defineTool({
  name: "reject_fix",
  title: "Reject a pending fix",
  description: "Drops a fix that was waiting for an approval; the cluster is not touched. The decision is recorded with who made it.",
  inputSchema: { id: pendingId, reason: z.string().max(1000).optional().describe("Why, for the record") },
  outputSchema: { fix: pendingSchema },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async handler(args, ctx) {
    const fix = pendingView(rejectFix(ctx.runtime, ctx.actor, args.id, args.reason));
    return { structured: { fix }, text: `Fix ${fix.id} (${fix.ruleId} on ${fix.workload.kind} ${fix.workload.namespace}/${fix.workload.name}) rejected by ${fix.decidedBy}.` };
  },
});

export const listPendingFixes = defineTool({
  name: "list_pending_fixes",
  title: "List fixes waiting for an approval",
  description: "The fixes stored for an approval, with what each would change (diff and JSON Patch) and why it needs an approval.",
  inputSchema: {
    namespace: namespace.optional().describe("Only this namespace"),
    status: z.enum(["pending", "approved", "rejected", "stale", "obsolete"]).optional().describe("Default: pending"),
    limit,
  },
  outputSchema: { fixes: z.array(pendingSchema) },
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  async handler(args, ctx) {
    checkListNamespace(ctx.runtime, args.namespace);
    const fixes = new FixStore(ctx.runtime.db())
      .listPending({ namespace: args.namespace, status: args.status ?? "pending", limit: args.limit })
      .filter((f) => ctx.runtime.namespaceAllowed(f.namespace))
      .map(pendingView);
    const lines = fixes.map((f) => `- ${f.id} ${f.status} ${f.ruleId} [${f.severity}, ${f.risk} risk] on ${f.workload.kind} ${f.workload.namespace}/${f.workload.name}: ${f.reason}`);
    return { structured: { fixes }, text: [`${fixes.length} fix(es) ${args.status ?? "pending"}.`, ...lines].join("\n") };
  },
});

export const rollbackFix = defineTool({
  name: "rollback_fix",
  title: "Roll back an applied fix",
  description:
    "Restores the spec (and the labels / annotations the change touched) recorded before a change. Refuses when the workload was changed since, " +
    "so later edits are not lost, unless force is true. The rollback is itself recorded as a change.",
  inputSchema: {
    changeId,
    force: z.boolean().optional().describe("Restore even if the workload changed after the change"),
    rolloutTimeoutSeconds,
  },
  outputSchema: rollbackOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  writes: true,
  async handler(args, ctx) {
    const result = await rollbackChange(ctx.runtime, ctx.actor, args.changeId, { ...options(ctx, args.rolloutTimeoutSeconds), force: args.force });
    return { structured: result, text: rollbackText(result) };
  },
});

export const listFixHistory = defineTool({
  name: "list_fix_history",
  title: "List applied fixes and rollbacks",
  description: "Every change made by the fix tools, newest first: who, when, which rules, the diff, and whether it was rolled back.",
  inputSchema: { namespace: namespace.optional().describe("Only this namespace"), limit },
  outputSchema: { changes: z.array(changeSchema) },
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  async handler(args, ctx) {
    checkListNamespace(ctx.runtime, args.namespace);
    const changes = new FixStore(ctx.runtime.db())
      .listChanges({ namespace: args.namespace, limit: args.limit })
      .filter((c) => ctx.runtime.namespaceAllowed(c.namespace))
      .map(changeView);
    const lines = changes.map(
      (c) => `- ${c.id} ${c.createdAt} ${c.action} by ${c.actor} on ${c.workload.kind} ${c.workload.namespace}/${c.workload.name}: ${c.ruleIds.join(", ")}${c.rolledBackBy ? ` (rolled back by ${c.rolledBackBy})` : ""}`,
    );
    return { structured: { changes }, text: [`${changes.length} change(s).`, ...lines].join("\n") };
  },
});

function pendingView(f: PendingFix): z.infer<typeof pendingSchema> {
  return {
    id: f.id,
    createdAt: f.createdAt,
    actor: f.actor,
    workload: { namespace: f.namespace, kind: f.kind, name: f.name },
    ruleId: f.ruleId,
    severity: f.severity,
    category: f.category,
    risk: f.risk,
    reason: f.reason,
    patch: f.patch,
    findings: f.findings,
    diff: f.diff,
    status: f.status,
    decidedAt: f.decidedAt,
    decidedBy: f.decidedBy,
    decisionNote: f.decisionNote,
    changeId: f.changeId,
  };
}

function changeView(c: FixChange): z.infer<typeof changeSchema> {
  return {
    id: c.id,
    createdAt: c.createdAt,
    actor: c.actor,
    action: c.action,
    workload: { namespace: c.namespace, kind: c.kind, name: c.name },
    ruleIds: c.ruleIds,
    diff: c.diff,
    resourceVersionBefore: c.resourceVersionBefore,
    resourceVersionAfter: c.resourceVersionAfter,
    generationAfter: c.generationAfter,
    pendingId: c.pendingId,
    rollbackOf: c.rollbackOf,
    rolledBackBy: c.rolledBackBy,
  };
}
