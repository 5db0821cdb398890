// Covers approval, rollback, RBAC and the HTTP door of remediation on a real API server: a high-risk fix
// waits as a pending fix and approve_fix applies exactly it; an approval whose workload changed since is
// refused (stale) or finds nothing left to do (obsolete); rollback_fix restores the exact previous pod
// template (and the labels the change touched), refuses when the object changed since unless forced;
// a read-only user is refused before any write, with the access review as its only API request; over
// HTTP the token name is the actor recorded in the fix history and the audit log, and a read-only
// server does not offer the write tools; fix events (a fix refused by an organisation's admission policy,
// awaiting approval, applied, rolled back) reach the configured notification channels.
// Real components: etcd + kube-apiserver from test/harness/cluster.ts with its admin and readonly users
// (RBAC as on any cluster; a ValidatingAdmissionPolicy; no controller manager, so rollouts never
// finish), the committed policy.wasm, SQLite on temporary files, the koa HTTP server on a loopback port, the notifier. A local HTTP server
// stands where the Slack webhook would be.
import http from "node:http";
import type { AddressInfo } from "node:net";
import test from "ava";
import { startCluster, type Cluster } from "../harness/cluster.js";
import { ForbiddenError } from "../../src/errors.js";
import { startHttpServer } from "../../src/http/server.js";
import { notifierFor } from "../../src/notify/notifier.js";
import { applyPatch } from "../../src/remediation/json-patch.js";
import { approveFix, ChangedError, remediate, rollbackChange, type RemediationResult, type RollbackResult } from "../../src/remediation/remediator.js";
import { AuditStore } from "../../src/store/audit-store.js";
import { FixStore } from "../../src/store/fix-store.js";
import { ALL_TOOLS } from "../../src/tools/index.js";
import { Admin, clusterRuntime, content, cpuLimitOnlyDeployment, fixtureDir, GUARANTEED_CPU, violatingDeployment, type KubeObject } from "./helpers.js";

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
const tool = (name: string) => ALL_TOOLS.find((t) => t.name === name)!;
const PRIVILEGED = "/spec/template/spec/containers/0/securityContext/privileged";

/** violatingDeployment (or `base`) with "app" running privileged: privileged-container is a high-risk fix. */
function privilegedDeployment(namespace: string, name: string, base = violatingDeployment): Record<string, unknown> {
  const object = base(namespace, name) as { spec: { template: { spec: { containers: { securityContext?: unknown }[] } } } };
  object.spec.template.spec.containers[0]!.securityContext = { privileged: true };
  return object as unknown as Record<string, unknown>;
}

