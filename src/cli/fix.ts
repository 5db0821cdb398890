// kube-policy fix: remediation from the command line, through the same tool definitions the MCP and HTTP
// doors serve (fix_workload, approve_fix, reject_fix, rollback_fix, list_fix_history, list_pending_fixes),
// so validation, the Remediator, the fix history and the audit log are exactly those of the tools. A fix is
// a server-side dry run unless --apply is given.
// Exit codes: 0 done (or the dry run was accepted), 1 something was refused or failed (RBAC, the API
// server, a conflict, a rule still failing, an unreachable cluster), 2 bad input (arguments, an unknown
// workload or id, no cluster configured).
import { Command, Option } from "commander";
import { AppError, ConfigError, InvalidInputError, NotFoundError, toAppError } from "../errors.js";
import { findKubeconfig } from "../kube/kubeconfig.js";
import { normaliseKind, type WorkloadSource } from "../kube/source.js";
import { FIXABLE_KINDS, ReadOnlySourceError, type RemediationResult } from "../remediation/remediator.js";
import { Runtime } from "../runtime.js";
import { ALL_TOOLS } from "../tools/index.js";
import type { ToolContext } from "../tools/types.js";
import { cliActor, cliVia } from "./actor.js";

export interface FixCommonOptions {
  config?: string;
  kubeconfig?: string;
  context?: string;
  db?: string;
  format: "text" | "json";
}

export interface FixCommandOptions extends FixCommonOptions {
  namespace?: string;
  rule?: string[];
  dryRun?: boolean;
  apply?: boolean;
  all?: boolean;
  rolloutTimeout?: string;
}

/** Exit code of a refused command: 2 when the input was wrong, 1 when the cluster or the store refused. */
export function exitCodeFor(error: AppError): 1 | 2 {
  return error instanceof InvalidInputError || error instanceof NotFoundError || error instanceof ConfigError || error instanceof ReadOnlySourceError ? 2 : 1;
}

function fail(error: unknown): number {
  const e = toAppError(error);
  process.stderr.write(`kube-policy: ${e.describe()}\n`);
  if (!(error instanceof AppError) && process.env.KUBE_POLICY_DEBUG) console.error(error);
  return exitCodeFor(e);
}

/** A source for the subcommands that only read or write the local store (reject, history). */
const NO_CLUSTER: WorkloadSource = {
  description: "no cluster (the command only uses the local store)",
  clusterName: "none",
  writable: false,
  collect: () => Promise.reject(new ReadOnlySourceError("no cluster is configured (--kubeconfig, KUBECONFIG, ~/.kube/config, in-cluster)")),
  getWorkload: () => Promise.reject(new ReadOnlySourceError("no cluster is configured (--kubeconfig, KUBECONFIG, ~/.kube/config, in-cluster)")),
};

/** The cluster of --kubeconfig/--context (like scan), never the demo: fixes need a live cluster. */
async function openCluster(options: FixCommonOptions, required: boolean): Promise<WorkloadSource> {
  const location = findKubeconfig({ kubeconfig: options.kubeconfig, context: options.context });
  if (!location) {
    if (!required) return NO_CLUSTER;
    throw new ReadOnlySourceError("fixes need a live cluster and no kubeconfig was found: pass --kubeconfig (and --context), or set KUBECONFIG");
  }
  const { ClusterSource } = await import("../kube/cluster-source.js");
  return ClusterSource.connect(location);
}

async function withRuntime(options: FixCommonOptions, needsCluster: boolean, body: (ctx: ToolContext) => Promise<number>): Promise<number> {
  let runtime: Runtime | undefined;
  try {
    const source = await openCluster(options, needsCluster);
    runtime = await Runtime.create({ config: options.config, source, databasePath: options.db });
    return await body({ runtime, actor: cliActor(), via: cliVia(source) });
  } catch (error) {
    return fail(error);
  } finally {
    await runtime?.close();
  }
}

const tool = (name: string) => {
  const found = ALL_TOOLS.find((t) => t.name === name);
  if (!found) throw new AppError(`the ${name} tool is missing`);
  return found;
};

function print(options: FixCommonOptions, structured: unknown, text: string): void {
  process.stdout.write(options.format === "json" ? `${JSON.stringify(structured, null, 2)}\n` : `${text}\n`);
}

function rolloutSeconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 600) {
    throw new InvalidInputError("invalid --rollout-timeout", { details: [{ where: "--rollout-timeout", message: `${JSON.stringify(value)} is not a whole number of seconds from 0 to 600` }] });
  }
  return n;
}

/** A remediation that was refused in part or whole, or whose fix did not resolve its rule. */
const refused = (r: RemediationResult) => r.status === "rejected" || r.failures.length > 0;

function parseTarget(target: string): { kind: (typeof FIXABLE_KINDS)[number] | string; name: string } {
  const slash = target.indexOf("/");
  const kindText = slash > 0 ? target.slice(0, slash) : "";
  const name = slash > 0 ? target.slice(slash + 1) : "";
  const kind = normaliseKind(kindText);
  if (!kind || !name || name.includes("/")) {
    throw new InvalidInputError(`invalid workload ${JSON.stringify(target)}`, {
      details: [{ where: "<kind>/<name>", message: `expected a workload such as deployment/web (kinds: ${FIXABLE_KINDS.join(", ")}; plurals and kubectl short names accepted)` }],
    });
  }
  return { kind, name };
}

/** kube-policy fix <kind>/<name> -n <ns> | kube-policy fix -n <ns> --all */
export async function fixCommand(target: string | undefined, options: FixCommandOptions): Promise<number> {
  let request: { namespace: string; dryRun: boolean; rules?: string[]; rolloutTimeoutSeconds?: number; workload?: { kind: string; name: string } };
  try {
    if (options.all && target) throw new InvalidInputError("give either <kind>/<name> or --all, not both");
    if (!options.all && !target) throw new InvalidInputError("name the workload to fix (<kind>/<name>, e.g. deployment/web) or pass --all for every workload of the namespace");
    if (!options.namespace) throw new InvalidInputError("--namespace (-n) is required: the namespace of the workload(s) to fix");
    request = {
      namespace: options.namespace,
      dryRun: !options.apply,
      rules: options.rule,
      rolloutTimeoutSeconds: rolloutSeconds(options.rolloutTimeout),
      workload: target ? parseTarget(target) : undefined,
    };
  } catch (error) {
    return fail(error);
  }
  return withRuntime(options, true, async (ctx) => {
    const args = (kind: string, name: string) => ({
      namespace: request.namespace,
      kind,
      name,
      dryRun: request.dryRun,
      ...(request.rules ? { rules: request.rules } : {}),
      ...(request.rolloutTimeoutSeconds !== undefined ? { rolloutTimeoutSeconds: request.rolloutTimeoutSeconds } : {}),
    });
    if (request.workload) {
      const result = await tool("fix_workload").run(args(request.workload.kind, request.workload.name), ctx);
      print(options, result.structured, result.text);
      return refused(result.structured as unknown as RemediationResult) ? 1 : 0;
    }
    return fixNamespace(ctx, request.namespace, request.dryRun, options, args);
  });
}

/** The auto-fix run over a namespace: every Deployment, StatefulSet, DaemonSet and CronJob, one fix_workload call (and audit entry) each. */
async function fixNamespace(ctx: ToolContext, namespace: string, dryRun: boolean, options: FixCommonOptions, args: (kind: string, name: string) => Record<string, unknown>): Promise<number> {
  const { checkNamespace } = await import("../tools/evaluation.js");
  checkNamespace(ctx.runtime, namespace);
  const collection = await ctx.runtime.source.collect({ namespace, namespaceAllowed: (ns) => ctx.runtime.namespaceAllowed(ns) });
  const workloads = collection.workloads
    .map((w) => w.input.object as { kind?: string; metadata?: { name?: string; namespace?: string } })
    .filter((o) => (FIXABLE_KINDS as readonly string[]).includes(o.kind ?? "") && o.metadata?.namespace === namespace && o.metadata?.name)
    .map((o) => ({ kind: o.kind!, name: o.metadata!.name! }))
    .sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
  const results: { workload: { namespace: string; kind: string; name: string }; result?: Record<string, unknown>; error?: { code: string; message: string } }[] = [];
  const texts: string[] = [];
  let failed = 0;
  for (const w of workloads) {
    const workload = { namespace, kind: w.kind, name: w.name };
    try {
      const result = await tool("fix_workload").run(args(w.kind, w.name), ctx);
      results.push({ workload, result: result.structured });
      texts.push(result.text);
      if (refused(result.structured as unknown as RemediationResult)) failed++;
    } catch (error) {
      const e = toAppError(error);
      failed++;
      results.push({ workload, error: { code: e.code, message: e.message } });
      texts.push(`${w.kind} ${namespace}/${w.name}: refused: ${e.describe()}`);
    }
  }
  const statuses = results.map((r) => (r.error ? "error" : String(r.result?.status)));
  const count = (s: string) => statuses.filter((x) => x === s).length;
  const summary = {
    workloads: results.length,
    applied: count("applied"),
    dryRun: count("dry-run"),
    nothingToFix: count("nothing-to-fix"),
    rejected: count("rejected"),
    errors: count("error"),
    refusedOrFailed: failed,
  };
  const headline = `${dryRun ? "Dry run over" : "Fixed"} ${results.length} workload(s) in namespace ${namespace}: ${dryRun ? `${summary.dryRun} would change` : `${summary.applied} changed`}, ${summary.nothingToFix} had nothing to fix, ${failed} refused or failed.${dryRun ? " Nothing was changed (--apply applies)." : ""}`;
  print(options, { namespace, dryRun, summary, results }, [headline, ...texts.map((t) => `\n${t}`)].join("\n"));
  return failed > 0 ? 1 : 0;
}

