// Covers auto-remediation on a real API server: a server-side dry run returns per-rule changes and a diff
// and changes nothing (same resourceVersion); applying makes the fixed rules pass on re-evaluation and
// touches no other field; a concurrent edit between our read and our patch is caught by the
// resourceVersion precondition, read again and kept; fixes the API server refuses (here: an organisation's
// ValidatingAdmissionPolicy) are named per rule and nothing is half-applied; a Windows pod gets no
// Linux-only security fix; StatefulSets, DaemonSets and CronJobs go through the same machinery;
// rollout progress is reported plainly when the cluster does not finish it.
// Real components: etcd + kube-apiserver from test/harness/cluster.ts (validation, defaulting, admission
// with a ValidatingAdmissionPolicy, RBAC, dry run; no controller manager, so status.observedGeneration
// is never set and rollouts never finish), the committed policy.wasm, SQLite on temporary files. The concurrent edit is injected
// through the remediator's beforePatch hook (it runs between our read and our patch), made by a second
// client as another writer would.
import test from "ava";
import { startCluster, type Cluster } from "../harness/cluster.js";
import { ChangedError, remediate, type RemediationResult } from "../../src/remediation/remediator.js";
import { applyPatch } from "../../src/remediation/json-patch.js";
import { AuditStore } from "../../src/store/audit-store.js";
import { FixStore } from "../../src/store/fix-store.js";
import { ALL_TOOLS } from "../../src/tools/index.js";
import type { EvaluationOutput } from "../../src/tools/evaluation.js";
import { Admin, clusterRuntime, content, cpuLimitOnlyDeployment, cronJob, daemonSet, fixtureDir, GUARANTEED_CPU, statefulSet, violatingDeployment, windowsDeployment, type KubeObject } from "./helpers.js";

let cluster: Cluster | undefined;
let admin: Admin;
const store = fixtureDir();