test("a high-risk fix waits for an approval, approve_fix applies exactly it, and a decision is taken once", async (t) => {
  const c = need();
  await admin.namespace("approval");
  await admin.create(privilegedDeployment("approval", "web"));
  const { runtime } = clusterRuntime(c.adminKubeconfig, store.dir);

  // The auto-fixable rules apply at once; privilege-escalation has no fix for "app" while it runs privileged
  // (the API server refuses allowPrivilegeEscalation: false there), so that finding is left for later.
  const first = await remediate(runtime, "http:bob", { namespace: "approval", kind: "Deployment", name: "web" }, { rolloutTimeoutMs: 0 });
  t.is(first.status, "applied");
  t.true(first.ruleIds.includes("privilege-escalation"), "fixed on the sidecar");
  t.false(first.ruleIds.includes("privileged-container"), "the high-risk fix is not applied");
  t.deepEqual(first.failures.map((f) => f.ruleId), ["privilege-escalation"], "still fails: on the privileged container");
  t.deepEqual(
    first.manual.filter((m) => m.ruleId === "privilege-escalation").map((m) => m.message),
    ['container "app" of Deployment "web" does not set securityContext.allowPrivilegeEscalation: false'],
    "a finding without a fix while the container is privileged",
  );
  t.false(first.patch.some((op) => op.path.startsWith("/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation")));
  const afterFirst = await admin.get("Deployment", "approval", "web");
  const [appContext, sidecarContext] = afterFirst.spec.template.spec.containers.map((c) => c.securityContext as Record<string, unknown>);
  t.is(appContext?.privileged, true);
  t.false("allowPrivilegeEscalation" in (appContext ?? {}));
  t.is(sidecarContext?.allowPrivilegeEscalation, false);
  const privileged = first.pending.find((p) => p.ruleId === "privileged-container");
  t.truthy(privileged?.id);
  t.is(privileged?.reason, "high-risk fixes always need an approval");
  t.deepEqual(privileged?.patch, [{ op: "replace", path: PRIVILEGED, value: false }]);

  const listed = (await tool("list_pending_fixes").run({ namespace: "approval" }, { runtime, actor: "http:alice" })).structured as {
    fixes: { id: string; ruleId: string; diff: string; actor: string; status: string }[];
  };
  const stored = listed.fixes.find((f) => f.id === privileged!.id)!;
  t.is(stored.actor, "http:bob");
  t.is(stored.status, "pending");
  t.true(stored.diff.split("\n").includes("-            privileged: true") && stored.diff.split("\n").includes("+            privileged: false"), stored.diff);

  const before = await admin.get("Deployment", "approval", "web");
  const approved = (await tool("approve_fix").run({ id: privileged!.id!, rolloutTimeoutSeconds: 0 }, { runtime, actor: "http:alice" }))
    .structured as unknown as RemediationResult;
  t.is(approved.status, "applied");
  t.deepEqual(approved.ruleIds, ["privileged-container"]);
  t.is(approved.approvedPendingId, privileged!.id);
  t.deepEqual(approved.patch, [
    { op: "test", path: "/metadata/resourceVersion", value: before.metadata.resourceVersion },
    { op: "replace", path: PRIVILEGED, value: false },
  ]);
  const after = await admin.get("Deployment", "approval", "web");
  t.deepEqual(content(after), content(applyPatch(before, [{ op: "replace", path: PRIVILEGED, value: false }]) as KubeObject), "that fix and nothing else");

  const fixes = new FixStore(runtime.db());
  const decided = fixes.pending(privileged!.id!)!;
  t.is(decided.status, "approved");
  t.is(decided.decidedBy, "http:alice");
  t.is(decided.changeId, approved.changeId);
  const change = fixes.change(approved.changeId!)!;
  t.is(change.action, "approve");
  t.is(change.actor, "http:alice");
  t.is(change.pendingId, privileged!.id);

  const twice = await t.throwsAsync(approveFix(runtime, "http:carol", privileged!.id!), { instanceOf: ChangedError });
  t.regex(twice!.message, new RegExp(`^fix ${privileged!.id} is approved \\(by http:alice at \\d{4}-\\d\\d-\\d\\dT[^)]+\\); only pending fixes can be approved$`));

  // With the container no longer privileged, privilege-escalation has a fix for it, and it applies.
  const second = await remediate(runtime, "http:bob", { namespace: "approval", kind: "Deployment", name: "web" }, { rolloutTimeoutMs: 0 });
  t.is(second.status, "applied");
  t.deepEqual(second.ruleIds, ["privilege-escalation"]);
  t.deepEqual(second.failures, []);
  t.deepEqual(second.patch, [
    { op: "test", path: "/metadata/resourceVersion", value: after.metadata.resourceVersion },
    { op: "add", path: "/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation", value: false },
  ]);

  const readOnly = second.pending.find((p) => p.ruleId === "read-only-root-filesystem")!;
  const rejected = (await tool("reject_fix").run({ id: readOnly.id!, reason: "the app writes to /tmp" }, { runtime, actor: "http:alice" })).structured as {
    fix: { status: string; decidedBy: string; decisionNote: string };
  };
  t.like(rejected.fix, { status: "rejected", decidedBy: "http:alice", decisionNote: "the app writes to /tmp" });
  const afterReject = await t.throwsAsync(approveFix(runtime, "http:bob", readOnly.id!), { instanceOf: ChangedError });
  t.regex(afterReject!.message, /is rejected \(by http:alice at /);
  const app = (await admin.get("Deployment", "approval", "web")).spec.template.spec.containers[0]!.securityContext as Record<string, unknown>;
  t.deepEqual([app.privileged, app.allowPrivilegeEscalation, app.readOnlyRootFilesystem], [false, false, undefined], "the approved fix and privilege-escalation's, not the rejected one");
});

test("an approval is refused when the workload changed since the proposal, and is obsolete when the rule passes", async (t) => {
  const c = need();
  await admin.namespace("stale");
  await admin.create(privilegedDeployment("stale", "web"));
  await admin.create(privilegedDeployment("stale", "other"));
  const { runtime } = clusterRuntime(c.adminKubeconfig, store.dir);
  const propose = async (name: string) => {
    const result = await remediate(runtime, "test", { namespace: "stale", kind: "Deployment", name, rules: ["privileged-container"] });
    t.is(result.status, "nothing-to-fix", "a pending fix is not applied");
    return result.pending[0]!.id!;
  };

  const staleId = await propose("web");
  // Another writer makes the sidecar privileged too (a merge patch replaces the whole list): the fix would now change two containers.
  const edited = await admin.mergePatch("Deployment", "stale", "web", {
    spec: { template: { spec: { containers: [{ name: "app", image: "registry.example.com/web:1.4.2", securityContext: { privileged: true } }, { name: "sidecar", image: "registry.example.com/proxy:2.0.1", securityContext: { privileged: true } }] } } },
  });
  const error = await t.throwsAsync(approveFix(runtime, "http:alice", staleId), { instanceOf: ChangedError });
  t.regex(error!.message, /^Deployment stale\/web changed since fix fix-[0-9a-f]{8} was proposed: the fix of privileged-container would now be \[.*containers\/1\/securityContext\/privileged.*\], not the approved \[.*\]\. Nothing was applied; run auto_fix_policy_violations again for a new proposal$/);
  t.is(new FixStore(runtime.db()).pending(staleId)?.status, "stale");
  t.is((await admin.get("Deployment", "stale", "web")).metadata.resourceVersion, edited.metadata.resourceVersion, "nothing applied");

  const obsoleteId = await propose("other");
  await admin.mergePatch("Deployment", "stale", "other", {
    spec: { template: { spec: { containers: [{ name: "app", image: "registry.example.com/web:1.4.2", securityContext: { privileged: false } }, { name: "sidecar", image: "registry.example.com/proxy:2.0.1" }] } } },
  });
  const obsolete = await approveFix(runtime, "http:alice", obsoleteId);
  t.is(obsolete.status, "obsolete");
  t.is(obsolete.changeId, null);
  t.regex(obsolete.message, /^rule privileged-container no longer fails on Deployment stale\/other: fix fix-[0-9a-f]{8} is obsolete and nothing was applied$/);
  t.is(new FixStore(runtime.db()).pending(obsoleteId)?.status, "obsolete");
});

test("rollback restores the exact previous pod template and the labels the change set, once", async (t) => {
  const c = need();
  await admin.namespace("rollback");
  const object = violatingDeployment("rollback", "web") as { metadata: { labels: Record<string, string> } };
  delete object.metadata.labels["app.kubernetes.io/name"]; // required-labels fixes it from metadata.name
  await admin.create(object as unknown as Record<string, unknown>);
  const before = await admin.get("Deployment", "rollback", "web");
  const { runtime } = clusterRuntime(c.adminKubeconfig, store.dir);
  const applied = await remediate(runtime, "test", { namespace: "rollback", kind: "Deployment", name: "web" }, { rolloutTimeoutMs: 0 });
  t.is(applied.status, "applied");
  t.true(applied.ruleIds.includes("required-labels"));
  const fixed = await admin.get("Deployment", "rollback", "web");
  t.notDeepEqual(fixed.spec.template, before.spec.template);
  t.is(fixed.metadata.labels?.["app.kubernetes.io/name"], "web");

  const result = (await tool("rollback_fix").run({ changeId: applied.changeId!, rolloutTimeoutSeconds: 0 }, { runtime, actor: "http:alice" }))
    .structured as unknown as RollbackResult;
  t.is(result.status, "rolled-back");
  t.is(result.forced, false);
  t.is(result.changedSince, null);
  const restored = await admin.get("Deployment", "rollback", "web");
  t.deepEqual(restored.spec.template, before.spec.template, "the exact previous pod template");
  t.deepEqual(restored.spec, before.spec);
  t.deepEqual(restored.metadata.labels, before.metadata.labels, "the label the fix added is gone again");
  t.is(restored.metadata.generation, fixed.metadata.generation + 1);
  t.regex(result.diff, /^-\s+allowPrivilegeEscalation: false$/m);

  const fixes = new FixStore(runtime.db());
  t.is(fixes.change(applied.changeId!)?.rolledBackBy, result.changeId);
  t.like(fixes.change(result.changeId!), { action: "rollback", rollbackOf: applied.changeId, actor: "http:alice" });
  const history = (await tool("list_fix_history").run({ namespace: "rollback" }, { runtime, actor: "test" })).structured as { changes: { id: string; action: string }[] };
  t.deepEqual(history.changes.map((h) => [h.id, h.action]), [
    [result.changeId, "rollback"],
    [applied.changeId, "fix"],
  ]);

  const again = await t.throwsAsync(rollbackChange(runtime, "test", applied.changeId!), { instanceOf: ChangedError });
  t.is(again?.message, `change ${applied.changeId} was already rolled back by ${result.changeId}; nothing was changed (force: true, or --force on the command line, restores its "before" state again)`);
});

test("rollback refuses when the workload changed after the change, and force restores the recorded spec", async (t) => {
  const c = need();
  await admin.namespace("rollback-edited");
  await admin.create(violatingDeployment("rollback-edited", "web"));
  const before = await admin.get("Deployment", "rollback-edited", "web");
  const { runtime } = clusterRuntime(c.adminKubeconfig, store.dir);
  const applied = await remediate(runtime, "test", { namespace: "rollback-edited", kind: "Deployment", name: "web" }, { rolloutTimeoutMs: 0 });
  const edited = await admin.mergePatch("Deployment", "rollback-edited", "web", {
    spec: { template: { spec: { containers: [{ name: "app", image: "registry.example.com/web:1.5.0" }] } } },
  });

  const refused = await t.throwsAsync(rollbackChange(runtime, "test", applied.changeId!), { instanceOf: ChangedError });
  t.is(
    refused?.message,
    `Deployment rollback-edited/web was changed after change ${applied.changeId}: its spec changed (generation 3 now, 2 after the change). Rolling back would discard those later edits, so nothing was changed; pass force: true (--force on the command line) to restore the spec recorded before the change anyway`,
  );
  t.is((await admin.get("Deployment", "rollback-edited", "web")).metadata.resourceVersion, edited.metadata.resourceVersion);

  const forced = await rollbackChange(runtime, "test", applied.changeId!, { force: true, rolloutTimeoutMs: 0 });
  t.is(forced.status, "rolled-back");
  t.true(forced.forced);
  t.is(forced.changedSince, "its spec changed (generation 3 now, 2 after the change)");
  t.deepEqual((await admin.get("Deployment", "rollback-edited", "web")).spec.template, before.spec.template);
});

test("a read-only user is refused before any write: the access review is its only API request", async (t) => {
  const c = need();
  await admin.namespace("ro");
  await admin.create(privilegedDeployment("ro", "web"));
  await admin.create(violatingDeployment("ro", "applied"));
  const shared = `ro-${Date.now()}.db`;
  const { runtime: adminRuntime } = clusterRuntime(c.adminKubeconfig, store.dir, undefined, { database: shared });
  const pendingId = (await remediate(adminRuntime, "test", { namespace: "ro", kind: "Deployment", name: "web", rules: ["privileged-container"] })).pending[0]!.id!;
  const changeId = (await remediate(adminRuntime, "test", { namespace: "ro", kind: "Deployment", name: "applied" }, { rolloutTimeoutMs: 0 })).changeId!;
  const versions = async () => [(await admin.get("Deployment", "ro", "web")).metadata.resourceVersion, (await admin.get("Deployment", "ro", "applied")).metadata.resourceVersion];
  const untouched = await versions();

  const { runtime, client } = clusterRuntime(c.readonlyKubeconfig, store.dir, undefined, { database: shared });
  const attempts: [string, () => Promise<unknown>, string][] = [
    ["apply", () => remediate(runtime, "test", { namespace: "ro", kind: "Deployment", name: "web" }), "web"],
    ["dry run", () => remediate(runtime, "test", { namespace: "ro", kind: "Deployment", name: "web", dryRun: true }), "web"],
    ["approve", () => approveFix(runtime, "test", pendingId), "web"],
    ["rollback", () => rollbackChange(runtime, "test", changeId), "applied"],
  ];
  for (const [what, attempt, name] of attempts) {
    client.requests = 0;
    const error = await t.throwsAsync(attempt(), { instanceOf: ForbiddenError }, what);
    t.is(client.requests, 1, `${what}: only the SelfSubjectAccessReview was sent`);
    t.is(
      error?.message,
      `forbidden: the credentials of context "readonly@kube-policy-test" may not patch deployments.apps "${name}" in namespace "ro"; nothing was attempted. Grant the patch verb (see config/deploy/kube-policy-autofix.yaml) to allow fixes`,
      what,
    );
  }
  t.deepEqual(await versions(), untouched);
  const fixes = new FixStore(runtime.db());
  t.is(fixes.pending(pendingId)?.status, "pending");
  t.is(fixes.change(changeId)?.rolledBackBy, null);
});

test("over HTTP the token name is the actor of the change and of the audit entry; a read-only server has no write tools", async (t) => {
  const c = need();
  await admin.namespace("http");
  await admin.create(violatingDeployment("http", "web"));
  const { runtime } = clusterRuntime(c.adminKubeconfig, store.dir);
  const server = await startHttpServer(runtime, { port: 0 }, { tokens: new Map([["ops", "s3cret-token"]]) });
  const { runtime: readOnlyRuntime } = clusterRuntime(c.adminKubeconfig, store.dir, undefined, { readOnly: true });
  const readOnly = await startHttpServer(readOnlyRuntime, { port: 0 }, { tokens: new Map([["ops", "s3cret-token"]]) });
  try {
    const post = (base: string, name: string, body: unknown) =>
      fetch(`${base}/tools/${name}`, { method: "POST", headers: { authorization: "Bearer s3cret-token" }, body: JSON.stringify(body) });
    const response = await post(server.url, "auto_fix_policy_violations", { namespace: "http", deployment: "web", rolloutTimeoutSeconds: 0 });
    t.is(response.status, 200);
    const result = (await response.json()) as RemediationResult;
    t.is(result.status, "applied");
    const history = (await (await post(server.url, "list_fix_history", { namespace: "http" })).json()) as { changes: { id: string; actor: string }[] };
    t.deepEqual(history.changes.map((h) => [h.id, h.actor]), [[result.changeId, "http:ops"]]);
    const [entry] = new AuditStore(runtime.db()).query({ action: "auto_fix_policy_violations", namespace: "http" });
    t.like(entry, { actor: "http:ops", outcome: "applied", resource: "Deployment/web" });
    t.false(JSON.stringify(new AuditStore(runtime.db()).query()).includes("s3cret-token"), "no token in the audit log");

    const hidden = await post(readOnly.url, "auto_fix_policy_violations", { namespace: "http", deployment: "web", dryRun: true });
    t.is(hidden.status, 404);
    t.regex(((await hidden.json()) as { error: { message: string } }).error.message, /^unknown tool "auto_fix_policy_violations"; available: /);
    const listed = (await (await fetch(`${readOnly.url}/tools`, { headers: { authorization: "Bearer s3cret-token" } })).json()) as { tools: { name: string }[] };
    t.deepEqual(listed.tools.filter((x) => ["auto_fix_policy_violations", "fix_workload", "approve_fix", "rollback_fix"].includes(x.name)), []);
    t.true(listed.tools.some((x) => x.name === "list_fix_history"));
  } finally {
    await server.close();
    await readOnly.close();
  }
});

test("fix events reach the configured channels: refused, awaiting approval, applied, rolled back", async (t) => {
  const c = need();
  const received: string[] = [];
  const receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    req.on("end", () => {
      received.push(body);
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/services/T0/B0/x`;
  try {
    // The organisation's admission policy refuses the cpu-requests fix (see GUARANTEED_CPU), so the merged fix is refused.
    await admin.namespace("notify", GUARANTEED_CPU.label);
    await admin.enforceGuaranteedCpu("notify");
    await admin.create(privilegedDeployment("notify", "web", cpuLimitOnlyDeployment));
    const { runtime } = clusterRuntime(c.adminKubeconfig, store.dir, { global: { autoFix: true }, notifications: { slack: { webhookUrl } } });
    const refused = await remediate(runtime, "http:bob", { namespace: "notify", kind: "Deployment", name: "web" }, { rolloutTimeoutMs: 0 });
    t.is(refused.status, "rejected");
    t.deepEqual(refused.failures.filter((f) => f.reason.startsWith("the API server refused this fix")).map((f) => f.ruleId), ["cpu-requests"]);
    const pendingId = refused.pending.find((p) => p.ruleId === "privileged-container")!.id!;
    const approved = await approveFix(runtime, "http:alice", pendingId, { rolloutTimeoutMs: 0 });
    const rolledBack = await rollbackChange(runtime, "http:alice", approved.changeId!, { rolloutTimeoutMs: 0 });
    // The notifier is loaded on first use and delivers in the background: wait until every message is out.
    const deadline = Date.now() + 10_000;
    while (received.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await notifierFor(runtime).idle();
    const all = received.join("\n");
    t.true(all.includes("Fix failed on Deployment notify/web (") && all.includes(`cpu-requests: the API server refused this fix: deployments.apps \\"web\\" is forbidden: ${GUARANTEED_CPU.denied}`), all.slice(0, 3000));
    t.true(all.includes(`Fix ${pendingId} awaits approval: Deployment notify/web (privileged-container)`));
    t.true(all.includes("Fix applied to Deployment notify/web (privileged-container)") && all.includes(`Change ${approved.changeId} applied by http:alice.`));
    t.true(all.includes(`Change ${approved.changeId} rolled back on Deployment notify/web`) && all.includes(`undone by change ${rolledBack.changeId}`));
    t.is(received.length, 5, "failed, two awaiting approval (privileged-container, read-only-root-filesystem), applied, rolled back");
  } finally {
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  }
});
