// Covers `kube-policy fix` end to end on a real API server, run as subprocesses: the default dry run
// prints the diff and changes nothing (same resourceVersion); --apply patches and the fixed rules pass
// afterwards; the pending approvals it stored are approved / rejected by id; history lists the change and
// rollback restores the object; a read-only kubeconfig is refused with the missing RBAC verb, exit 1 and
// nothing changed; unknown workloads and ids exit 2 with a message and no stack trace; --all runs over a
// namespace. Every call lands in the audit log as the tools' calls do, with the CLI actor.
// Real components: etcd + kube-apiserver from test/harness/cluster.ts (RBAC, dry run, no controller
// manager: rollouts never finish, so the commands pass --rollout-timeout 0), the CLI from src/ through tsx,
// the committed policy.wasm, SQLite on temporary files.
import os from "node:os";
import path from "node:path";
import test from "ava";
import { startCluster, type Cluster } from "../harness/cluster.js";
import { openDatabase } from "../../src/store/db.js";
import { AuditStore } from "../../src/store/audit-store.js";
import { FixStore } from "../../src/store/fix-store.js";
import { ALL_TOOLS } from "../../src/tools/index.js";
import type { EvaluationOutput } from "../../src/tools/evaluation.js";
import { Admin, clusterRuntime, content, fixtureDir, statefulSet, violatingDeployment } from "../remediation/helpers.js";
import { runCli, type CliRun as Run } from "../helpers/cli.js";

const USER = `cli:${os.userInfo().username}`;

let cluster: Cluster | undefined;
let admin: Admin;
const store = fixtureDir();

test.before(async (t) => {
  t.timeout(30 * 60_000); // a first run builds the apiserver (see test/harness/cluster.ts)
  cluster = await startCluster();
  admin = new Admin(cluster.adminKubeconfig);
});

test.after.always(async () => {
  await cluster?.stop();
  store.remove();
});

const need = (): Cluster => {
  if (!cluster) throw new Error("the cluster did not start (see test.before)");
  return cluster;
};

const cli = (args: string[]): Promise<Run> =>
  // KUBE_POLICY_DB: never the user's database, even when --db is lost.
  runCli(args, { from: "src", env: { LOG_LEVEL: "silent", KUBE_POLICY_DB: path.join(store.dir, "default.db"), KUBECONFIG: undefined } });

/** Auto-fix on (as the remediation tests' AUTO_FIX); high-risk fixes wait for an approval. */
async function configFile(): Promise<string> {
  const { writeFileSync } = await import("node:fs");
  const file = path.join(store.dir, "autofix.json");
  writeFileSync(file, JSON.stringify({ global: { autoFix: true } }));
  return file;
}

const noStack = (t: { false(v: boolean, m?: string): void }, run: Run) => t.false(/\n\s+at .+:\d+:\d+/.test(run.stderr), `no stack trace: ${run.stderr}`);

