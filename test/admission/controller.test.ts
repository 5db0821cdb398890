// Covers the admission decisions that need no API server (src/http/admission.ts): what passes
// untouched (other kinds, deletes, subresources, controller-owned objects, objects being deleted,
// namespaces outside namespaces.allow/deny), objects made with generateName, a source without facts
// (fact rules not evaluated, never a denial for them), facts that cannot be read (answered anyway),
// a failing decision hook (answered anyway, logged), the short warnings and the denial message, the
// process-wide counters, and the namespace facts cache (one round per burst, TTL, refresh ahead of
// expiry, failures not kept).
// Real components: the committed policy.wasm through Runtime and PolicyEvaluator, the bundled demo
// manifests (MemorySource) as the workload source.
// Stand-ins: a facts source that throws or counts calls (instead of an API server that fails), a
// controllable clock for the cache, and an array as the decision logger.
import test from "ava";
import { MemorySource } from "../../src/kube/memory-source.js";
import { PolicyBundle } from "../../src/policy/bundle.js";
import { Runtime } from "../../src/runtime.js";
import type { PolicyConfig } from "../../src/config/types.js";
import {
  AdmissionController,
  AdmissionMetrics,
  NamespaceFactsCache,
  WARNINGS_MAX,
  WARNING_MAX_CHARS,
  admissionMetrics,
  formatDenial,
  formatWarnings,
  type AdmissionFinding,
  type DecisionLogger,
  type NamespaceFacts,
} from "../../src/http/admission.js";
import { admissionReview, violatingDeployment, type Json } from "./helpers.js";

const bundle = await PolicyBundle.load();
const demo = await MemorySource.demo();
const quiet: DecisionLogger = { info() {}, warn() {}, error() {} };

function controller(config: PolicyConfig = {}, options: { source?: Runtime["source"]; onDecision?: () => void; logger?: DecisionLogger } = {}) {
  const runtime = new Runtime(config, bundle, options.source ?? demo);
  return new AdmissionController(runtime, { metrics: new AdmissionMetrics(), logger: options.logger ?? quiet, onDecision: options.onDecision });
}

test("objects that are not workloads, deletes and subresources pass untouched", async (t) => {
  const c = controller();
  const configMap = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm", namespace: "shop" }, data: { a: "b" } };
  const cm = await c.review(admissionReview(configMap, { group: "", version: "v1", kind: "ConfigMap" }));
  t.true(cm.review.response.allowed);
  t.is(cm.decision.skipped, "ConfigMap is not a workload kind");
  t.is(cm.review.response.warnings, undefined);

  // Same kind, another group: not the Deployment the rules are written for.
  const other = await c.review(admissionReview(violatingDeployment("shop"), { group: "example.com" }));
  t.is(other.decision.skipped, "example.com/Deployment is not a workload kind");

  const del = await c.review(admissionReview(null, { operation: "DELETE" }));
  t.true(del.review.response.allowed);
  t.is(del.decision.skipped, "DELETE is not evaluated");

  const scale = admissionReview(violatingDeployment("shop"));
  (scale.request as Json).subResource = "scale";
  t.is((await c.review(scale)).decision.skipped, "subresource scale is not evaluated");
});

test("controller-owned objects and objects being deleted pass; the same Pod on its own is refused", async (t) => {
  const c = controller();
  const pod = (metadata: Json) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "app-7d4b9-x2x", namespace: "shop", ...metadata },
    spec: { containers: [{ name: "app", image: "nginx:latest", securityContext: { privileged: true } }] },
  });
  const owned = await c.review(admissionReview(pod({ ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "app-7d4b9", uid: "u", controller: true }] })));
  t.true(owned.review.response.allowed);
  t.is(owned.decision.skipped, "owned by ReplicaSet app-7d4b9, which is evaluated instead");

  const leaving = await c.review(admissionReview(pod({ deletionTimestamp: "2026-01-01T00:00:00Z" }), { operation: "UPDATE" }));
  t.is(leaving.decision.skipped, "the object is being deleted");

  const bare = await c.review(admissionReview(pod({})));
  t.false(bare.review.response.allowed);
  t.regex(bare.review.response.status?.message ?? "", /^kube-policy: Pod shop\/app-7d4b9-x2x violates \d+ rules under strict enforcement/);
});