test.before(async (t) => {
  t.timeout(30 * 60_000); // a first run builds the apiserver (see test/harness/cluster.ts)
  cluster = await startCluster();
  admin = new Admin(cluster.adminKubeconfig);
  t.log(`cluster ready in ${cluster.timings.totalMs} ms`);
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

/** The auto-fixable rules of violatingDeployment (and cpuLimitOnlyDeployment) under AUTO_FIX (the high-risk ones wait for an approval). */
const AUTO_RULES = [
  "cpu-limits",
  "cpu-requests",
  "drop-all-capabilities",
  "memory-limits",
  "memory-requests",
  "pod-anti-affinity",
  "privilege-escalation",
  "run-as-non-root",
  "seccomp-profile",
  "security-context-required",
  "service-account-token",
];

async function evaluation(runtime: ReturnType<typeof clusterRuntime>["runtime"], namespace: string, deployment: string): Promise<EvaluationOutput> {
  return (await tool("evaluate_deployment_policies").run({ namespace, deployment }, { runtime, actor: "test" })).structured as unknown as EvaluationOutput;
}

const failingRules = (e: EvaluationOutput) => new Set([...e.violations, ...e.warnings].map((f) => f.ruleId));

test("dry run: the API server checks the merged fix, the answer has per-rule changes and a diff, and nothing changes", async (t) => {
  const c = need();
  await admin.namespace("dry-run");
  const created = await admin.create(violatingDeployment("dry-run", "web"));
  const { runtime, client } = clusterRuntime(c.adminKubeconfig, store.dir);
  client.requests = 0;
  const started = Date.now();
  const result = (await tool("auto_fix_policy_violations").run({ namespace: "dry-run", deployment: "web", dryRun: true }, { runtime, actor: "mcp:test" }))
    .structured as unknown as RemediationResult;
  t.log(`dry run: ${Date.now() - started} ms, ${client.requests} API requests`);

  t.is(result.status, "dry-run");
  t.deepEqual([...result.ruleIds].sort(), AUTO_RULES);
  t.deepEqual(result.changes.map((c) => c.ruleId).sort(), AUTO_RULES);
  t.deepEqual(result.failures, []);
  t.deepEqual(result.patch[0], { op: "test", path: "/metadata/resourceVersion", value: created.metadata.resourceVersion });
  t.deepEqual(
    result.pending.map((p) => [p.id, p.ruleId, p.reason]).sort(),
    [
      [null, "dangerous-capabilities", "high-risk fixes always need an approval"],
      [null, "read-only-root-filesystem", "high-risk fixes always need an approval"],
    ],
    "what would need an approval, not stored by a dry run",
  );
  t.true(result.manual.some((m) => m.ruleId === "liveness-probe" && m.remediation.length > 0));
  t.is(result.summary.fixed, result.changes.reduce((n, c) => n + c.findings.length, 0));
  t.true(result.summary.fixed > AUTO_RULES.length, "several rules fire once per container");
  // The diff is the server's answer, defaults included, as YAML lines.
  t.regex(result.diff, /^--- Deployment dry-run\/web \(resourceVersion \d+\)\n\+\+\+ Deployment dry-run\/web \(server-side dry run\)\n@@ /);
  for (const line of ["+            allowPrivilegeEscalation: false", "+      automountServiceAccountToken: false", "-          resources: {}", "+              memory: 512Mi"]) {
    t.true(result.diff.split("\n").includes(line), line);
  }
  t.is(result.rollout, null);
  t.is(result.changeId, null);

  const after = await admin.get("Deployment", "dry-run", "web");
  t.is(after.metadata.resourceVersion, created.metadata.resourceVersion, "resourceVersion unchanged");
  t.deepEqual(content(after), content(created));
  const fixes = new FixStore(runtime.db());
  t.deepEqual(fixes.listChanges(), []);
  t.deepEqual(fixes.listPending(), []);
  const [audit] = new AuditStore(runtime.db()).query({ action: "auto_fix_policy_violations" });
  t.is(audit?.outcome, "dry-run");
  t.is(audit?.actor, "mcp:test");
  t.deepEqual([...(audit?.ruleIds ?? [])].sort(), AUTO_RULES);
});

test("apply: the fixed rules pass on re-evaluation, no other field changes, and the rollout is reported plainly", async (t) => {
  const c = need();
  await admin.namespace("apply");
  const before = await admin.get("Deployment", "apply", (await admin.create(violatingDeployment("apply", "web"))).metadata.name);
  const { runtime, client } = clusterRuntime(c.adminKubeconfig, store.dir);
  const beforeEval = await evaluation(runtime, "apply", "web");
  for (const rule of AUTO_RULES) t.true(failingRules(beforeEval).has(rule), `${rule} fails before`);

  client.requests = 0;
  const started = Date.now();
  const result = (await tool("auto_fix_policy_violations").run({ namespace: "apply", deployment: "web", rolloutTimeoutSeconds: 1 }, { runtime, actor: "http:ops" }))
    .structured as unknown as RemediationResult;
  t.log(`apply: ${Date.now() - started} ms (1 s of it following the rollout), ${client.requests} API requests`);
  t.is(result.status, "applied");
  t.deepEqual([...result.ruleIds].sort(), AUTO_RULES);
  t.deepEqual(result.failures, []);
  t.is(result.attempts, 1);

  const after = await admin.get("Deployment", "apply", "web");
  t.not(after.metadata.resourceVersion, before.metadata.resourceVersion);
  t.is(result.resourceVersion.after, after.metadata.resourceVersion);
  t.is(after.metadata.generation, before.metadata.generation + 1);
  // Exactly the patch sent, nothing else: the object before with the patch applied is the object now.
  t.deepEqual(content(after), content(applyPatch(before, result.patch.slice(1)) as KubeObject));
  t.deepEqual(after.spec.template.spec.containers.map((c) => [c.name, c.image, c.ports ?? null]), before.spec.template.spec.containers.map((c) => [c.name, c.image, c.ports ?? null]));
  t.deepEqual((after.spec.template.spec.containers[0]!.securityContext as { capabilities: { add: string[] } }).capabilities.add, ["NET_ADMIN"], "the high-risk fix waits");

  const afterEval = await evaluation(runtime, "apply", "web");
  t.deepEqual(AUTO_RULES.filter((r) => failingRules(afterEval).has(r)), [], "none of the fixed rules fails any more");
  t.true(failingRules(afterEval).has("dangerous-capabilities"));

  t.deepEqual(result.rollout, {
    status: "timed-out",
    message:
      "the cluster did not finish the rollout within 1s: its controller has not observed generation 2 yet (observedGeneration: none); is the controller manager running?. The change is applied; the rollout continues (or not) on the cluster's side",
    generation: 2,
    observedGeneration: null,
    replicas: 2,
    updatedReplicas: null,
    readyReplicas: null,
    waitedMs: result.rollout!.waitedMs,
  });
  t.true(result.rollout!.waitedMs >= 1000 && result.rollout!.waitedMs < 3000, String(result.rollout!.waitedMs));

  const fixes = new FixStore(runtime.db());
  const [change] = fixes.listChanges({ namespace: "apply" });
  t.regex(result.changeId ?? "", /^chg-[0-9a-f]{8}$/);
  t.is(change?.id ?? null, result.changeId);
  t.is(change?.actor, "http:ops");
  t.deepEqual([...(change?.ruleIds ?? [])].sort(), AUTO_RULES);
  t.is(change?.resourceVersionAfter, after.metadata.resourceVersion);
  t.deepEqual(change?.before.spec, before.spec);
  t.deepEqual(change?.after.spec, after.spec);
  t.deepEqual(
    fixes.listPending({ namespace: "apply" }).map((p) => p.ruleId).sort(),
    ["dangerous-capabilities", "read-only-root-filesystem"],
    "the high-risk fixes are stored for an approval",
  );
  t.deepEqual(result.pending.map((p) => p.id).sort(), fixes.listPending({ namespace: "apply" }).map((p) => p.id).sort());

  // Running again finds nothing to apply, sends no patch, and proposes the same pending fixes.
  client.requests = 0;
  const again = await remediate(runtime, "http:ops", { namespace: "apply", kind: "Deployment", name: "web" });
  t.is(again.status, "nothing-to-fix");
  t.deepEqual(again.patch, []);
  t.is((await admin.get("Deployment", "apply", "web")).metadata.resourceVersion, after.metadata.resourceVersion);
  t.deepEqual(again.pending.map((p) => p.id).sort(), result.pending.map((p) => p.id).sort());
});

test("a concurrent edit between read and patch fails the resourceVersion test; the object is read again and the edit kept", async (t) => {
  const c = need();
  await admin.namespace("race");
  await admin.create(violatingDeployment("race", "web"));
  const { runtime } = clusterRuntime(c.adminKubeconfig, store.dir);
  const seen: number[] = [];
  const result = await remediate(
    runtime,
    "test",
    { namespace: "race", kind: "Deployment", name: "web" },
    {
      rolloutTimeoutMs: 0,
      beforePatch: async (attempt) => {
        seen.push(attempt);
        if (attempt === 0) {
          await admin.mergePatch("Deployment", "race", "web", {
            metadata: { annotations: { "edited-by": "someone-else" } },
            spec: { template: { spec: { containers: [{ name: "app", image: "registry.example.com/web:1.4.3" }] } } },
          });
        }
      },
    },
  );
  t.deepEqual(seen, [0, 1]);
  t.is(result.attempts, 2);
  t.is(result.status, "applied");
  const after = await admin.get("Deployment", "race", "web");
  t.is(after.metadata.annotations?.["edited-by"], "someone-else", "the other writer's annotation is kept");
  const app = after.spec.template.spec.containers[0]!;
  t.is(app.image, "registry.example.com/web:1.4.3", "the other writer's image is kept");
  t.is((app.securityContext as { allowPrivilegeEscalation?: boolean }).allowPrivilegeEscalation, false, "our fix is applied on top");
  t.true(result.patch.some((op) => op.op === "test" && op.value === result.resourceVersion.before));
  t.not(result.resourceVersion.before, (await admin.get("Deployment", "race", "web")).metadata.resourceVersion);
});

test("an object edited on every attempt: the retries run out with a clear error and none of our fixes is applied", async (t) => {
  const c = need();
  await admin.namespace("busy");
  await admin.create(violatingDeployment("busy", "web"));
  const { runtime } = clusterRuntime(c.adminKubeconfig, store.dir);
  let edits = 0;
  const error = await t.throwsAsync(
    remediate(
      runtime,
      "test",
      { namespace: "busy", kind: "Deployment", name: "web" },
      { maxRetries: 2, beforePatch: async () => void (await admin.mergePatch("Deployment", "busy", "web", { metadata: { annotations: { edit: String(++edits) } } })) },
    ),
    { instanceOf: ChangedError },
  );
  t.is(edits, 3);
  t.is(error?.message, "Deployment busy/web changed between our read and our patch 3 times in a row (resourceVersion precondition); nothing was applied. Try again when it is not being edited");
  t.is(error?.status, 409);
  const after = await admin.get("Deployment", "busy", "web");
  t.is(after.metadata.annotations?.edit, "3");
  t.is(after.spec.template.spec.containers[1]!.securityContext, undefined, "no fix reached the object");
  t.deepEqual(new FixStore(runtime.db()).listChanges({ namespace: "busy" }), []);
});

test("fixes the API server refuses are named per rule, nothing is half-applied, and the others apply when asked", async (t) => {
  const c = need();
  // The organisation's admission policy (Guaranteed QoS for CPU) admits the workload, whose sidecar sets a CPU
  // limit and no request, but refuses the cpu-requests fix: the default request on "app", which has no limit.
  await admin.namespace("invalid", GUARANTEED_CPU.label);
  t.log(`admission policy effective after ${await admin.enforceGuaranteedCpu("invalid")} ms`);
  const created = await admin.create(cpuLimitOnlyDeployment("invalid", "web"));
  const refusedRule = "cpu-requests";
  const others = AUTO_RULES.filter((r) => r !== refusedRule);
  const { runtime } = clusterRuntime(c.adminKubeconfig, store.dir);

  // The same answer from a server-side dry run (admission runs there too) and from a real run.
  for (const dryRun of [true, false]) {
    const what = dryRun ? "dry run" : "apply";
    const result = await remediate(runtime, "test", { namespace: "invalid", kind: "Deployment", name: "web", dryRun }, { rolloutTimeoutMs: 0 });
    t.is(result.status, "rejected", what);
    t.is(result.dryRun, dryRun, what);
    t.is(result.summary.fixed, 0, what);
    t.deepEqual(result.ruleIds, [], what);
    t.deepEqual(result.changes, [], what);
    const refused = result.failures.filter((f) => f.reason.startsWith("the API server refused this fix"));
    t.deepEqual(refused, [{ ruleId: refusedRule, reason: `the API server refused this fix: deployments.apps "web" is forbidden: ${GUARANTEED_CPU.denied}` }], what);
    const held = result.failures.filter((f) => f.reason.startsWith("not applied"));
    t.deepEqual(held.map((f) => f.ruleId).sort(), others, what);
    for (const f of held) t.regex(f.reason, /^not applied: the API server accepts this fix, but nothing is applied when part of the patch is refused; run again with rules: \[/, `${what}: ${f.ruleId}`);
    const suggested = JSON.parse(/run again with rules: (\[.*\])$/.exec(held[0]!.reason)![1]!) as string[];
    t.deepEqual([...suggested].sort(), others, what);
    t.is(result.failures.length, AUTO_RULES.length, what);
    t.is(result.summary.failed, AUTO_RULES.length, what);
    t.is(result.message, `Deployment invalid/web: the API server refused the merged fix; nothing was applied. ${refusedRule} — see failures.`, what);
    t.deepEqual(result.pending.map((p) => p.ruleId).sort(), ["dangerous-capabilities", "read-only-root-filesystem"], `${what}: the high-risk fixes are still proposed`);
    t.true(result.pending.every((p) => (p.id === null) === dryRun), `${what}: stored for an approval by a real run only`);
    const unchanged = await admin.get("Deployment", "invalid", "web");
    t.is(unchanged.metadata.resourceVersion, created.metadata.resourceVersion, `${what}: nothing was half-applied`);
    t.deepEqual(content(unchanged), content(created), what);
  }
  t.deepEqual(new FixStore(runtime.db()).listChanges({ namespace: "invalid" }), []);

  // Run again with the rules the answer suggests: all of them apply, and the admission policy admits the result.
  const rerun = await remediate(runtime, "test", { namespace: "invalid", kind: "Deployment", name: "web", rules: others }, { rolloutTimeoutMs: 0 });
  t.is(rerun.status, "applied");
  t.deepEqual([...rerun.ruleIds].sort(), others);
  t.deepEqual(rerun.failures, []);
  t.true(rerun.skipped.some((s) => s.ruleId === refusedRule && s.reason === "not in the rules filter"));
  const after = await admin.get("Deployment", "invalid", "web");
  t.is(rerun.resourceVersion.after, after.metadata.resourceVersion);
  t.deepEqual(
    after.spec.template.spec.containers.map((c) => [c.name, (c.resources as { requests?: { cpu?: string }; limits?: { cpu?: string } }).requests?.cpu ?? null, (c.resources as { limits?: { cpu?: string } }).limits?.cpu ?? null]),
    [
      ["app", null, "500m"],
      ["sidecar", null, "50m"],
    ],
    "CPU limits and no CPU request: what the admission policy allows",
  );
  t.deepEqual(new FixStore(runtime.db()).listChanges({ namespace: "invalid" }).map((ch) => ch.id), [rerun.changeId]);
  // With a CPU limit on every container Kubernetes copies it into the request: cpu-requests passes as well.
  const evaluated = await evaluation(runtime, "invalid", "web");
  t.deepEqual(AUTO_RULES.filter((r) => failingRules(evaluated).has(r)), []);
});

test("on a Windows pod no Linux-only security fix is proposed: the dry run is accepted and changes nothing", async (t) => {
  const c = need();
  await admin.namespace("windows");
  const created = await admin.create(windowsDeployment("windows", "win"));
  // The same Deployment on Linux, for contrast: there the three rules fire with a fix.
  const linux = windowsDeployment("windows", "lin") as { spec: { template: { spec: { os?: unknown } } } };
  delete linux.spec.template.spec.os;
  await admin.create(linux as unknown as Record<string, unknown>);
  const { runtime } = clusterRuntime(c.adminKubeconfig, store.dir);
  const LINUX_ONLY = ["drop-all-capabilities", "privilege-escalation", "security-context-required"];
  const fixesOf = (e: EvaluationOutput) => Object.fromEntries(LINUX_ONLY.map((id) => [id, [...e.violations, ...e.warnings].filter((f) => f.ruleId === id).map((f) => f.fix !== undefined && f.fix !== null)]));

  t.deepEqual(fixesOf(await evaluation(runtime, "windows", "lin")), { "drop-all-capabilities": [true], "privilege-escalation": [true], "security-context-required": [true] });
  const evaluated = await evaluation(runtime, "windows", "win");
  t.deepEqual(fixesOf(evaluated), { "drop-all-capabilities": [], "privilege-escalation": [], "security-context-required": [false] }, "only security-context-required fires, without a fix");
  t.false(failingRules(evaluated).has("seccomp-profile"));

  const result = await remediate(runtime, "test", { namespace: "windows", kind: "Deployment", name: "win", dryRun: true });
  t.is(result.status, "dry-run");
  t.deepEqual(result.failures, [], "the API server refuses none of the proposed fixes");
  t.deepEqual([...result.ruleIds].sort(), ["cpu-limits", "cpu-requests", "memory-limits", "memory-requests", "pod-anti-affinity", "run-as-non-root", "service-account-token"]);
  const securityContexts = result.patch.filter((op) => op.path.includes("/securityContext"));
  t.deepEqual(securityContexts, [{ op: "add", path: "/spec/template/spec/containers/0/securityContext", value: { runAsNonRoot: true } }], "runAsNonRoot, which Windows allows, is the only security setting");
  t.false(/allowPrivilegeEscalation|capabilities|seccompProfile|seLinuxOptions/.test(result.diff), result.diff);
  t.true(result.pending.every((p) => p.id === null), "a dry run stores no pending fix");
  const after = await admin.get("Deployment", "windows", "win");
  t.is(after.metadata.resourceVersion, created.metadata.resourceVersion);
  t.deepEqual(content(after), content(created));
  t.deepEqual(new FixStore(runtime.db()).listChanges({ namespace: "windows" }), []);
  t.deepEqual(new FixStore(runtime.db()).listPending({ namespace: "windows" }), []);
});

test("StatefulSet, DaemonSet and CronJob are fixed through the same machinery (fix_workload)", async (t) => {
  const c = need();
  await admin.namespace("kinds");
  const { runtime } = clusterRuntime(c.adminKubeconfig, store.dir);
  const cases = [
    { object: statefulSet("kinds", "db"), kind: "sts", name: "db", extra: [] as string[], rollout: "timed-out" as const },
    { object: daemonSet("kinds", "agent"), kind: "daemonsets", name: "agent", extra: ["host-pid"], rollout: "timed-out" as const },
    { object: cronJob("kinds", "report"), kind: "CronJob", name: "report", extra: [], rollout: "not-applicable" as const },
  ];
  for (const { object, kind, name, extra, rollout } of cases) {
    const before = await admin.create(object);
    const result = (await tool("fix_workload").run({ namespace: "kinds", kind, name, rolloutTimeoutSeconds: 0 }, { runtime, actor: "test" }))
      .structured as unknown as RemediationResult;
    t.is(result.status, "applied", name);
    t.is(result.workload.kind, before.kind as string);
    for (const rule of ["security-context-required", "privilege-escalation", "cpu-requests", "memory-limits", "service-account-token", ...extra]) {
      t.true(result.ruleIds.includes(rule), `${name}: ${rule}`);
    }
    t.deepEqual(result.failures, [], name);
    t.is(result.rollout?.status, rollout, name);
    const evaluated = (await tool("evaluate_workload").run({ namespace: "kinds", kind, name }, { runtime, actor: "test" })).structured as unknown as EvaluationOutput;
    t.deepEqual(result.ruleIds.filter((r) => failingRules(evaluated).has(r)), [], `${name}: the fixed rules pass`);
    const after = await admin.get(before.kind as "StatefulSet", "kinds", name);
    t.is(after.metadata.generation, before.metadata.generation + 1, name);
  }
  t.deepEqual(new FixStore(runtime.db()).listChanges({ namespace: "kinds" }).map((c) => c.kind).sort(), ["CronJob", "DaemonSet", "StatefulSet"]);
});