test("dry run by default, --apply, approve / reject, history and rollback, each recorded as the tools record it", async (t) => {
  const c = need();
  await admin.namespace("cli-fix");
  const created = await admin.create(violatingDeployment("cli-fix", "web"));
  const db = path.join(store.dir, "fix.db");
  const config = await configFile();
  const base = ["--kubeconfig", c.adminKubeconfig, "--db", db, "--config", config];

  const dry = await cli(["fix", "deployment/web", "-n", "cli-fix", ...base]);
  t.is(dry.code, 0, dry.stderr);
  t.regex(dry.stdout, /the API server accepted the fixes of .*in a dry run; nothing was changed/);
  t.regex(dry.stdout, /^--- Deployment cli-fix\/web \(resourceVersion \d+\)\n\+\+\+ Deployment cli-fix\/web \(server-side dry run\)$/m);
  t.true(dry.stdout.split("\n").includes("+            allowPrivilegeEscalation: false"), dry.stdout);
  t.regex(dry.stdout, /- needs approval dangerous-capabilities \[.*high risk\]: high-risk fixes always need an approval/);
  const unchanged = await admin.get("Deployment", "cli-fix", "web");
  t.is(unchanged.metadata.resourceVersion, created.metadata.resourceVersion, "the dry run changed nothing");

  const applied = await cli(["fix", "deploy/web", "-n", "cli-fix", "--apply", "--rollout-timeout", "0", "--format", "json", ...base]);
  t.is(applied.code, 0, applied.stderr);
  const result = JSON.parse(applied.stdout) as { status: string; changeId: string; failures: unknown[]; ruleIds: string[]; pending: { id: string; ruleId: string }[] };
  t.is(result.status, "applied");
  t.deepEqual(result.failures, []);
  t.regex(result.changeId, /^chg-[0-9a-f]{8}$/);
  const patched = await admin.get("Deployment", "cli-fix", "web");
  t.not(patched.metadata.resourceVersion, created.metadata.resourceVersion);
  const { runtime } = clusterRuntime(c.adminKubeconfig, store.dir, { global: { autoFix: true } });
  const evaluation = (await ALL_TOOLS.find((x) => x.name === "evaluate_deployment_policies")!.run({ namespace: "cli-fix", deployment: "web" }, { runtime, actor: "test" }))
    .structured as unknown as EvaluationOutput;
  const failing = new Set([...evaluation.violations, ...evaluation.warnings].map((f) => f.ruleId));
  t.deepEqual(result.ruleIds.filter((r) => failing.has(r)), [], "the fixed rules pass afterwards");
  await runtime.close();

  // The change and the approvals it stored, as the tools store them, with the CLI as the actor.
  const stored = openDatabase(db);
  const [change] = new FixStore(stored).listChanges({ namespace: "cli-fix" });
  t.is(change?.id, result.changeId);
  t.is(change?.actor, USER);
  const audit = new AuditStore(stored).query({ namespace: "cli-fix" }).reverse();
  t.deepEqual(
    audit.map((e) => [e.actor, e.action, e.resource, e.outcome]),
    [
      [USER, "fix_workload", "Deployment/web", "dry-run"],
      [USER, "fix_workload", "Deployment/web", "applied"],
    ],
  );
  t.deepEqual(audit[1]!.details.via, { door: "cli", osUser: os.userInfo().username, host: os.hostname(), kubeContext: "admin@kube-policy-test", kubeUser: "admin" });
  stored.close();

  const pending = await cli(["fix", "history", "--status", "pending", "--db", db, "--config", config]);
  t.is(pending.code, 0, pending.stderr);
  const capabilities = result.pending.find((p) => p.ruleId === "dangerous-capabilities")!;
  const rootFs = result.pending.find((p) => p.ruleId === "read-only-root-filesystem")!;
  t.true(pending.stdout.includes(`- ${capabilities.id} pending dangerous-capabilities`), pending.stdout);

  const rejected = await cli(["fix", "reject", rootFs.id, "--reason", "the app writes to /tmp", "--db", db, "--config", config]);
  t.is(rejected.code, 0, rejected.stderr);
  t.regex(rejected.stdout, new RegExp(`Fix ${rootFs.id} \\(read-only-root-filesystem on Deployment cli-fix/web\\) rejected by ${USER}`));
  const approved = await cli(["fix", "approve", capabilities.id, "--rollout-timeout", "0", ...base]);
  t.is(approved.code, 0, approved.stderr);
  t.regex(approved.stdout, /applied the fixes of dangerous-capabilities as change chg-[0-9a-f]{8}/);
  const capsNow = (await admin.get("Deployment", "cli-fix", "web")).spec.template.spec.containers[0]!.securityContext as { capabilities: { add?: string[] } };
  t.is(capsNow.capabilities.add, undefined, "the approved fix is applied");
  const again = await cli(["fix", "approve", capabilities.id, ...base]);
  t.is(again.code, 1, "a decided fix is refused");
  t.regex(again.stderr, /is approved \(by cli:.*\); only pending fixes can be approved/);

  const history = await cli(["fix", "history", "-n", "cli-fix", "--db", db, "--config", config]);
  t.is(history.code, 0, history.stderr);
  t.regex(history.stdout, /^2 change\(s\)\./);
  t.true(history.stdout.includes(`${result.changeId} `), history.stdout);

  // Undo the approval (the later change); the fix is then refused (the workload changed after it: that
  // rollback) until --force: back to the object as created.
  const approvalChange = /as change (chg-[0-9a-f]{8})/.exec(approved.stdout)![1]!;
  const undoApproval = await cli(["fix", "rollback", approvalChange, "--rollout-timeout", "0", ...base]);
  t.is(undoApproval.code, 0, undoApproval.stderr);
  t.regex(undoApproval.stdout, new RegExp(`change ${approvalChange} rolled back as change chg-`));
  const unforced = await cli(["fix", "rollback", result.changeId, "--rollout-timeout", "0", ...base]);
  t.is(unforced.code, 1, unforced.stderr);
  t.regex(unforced.stderr, new RegExp(`was changed after change ${result.changeId}: its spec changed .*nothing was changed; pass force: true \\(--force on the command line\\)`));
  const forced = await cli(["fix", "rollback", result.changeId, "--force", "--rollout-timeout", "0", ...base]);
  t.is(forced.code, 0, forced.stderr);
  t.regex(forced.stdout, new RegExp(`change ${result.changeId} rolled back as change chg-[0-9a-f]{8} \\(forced over later edits\\)`));
  t.deepEqual(content(await admin.get("Deployment", "cli-fix", "web")), content(created), "rollback restores the object");
  const rolledBack = await cli(["fix", "history", "--status", "rolled-back", "--db", db, "--config", config, "--format", "json"]);
  t.deepEqual(((JSON.parse(rolledBack.stdout) as { changes: { id: string }[] }).changes.map((x) => x.id)).sort(), [approvalChange, result.changeId].sort());
  // --limit counts the changes shown, after the filter (the newest changes are the two rollbacks themselves).
  const newestRolledBack = await cli(["fix", "history", "--status", "rolled-back", "--limit", "1", "--db", db, "--config", config, "--format", "json"]);
  t.deepEqual((JSON.parse(newestRolledBack.stdout) as { changes: { id: string }[] }).changes.map((x) => x.id), [approvalChange]);
});