test("namespaces outside namespaces.allow/deny pass untouched", async (t) => {
  const c = controller({ namespaces: { deny: ["sandbox-*"] } });
  const res = await c.review(admissionReview(violatingDeployment("sandbox-1")));
  t.true(res.review.response.allowed);
  t.regex(res.decision.skipped ?? "", /outside the configuration's namespaces\.allow\/deny/);
  t.false((await c.review(admissionReview(violatingDeployment("shop")))).review.response.allowed);
});

test("generateName: the message names the object by its prefix", async (t) => {
  const deployment = violatingDeployment("shop");
  (deployment.metadata as Json).name = undefined;
  (deployment.metadata as Json).generateName = "batch-";
  const res = await controller().review(admissionReview(deployment));
  t.false(res.review.response.allowed);
  t.true(res.review.response.status!.message.startsWith("kube-policy: Deployment shop/batch- violates"), res.review.response.status!.message);
});

test("without namespace facts the rules that need them are not evaluated, never a denial", async (t) => {
  const res = await controller().review(admissionReview(violatingDeployment("shop")));
  t.true(res.decision.notEvaluated.includes("network-policy"));
  t.false(res.decision.violations.some((v) => v.ruleId === "network-policy"));
  t.true(res.decision.violations.some((v) => v.ruleId === "privileged-container"));
});

test("facts that cannot be read: the review is answered on the object's own rules, with a note and a log line", async (t) => {
  const failing = Object.assign(Object.create(demo) as MemorySource, {
    contextFor: async (): Promise<NamespaceFacts> => {
      throw new Error("connect ECONNREFUSED 127.0.0.1:6443");
    },
  });
  const lines: string[] = [];
  const logger: DecisionLogger = { info() {}, warn: (_o, msg) => void lines.push(`warn ${msg}`), error: (_o, msg) => void lines.push(`error ${msg}`) };
  const res = await controller({}, { source: failing, logger }).review(admissionReview(violatingDeployment("shop")));
  t.false(res.review.response.allowed);
  t.true(res.decision.notes.some((n) => n.where === "facts" && n.message.includes("ECONNREFUSED")));
  t.true(res.decision.notEvaluated.includes("network-policy"));
  t.deepEqual(lines, ["warn admission: namespace facts unavailable"]);
});

test("a decision hook that throws does not fail the review; it is logged", async (t) => {
  const lines: string[] = [];
  const logger: DecisionLogger = { info() {}, warn() {}, error: (_o, msg) => void lines.push(msg ?? "") };
  const res = await controller({}, { logger, onDecision: () => { throw new Error("audit store down"); } }).review(admissionReview(violatingDeployment("shop")));
  t.false(res.review.response.allowed);
  t.deepEqual(lines, ["admission: the decision hook failed"]);
});

test("advisory configuration: nothing is refused, every finding is a warning", async (t) => {
  const res = await controller({ global: { enforcement: "advisory" } }).review(admissionReview(violatingDeployment("shop")));
  t.true(res.review.response.allowed);
  t.is(res.decision.decision, "warned");
  t.is(res.decision.mode, "advisory");
  t.is(res.decision.modeSource, "config");
  t.true(res.review.response.warnings!.length > 5);
});

const finding = (i: number, severity: AdmissionFinding["severity"] = "low", message = `message ${i}`): AdmissionFinding => ({
  ruleId: `rule-${String(i).padStart(2, "0")}`,
  severity,
  path: `spec.field${i}`,
  message,
});

test("warnings: worst first, at most 120 printable ASCII characters each, at most 20 with a count of the rest", (t) => {
  const many = Array.from({ length: 30 }, (_, i) => finding(i, i === 29 ? "critical" : "low", `${"x".repeat(200)} é`));
  const lines = formatWarnings(many);
  t.is(lines.length, WARNINGS_MAX);
  t.true(lines[0]!.startsWith("rule-29: "));
  for (const line of lines) {
    t.true(line.length <= WARNING_MAX_CHARS, line);
    t.regex(line, /^[\x20-\x7e]+$/);
  }
  t.true(lines[0]!.endsWith("..."));
  t.is(lines.at(-1), "kube-policy: 11 more findings (kube-policy eval -f <manifest> lists all)");
  t.deepEqual(formatWarnings([finding(1, "high", "short")]), ["rule-01: short"]);
});

test("denial message: every rule named, ten findings with their fields, the rest counted", (t) => {
  const message = formatDenial("Deployment shop/web", Array.from({ length: 13 }, (_, i) => finding(i, i === 12 ? "critical" : "medium")));
  t.true(message.startsWith("kube-policy: Deployment shop/web violates 13 rules under strict enforcement (rule-12, rule-00, rule-01,"), message);
  t.true(message.includes("[rule-12] spec.field12: message 12; [rule-00] spec.field0: message 0"));
  t.false(message.includes("[rule-10]"));
  t.true(message.endsWith("; and 3 more"));
  t.is(formatDenial("Pod a/b", [finding(1)]), "kube-policy: Pod a/b violates 1 rule under strict enforcement (rule-01): [rule-01] spec.field1: message 1");
});

test("admissionMetrics(): controllers without their own counters add to the process-wide ones", async (t) => {
  const before = admissionMetrics().namespaces["metrics-ns"]?.denied ?? 0;
  const c = new AdmissionController(new Runtime({}, bundle, demo), { logger: quiet });
  await c.review(admissionReview(violatingDeployment("metrics-ns"), { dryRun: true }));
  const after = admissionMetrics().namespaces["metrics-ns"];
  t.is(after?.denied, before + 1);
  t.is(after?.dryRun, 1);
});

// ---- NamespaceFactsCache ----

function countingSource() {
  const calls: string[] = [];
  let fail = false;
  const pending: (() => void)[] = [];
  return {
    calls,
    failNext: () => (fail = true),
    release: () => pending.splice(0).forEach((r) => r()),
    source: {
      contextFor: (namespace: string) => {
        calls.push(namespace);
        if (fail) {
          fail = false;
          return Promise.reject(new Error("forbidden"));
        }
        return new Promise<NamespaceFacts>((resolve) => pending.push(() => resolve({ context: { round: calls.length }, warnings: [] })));
      },
    },
  };
}

test("facts cache: concurrent reviews share one round; reused within the TTL; refreshed ahead of expiry; re-read after it", async (t) => {
  let now = 0;
  const s = countingSource();
  const cache = new NamespaceFactsCache(s.source, 5_000, () => now);
  const burst = Array.from({ length: 10 }, () => cache.get("shop"));
  s.release();
  const first = await Promise.all(burst);
  t.deepEqual(s.calls, ["shop"]);
  t.deepEqual(new Set(first.map((f) => f.startedAt)), new Set([0]));

  now = 1_000;
  t.deepEqual((await cache.get("shop")).context, { round: 1 });
  t.is(s.calls.length, 1);

  now = 3_000; // past half the TTL: answered from the cache, refreshed in the background
  const ahead = await cache.get("shop");
  t.deepEqual(ahead.context, { round: 1 });
  t.is(s.calls.length, 2);
  s.release();
  await new Promise((r) => setImmediate(r));
  t.deepEqual((await cache.get("shop")).context, { round: 2 });

  now = 9_000; // the refreshed round started at 3 000: expired now
  const late = cache.get("shop");
  s.release();
  t.deepEqual((await late).context, { round: 3 });
  t.is(s.calls.length, 3);

  // Reviews that need facts read after they began (to confirm a denial) share one new round.
  now = 9_500;
  const confirm = [cache.get("shop", { notBefore: 9_200 }), cache.get("shop", { notBefore: 9_400 })];
  now = 9_600;
  confirm.push(cache.get("shop", { notBefore: 9_300 }));
  s.release();
  t.deepEqual((await Promise.all(confirm)).map((f) => f.startedAt), [9_500, 9_500, 9_500]);
  t.is(s.calls.length, 4);
  t.is((await cache.get("shop", { notBefore: 9_000 })).startedAt, 9_500, "a round begun after notBefore is good enough");
  t.is(s.calls.length, 4);
});

test("facts cache: a failed round is not kept", async (t) => {
  const s = countingSource();
  const cache = new NamespaceFactsCache(s.source, 5_000, () => 0);
  s.failNext();
  await t.throwsAsync(cache.get("shop"), { message: "forbidden" });
  const again = cache.get("shop");
  s.release();
  t.deepEqual((await again).context, { round: 2 });
});
