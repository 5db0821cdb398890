// Covers the in-process engine: loading the committed wasm bundle, the host builtins it needs,
// findings for every workload kind, and bounded memory over 100,000 evaluations (npm-opa-wasm #143).
// Real components: the committed OPA-compiled policy.wasm and @open-policy-agent/opa-wasm.
import test from "ava";
import { PolicyBundle } from "../../src/policy/bundle.js";
import { PolicyEngine } from "../../src/policy/engine.js";
import { goSprintf } from "../../src/policy/builtins.js";

const bundle = await PolicyBundle.load();

function deployment(container: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "shop", ...extra },
    spec: { replicas: 2, template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "app", image: "nginx:1.25.3", ...container }] } } },
  };
}

const firing = (engine: PolicyEngine, object: Record<string, unknown>, context: Record<string, unknown> = {}) =>
  engine
    .evaluate({ object, context })
    .filter((r) => r.violations.length > 0)
    .map((r) => r.rule.id);

test("every rule of the bundle has a catalogue entry and a known category", (t) => {
  t.true(bundle.catalogue.length >= 53);
  for (const entry of bundle.catalogue) {
    t.regex(entry.id, /^[a-z0-9-]+$/);
    t.true(["security", "compliance", "performance", "cost", "operations"].includes(entry.category), entry.id);
    t.truthy(entry.remediation, entry.id);
  }
  t.is(new Set(bundle.catalogue.map((e) => e.id)).size, bundle.catalogue.length);
});

test("a privileged container fires privileged-container with the field path and a replace fix", (t) => {
  const engine = new PolicyEngine(bundle);
  const results = engine.evaluate({ object: deployment({ securityContext: { privileged: true } }), context: {} });
  const privileged = results.find((r) => r.rule.id === "privileged-container");
  t.deepEqual(privileged?.violations, [
    {
      msg: 'container "app" of Deployment "web" runs privileged (securityContext.privileged: true)',
      path: "/spec/template/spec/containers/0/securityContext/privileged",
      fix: [{ op: "replace", path: "/spec/template/spec/containers/0/securityContext/privileged", value: false }],
    },
  ]);
});

test("container rules cover init and ephemeral containers of every workload kind", (t) => {
  const engine = new PolicyEngine(bundle);
  const pod = {
    containers: [{ name: "a", image: "nginx:1", securityContext: { privileged: true } }],
    initContainers: [{ name: "i", image: "busybox:1", securityContext: { privileged: true } }],
    ephemeralContainers: [{ name: "e", image: "busybox:1", securityContext: { privileged: true } }],
  };
  const kinds: [string, Record<string, unknown>][] = [
    ["Pod", pod],
    ["Deployment", { template: { spec: pod } }],
    ["StatefulSet", { template: { spec: pod } }],
    ["DaemonSet", { template: { spec: pod } }],
    ["ReplicaSet", { template: { spec: pod } }],
    ["Job", { template: { spec: pod } }],
    ["CronJob", { schedule: "* * * * *", jobTemplate: { spec: { template: { spec: pod } } } }],
  ];
  for (const [kind, spec] of kinds) {
    const results = engine.evaluate({ object: { apiVersion: "v1", kind, metadata: { name: "x" }, spec }, context: {} });
    t.is(results.find((r) => r.rule.id === "privileged-container")?.violations.length, 3, kind);
  }
});

test("objects that are not workloads produce no findings", (t) => {
  const engine = new PolicyEngine(bundle);
  for (const kind of ["Service", "ConfigMap", "CustomResourceDefinition"]) {
    t.deepEqual(firing(engine, { apiVersion: "v1", kind, metadata: { name: "x" } }), [], kind);
  }
});

test("settings reach the rules as data.config", (t) => {
  const object = deployment({}, {});
  t.false(firing(new PolicyEngine(bundle), object).includes("allowed-registries"));
  const strict = new PolicyEngine(bundle, { settings: { allowedRegistries: ["registry.example.com"] } });
  t.true(firing(strict, object).includes("allowed-registries"));
  const allowed = new PolicyEngine(bundle, { settings: { allowedRegistries: ["docker.io"] } });
  t.false(firing(allowed, object).includes("allowed-registries"));
});

test("rules without their context facts say not evaluated; empty facts mean none exist", (t) => {
  const engine = new PolicyEngine(bundle);
  const unknown = engine.evaluate({ object: deployment({}), context: {} }).find((r) => r.rule.id === "network-policy");
  t.is(unknown?.violations.length, 0);
  t.is(unknown?.notEvaluated.length, 1);
  const none = engine.evaluate({ object: deployment({}), context: { networkPolicies: [] } }).find((r) => r.rule.id === "network-policy");
  t.is(none?.violations.length, 1);
  t.is(none?.notEvaluated.length, 0);
});

test("the bundle needs no builtin beyond what this host implements", (t) => {
  // PolicyBundle's constructor throws when a builtin would be missing; a bundle with one compiles fine here.
  t.notThrows(() => new PolicyBundle(bundle.module, bundle.catalogue, bundle.hash));
});

test("sprintf follows Go's formatting, as opa test does", (t) => {
  t.is(goSprintf("%s of %q: %d%%", ["a", "b", 7]), 'a of "b": 7%');
  t.is(goSprintf("%v", [["x", 1]]), '["x", 1]');
  t.is(goSprintf("%v", [{ a: true }]), '{"a": true}');
  t.is(goSprintf("%.2f|%5s|%-3d|", [1.005, "ab", 4]), "1.00|   ab|4  |");
  t.is(goSprintf("%s %s", ["only"]), "only %!s(MISSING)");
});

test("100,000 evaluations keep wasm and process memory bounded", (t) => {
  const engine = new PolicyEngine(bundle, { maxMemoryBytes: 32 * 1024 * 1024 });
  const inputs = [
    { object: deployment({ securityContext: { privileged: true } }), context: { networkPolicies: [] } },
    { object: deployment({ env: Array.from({ length: 10 }, (_, i) => ({ name: `VAR_${i}`, value: "x".repeat(200) })) }), context: {} },
  ];
  for (let i = 0; i < 5_000; i++) engine.evaluate(inputs[i % 2]!);
  global.gc?.();
  const rssAfterWarmup = process.memoryUsage().rss;
  let peakWasm = 0;
  for (let i = 0; i < 100_000; i++) {
    engine.evaluate(inputs[i % 2]!);
    if (i % 1000 === 0) peakWasm = Math.max(peakWasm, engine.memoryBytes);
  }
  global.gc?.();
  const rssGrowth = process.memoryUsage().rss - rssAfterWarmup;
  t.true(peakWasm <= 32 * 1024 * 1024 + 4 * 1024 * 1024, `wasm memory peaked at ${peakWasm} bytes`);
  t.true(rssGrowth < 64 * 1024 * 1024, `rss grew by ${rssGrowth} bytes over 100,000 evaluations`);
  t.is(engine.evaluations >= 105_000, true);
  t.log(`wasm memory peak ${(peakWasm / 1048576).toFixed(1)} MiB, instance recycled ${engine.recycled} time(s), rss growth ${(rssGrowth / 1048576).toFixed(1)} MiB`);
});

test("an instance past its memory cap is replaced and evaluation results stay the same", (t) => {
  const engine = new PolicyEngine(bundle, { maxMemoryBytes: 1 });
  const input = { object: deployment({ securityContext: { privileged: true } }), context: {} };
  const first = JSON.stringify(engine.evaluate(input));
  const second = JSON.stringify(engine.evaluate(input));
  t.is(second, first);
  t.is(engine.recycled, 2);
});