export async function fixApproveCommand(id: string, options: FixCommonOptions & { rolloutTimeout?: string }): Promise<number> {
  return withRuntime(options, true, async (ctx) => {
    const timeout = rolloutSeconds(options.rolloutTimeout);
    const result = await tool("approve_fix").run({ id, ...(timeout !== undefined ? { rolloutTimeoutSeconds: timeout } : {}) }, ctx);
    print(options, result.structured, result.text);
    const r = result.structured as unknown as RemediationResult;
    return refused(r) || r.status === "obsolete" ? 1 : 0;
  });
}

export async function fixRejectCommand(id: string, options: FixCommonOptions & { reason: string }): Promise<number> {
  return withRuntime(options, false, async (ctx) => {
    const result = await tool("reject_fix").run({ id, reason: options.reason }, ctx);
    print(options, result.structured, result.text);
    return 0;
  });
}

export async function fixRollbackCommand(id: string, options: FixCommonOptions & { force?: boolean; rolloutTimeout?: string }): Promise<number> {
  return withRuntime(options, true, async (ctx) => {
    const timeout = rolloutSeconds(options.rolloutTimeout);
    const result = await tool("rollback_fix").run({ changeId: id, ...(options.force ? { force: true } : {}), ...(timeout !== undefined ? { rolloutTimeoutSeconds: timeout } : {}) }, ctx);
    print(options, result.structured, result.text);
    return 0;
  });
}

export const HISTORY_STATUSES = ["applied", "rolled-back", "pending", "approved", "rejected", "stale", "obsolete"] as const;

/** Changes (applied, rolled back) from list_fix_history; proposals by status from list_pending_fixes. */
export async function fixHistoryCommand(options: FixCommonOptions & { namespace?: string; status?: (typeof HISTORY_STATUSES)[number]; limit?: string }): Promise<number> {
  return withRuntime(options, false, async (ctx) => {
    const limit = options.limit === undefined ? undefined : Number(options.limit);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 1000)) {
      throw new InvalidInputError("invalid --limit", { details: [{ where: "--limit", message: `${JSON.stringify(options.limit)} is not a whole number from 1 to 1000` }] });
    }
    const common = { ...(options.namespace ? { namespace: options.namespace } : {}), ...(limit !== undefined ? { limit } : {}) };
    const status = options.status;
    if (status && status !== "applied" && status !== "rolled-back") {
      const result = await tool("list_pending_fixes").run({ ...common, status }, ctx);
      print(options, result.structured, result.text);
      return 0;
    }
    if (!status) {
      const result = await tool("list_fix_history").run(common, ctx);
      print(options, result.structured, result.text);
      return 0;
    }
    // The tool has no state filter: filter the newest 1,000 changes, then keep --limit of those.
    const result = await tool("list_fix_history").run({ ...common, limit: 1000 }, ctx);
    const changes = (result.structured.changes as { action: string; rolledBackBy: string | null; id: string; createdAt: string; actor: string; workload: { kind: string; namespace: string; name: string }; ruleIds: string[] }[])
      .filter((c) => (status === "rolled-back" ? c.rolledBackBy !== null : c.rolledBackBy === null && c.action !== "rollback"))
      .slice(0, limit ?? 100);
    const lines = changes.map((c) => `- ${c.id} ${c.createdAt} ${c.action} by ${c.actor} on ${c.workload.kind} ${c.workload.namespace}/${c.workload.name}: ${c.ruleIds.join(", ")}${c.rolledBackBy ? ` (rolled back by ${c.rolledBackBy})` : ""}`);
    print(options, { changes }, [`${changes.length} change(s) ${status}.`, ...lines].join("\n"));
    return 0;
  });
}