test("a read-only kubeconfig is refused with the missing verb, exit 1, and nothing changes", async (t) => {
  const c = need();
  await admin.namespace("cli-readonly");
  const created = await admin.create(violatingDeployment("cli-readonly", "web"));
  const db = path.join(store.dir, "readonly.db");
  for (const mode of [[], ["--apply"]]) {
    const run = await cli(["fix", "deployment/web", "-n", "cli-readonly", ...mode, "--kubeconfig", c.readonlyKubeconfig, "--db", db, "--config", await configFile()]);
    t.is(run.code, 1, run.stderr);
    t.regex(run.stderr, /^kube-policy: forbidden: the credentials of context "readonly@kube-policy-test" may not patch deployments\.apps "web" in namespace "cli-readonly".*; nothing was attempted\. Grant the patch verb/);
    noStack(t, run);
    t.is(run.stdout, "");
  }
  t.is((await admin.get("Deployment", "cli-readonly", "web")).metadata.resourceVersion, created.metadata.resourceVersion);
  const stored = openDatabase(db);
  t.deepEqual(
    new AuditStore(stored).query({ namespace: "cli-readonly" }).map((e) => [e.actor, e.outcome]),
    [
      [USER, "error:forbidden"],
      [USER, "error:forbidden"],
    ],
  );
  stored.close();
});

test("bad input exits 2 with a message: unknown workload, unknown or malformed ids, a bad target, no cluster", async (t) => {
  const c = need();
  await admin.namespace("cli-bad");
  const db = path.join(store.dir, "bad.db");
  const base = ["--kubeconfig", c.adminKubeconfig, "--db", db];
  const cases: [string[], RegExp][] = [
    [["fix", "deployment/nope", "-n", "cli-bad", ...base], /^kube-policy: Deployment "nope" not found in namespace "cli-bad"/],
    [["fix", "approve", "fix-00000000", ...base], /^kube-policy: no pending fix with id "fix-00000000"/],
    [["fix", "reject", "fix-00000000", "--reason", "no", "--db", db], /^kube-policy: no pending fix with id "fix-00000000"/],
    [["fix", "rollback", "chg-00000000", ...base], /^kube-policy: no change with id "chg-00000000"/],
    [["fix", "approve", "web", ...base], /invalid arguments for approve_fix\n {2}- id: must be a pending fix id such as fix-1a2b3c4d/],
    [["fix", "web", "-n", "cli-bad", ...base], /invalid workload "web"\n {2}- <kind>\/<name>: expected a workload such as deployment\/web/],
    [["fix", "pod/web", "-n", "cli-bad", ...base], /cannot fix a Pod: the pod template of a Pod cannot be changed after creation/],
    [["fix", "deployment/web", ...base], /--namespace \(-n\) is required/],
    [["fix", "deployment/web", "-n", "cli-bad", "--dry-run", "--apply", ...base], /option '--dry-run' cannot be used with option '--apply'/],
    [["fix", "deployment/web", "-n", "cli-bad", "--db", db], /fixes need a live cluster and no kubeconfig was found/],
  ];
  for (const [args, message] of cases) {
    const run = await cli(args);
    t.is(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    t.regex(run.stderr, message, args.join(" "));
    noStack(t, run);
  }
});

test("--all dry-runs every fixable workload of the namespace and changes nothing", async (t) => {
  const c = need();
  await admin.namespace("cli-all");
  const web = await admin.create(violatingDeployment("cli-all", "web"));
  const db = await admin.create(statefulSet("cli-all", "db"));
  const run = await cli(["fix", "-n", "cli-all", "--all", "--format", "json", "--kubeconfig", c.adminKubeconfig, "--db", path.join(store.dir, "all.db"), "--config", await configFile()]);
  t.is(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout) as { dryRun: boolean; summary: { workloads: number; dryRun: number }; results: { workload: { kind: string; name: string }; result: { status: string } }[] };
  t.true(out.dryRun);
  t.deepEqual(
    out.results.map((r) => [r.workload.kind, r.workload.name, r.result.status]),
    [
      ["Deployment", "web", "dry-run"],
      ["StatefulSet", "db", "dry-run"],
    ],
  );
  t.is((await admin.get("Deployment", "cli-all", "web")).metadata.resourceVersion, web.metadata.resourceVersion);
  t.is((await admin.get("StatefulSet", "cli-all", "db")).metadata.resourceVersion, db.metadata.resourceVersion);
});