/**
 * The fix commands, registered on the kube-policy program. The connection options (--kubeconfig, --context,
 * --config, --db, --format, -n, --rollout-timeout) belong to `fix` and apply to its subcommands too
 * (commander reads a parent's options anywhere on the line), read with optsWithGlobals().
 */
export function registerFixCommands(program: Command, setExitCode: (code: number) => void): void {
  const fix = program
    .command("fix")
    .description("fix a workload's policy violations (a server-side dry run unless --apply; exit 1 when something was refused or failed, 2 on bad input)")
    .argument("[kind/name]", "the workload, e.g. deployment/web (Deployment, StatefulSet, DaemonSet, CronJob)")
    .option("-n, --namespace <namespace>", "namespace of the workload (with --all: the namespace to fix; with history: only this namespace)")
    .option("--all", "every Deployment, StatefulSet, DaemonSet and CronJob of --namespace")
    .option("--rule <id...>", "only fix these rule ids")
    .addOption(new Option("--dry-run", "only check the fixes with the API server and show the diff (the default)").conflicts("apply"))
    .addOption(new Option("--apply", "apply the fixes").conflicts("dryRun"))
    .option("--rollout-timeout <seconds>", "how long to follow the rollout after a change (default 60; 0 looks once)")
    .option("-c, --config <file|preset>", "policy configuration file, or production|staging|development")
    .option("--kubeconfig <file>", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)")
    .option("--context <name>", "kubeconfig context")
    .option("--db <file>", "history database (fix history, audit log; default: storage.path, $KUBE_POLICY_DB, ~/.local/share/kube-policy-mcp)")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .configureHelp({ showGlobalOptions: true })
    .action(async (target: string | undefined, options: FixCommandOptions) => setExitCode(await fixCommand(target, options)));
  type Opts = FixCommandOptions & { reason: string; force?: boolean; status?: (typeof HISTORY_STATUSES)[number]; limit?: string };
  const all = (command: Command) => command.optsWithGlobals<Opts>();
  const only = (command: Command, what: string, allowed: (keyof Opts)[]) => {
    const opts = all(command);
    const stray = (["all", "rule", "dryRun", "apply", "namespace", "rolloutTimeout"] as (keyof Opts)[]).filter((k) => opts[k] !== undefined && !allowed.includes(k));
    if (stray.length > 0) {
      throw new InvalidInputError(`fix ${what} does not take ${stray.map((k) => `--${String(k).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(", ")}`);
    }
    return opts;
  };
  const guard = (body: () => Promise<number>) => async () => setExitCode(await body().catch(fail));
  fix
    .command("approve")
    .description("approve and apply a pending fix")
    .argument("<id>", "pending fix id (fix-…)")
    .action((id: string, _o: unknown, command: Command) => guard(() => fixApproveCommand(id, only(command, "approve", ["rolloutTimeout"])))());
  fix
    .command("reject")
    .description("reject a pending fix (the cluster is not touched)")
    .argument("<id>", "pending fix id (fix-…)")
    .requiredOption("--reason <text>", "why, for the record")
    .action((id: string, _o: unknown, command: Command) => guard(() => fixRejectCommand(id, only(command, "reject", [])))());
  fix
    .command("rollback")
    .description("restore the spec recorded before a change (refused when the workload changed since, unless --force)")
    .argument("<id>", "change id (chg-…)")
    .option("--force", "restore even if the workload changed after the change")
    .action((id: string, _o: unknown, command: Command) => guard(() => fixRollbackCommand(id, only(command, "rollback", ["rolloutTimeout"])))());
  fix
    .command("history")
    .description("applied fixes and rollbacks, newest first; --status pending|approved|... lists proposals instead")
    .addOption(new Option("--status <status>", "applied and rolled-back filter the changes; the others list fix proposals").choices([...HISTORY_STATUSES]))
    .option("--limit <n>", "most entries (default 100)")
    .action((_o: unknown, command: Command) => guard(() => fixHistoryCommand(only(command, "history", ["namespace"])))());
}
