// Covers the semantics of JSON custom rules (docs/CUSTOM_RULES.md): every operator passing and failing,
// a missing field, `[*]` paths over lists and maps (nested, empty, absent), quoted keys and indexes,
// Kubernetes quantities compared by value, `combine: any`, and `match` (kinds, scope, namespace globs,
// label selectors, match.conditions). All rules below go into one rule set, compiled once by the real
// OPA CLI with the built-in catalogue into a temporary cache directory, and run in process by the real
// PolicyEvaluator. Nothing is stubbed; the objects are plain Kubernetes manifests written inline.
import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { CustomRuleJson } from "../../../src/config/types.js";
import { PolicyBundle } from "../../../src/policy/bundle.js";
import { compileCustomRules, loadCustomRules, type CompiledRules } from "../../../src/policy/custom/compile.js";
import { PolicyEvaluator } from "../../../src/policy/evaluator.js";

const FILE = "test/rules.json";

const cond = (field: string, operator: string, value?: unknown) => ({ field, operator, ...(value === undefined ? {} : { value }) });
const rule = (id: string, conditions: ReturnType<typeof cond>[], extra: Partial<CustomRuleJson> = {}): CustomRuleJson => ({
  id,
  name: id,
  severity: "low",
  category: "operations",
  conditions,
  actions: [{ type: "deny", message: `${id} failed` }],
  ...extra,
});

// A condition no test object satisfies: a rule with it fires exactly when it applies.
const NEVER = cond("metadata.annotations.never-set", "exists");

const RULES: CustomRuleJson[] = [
  // ---- one rule per operator ----
  rule("op-equals", [cond("metadata.labels.team", "equals", "payments")]),
  rule("op-not-equals", [cond("metadata.labels.tier", "not_equals", "debug")]),
  rule("op-contains-string", [cond("metadata.annotations.contact", "contains", "@example.com")]),
  rule("op-contains-list", [cond("spec.template.spec.containers[*].args", "contains", "--secure")]),
  rule("op-not-contains-string", [cond("spec.template.spec.containers[*].image", "not_contains", ":latest")]),
  rule("op-not-contains-list", [cond("spec.template.spec.containers[*].args", "not_contains", "--insecure")]),
  rule("op-greater-than", [cond("spec.replicas", "greater_than", 1)]),
  rule("op-less-than", [cond("spec.template.spec.containers[*].resources.limits.memory", "less_than", "2Gi")]),
  rule("op-regex-match", [cond("metadata.name", "regex_match", "^[a-z][a-z0-9-]*-svc$")]),
  rule("op-exists", [cond("metadata.annotations.owner", "exists", true)]),
  rule("op-exists-no-value", [cond("metadata.annotations.runbook", "exists")]),
  rule("op-exists-false", [cond("spec.template.spec.hostNetwork", "exists", false)]),
  rule("op-not-exists", [cond("spec.template.spec.nodeName", "not_exists")]),
  rule("op-in", [cond("metadata.labels.env", "in", ["prod", "staging"])]),
  rule("op-not-in", [cond("metadata.namespace", "not_in", ["default", "kube-system"])]),

  // ---- every operator on a field that is absent ----
  rule("miss-equals", [cond("metadata.annotations.absent", "equals", "x")]),
  rule("miss-not-equals", [cond("metadata.annotations.absent", "not_equals", "x")]),
  rule("miss-contains", [cond("metadata.annotations.absent", "contains", "x")]),
  rule("miss-not-contains", [cond("metadata.annotations.absent", "not_contains", "x")]),
  rule("miss-greater-than", [cond("metadata.annotations.absent", "greater_than", "0")]),
  rule("miss-less-than", [cond("metadata.annotations.absent", "less_than", "1Ei")]),
  rule("miss-regex-match", [cond("metadata.annotations.absent", "regex_match", ".*")]),
  rule("miss-exists", [cond("metadata.annotations.absent", "exists", true)]),
  rule("miss-exists-false", [cond("metadata.annotations.absent", "exists", false)]),
  rule("miss-not-exists", [cond("metadata.annotations.absent", "not_exists")]),
  rule("miss-in", [cond("metadata.annotations.absent", "in", ["x"])]),
  rule("miss-not-in", [cond("metadata.annotations.absent", "not_in", ["x"])]),

  // ---- paths ----
  rule("path-images", [cond("spec.template.spec.containers[*].image", "regex_match", "^registry\\.example\\.com/")]),
  rule("path-init-images", [cond("spec.template.spec.initContainers[*].image", "regex_match", "^registry\\.example\\.com/")]),
  rule("path-ports", [cond("spec.template.spec.containers[*].ports[*].containerPort", "greater_than", 1024)]),
  rule("path-label-values", [cond("metadata.labels[*]", "regex_match", "^[a-z0-9-]*$")]),
  rule("path-quoted-key", [cond('metadata.labels["app.kubernetes.io/name"]', "equals", "shop")]),
  rule("path-index", [cond("spec.template.spec.containers[0].name", "equals", "app")]),

  // ---- quantities ----
  rule("q-memory", [cond("spec.template.spec.containers[*].resources.limits.memory", "less_than", "2Gi")]),
  rule("q-cpu", [cond("spec.template.spec.containers[*].resources.limits.cpu", "less_than", "1")]),
  rule("size-above-1e3", [cond("metadata.annotations.size", "greater_than", "1e3")]),
  rule("size-below-1k", [cond("metadata.annotations.size", "less_than", "1k")]),
  rule("size-between", [cond("metadata.annotations.size", "greater_than", 999), cond("metadata.annotations.size", "less_than", "1001")]),

  // ---- combine ----
  rule("any-owner", [cond("metadata.labels.team", "exists"), cond("metadata.annotations.owner", "exists")], { combine: "any" }),
  rule("all-owner", [cond("metadata.labels.team", "exists"), cond("metadata.annotations.owner", "exists")]),

  // ---- enabled ----
  rule("off-by-default", [NEVER], { enabled: false }),

  // ---- match ----
  rule("m-kinds", [NEVER], { match: { kinds: ["StatefulSet", "cronjob"] } }),
  rule("m-scope", [NEVER], { scope: "deployment" }),
  rule("m-namespaces", [NEVER], { match: { namespaces: ["prod-*", "payments"] } }),
  rule("m-match-labels", [NEVER], {
    match: {
      labelSelector: {
        matchLabels: { tier: "web" },
        matchExpressions: [
          { key: "env", operator: "In", values: ["prod", "staging"] },
          { key: "legacy", operator: "DoesNotExist" },
        ],
      },
    },
  }),
  rule("m-match-expressions", [NEVER], {
    match: {
      labelSelector: {
        matchExpressions: [
          { key: "team", operator: "Exists" },
          { key: "env", operator: "NotIn", values: ["dev"] },
        ],
      },
    },
  }),
  rule("m-conditions", [NEVER], { match: { conditions: [cond("metadata.labels.pci-scope", "equals", "true")] } }),
  rule("m-everything", [NEVER], {
    match: { kinds: ["Deployment"], namespaces: ["prod-*"], labelSelector: { matchLabels: { tier: "web" } }, conditions: [cond("spec.replicas", "greater_than", 2)] },
  }),
];

const IDS = new Set(RULES.map((r) => r.id));

let builtIn: PolicyBundle;
let compiled: CompiledRules;
let evaluator: PolicyEvaluator;
const cacheDir = mkdtempSync(path.join(os.tmpdir(), "kube-policy-test-rules-"));

test.before(async () => {
  builtIn = await PolicyBundle.load();
  const set = await loadCustomRules({ customRules: RULES }, FILE, builtIn);
  compiled = await compileCustomRules(set, { cacheDir });
  evaluator = new PolicyEvaluator(compiled.bundle, {});
});

test.after.always(() => rmSync(cacheDir, { recursive: true, force: true }));

interface Shown {
  ruleId: string;
  outcome: string;
  path: string;
  message: string;
}

/** The findings of the rules whose id starts with prefix, sorted. */
function findings(object: Record<string, unknown>, prefix: string, context: Record<string, unknown> = {}): Shown[] {
  return evaluator
    .evaluate({ object, context })
    .findings.filter((f) => IDS.has(f.ruleId) && f.ruleId.startsWith(prefix))
    .map((f) => ({ ruleId: f.ruleId, outcome: f.outcome, path: f.path, message: f.message }))
    .sort((a, b) => `${a.ruleId} ${a.path}`.localeCompare(`${b.ruleId} ${b.path}`));
}

/** The ids of the rules (by prefix) that fire on the object, sorted and once each. */
const fired = (object: Record<string, unknown>, prefix: string) => [...new Set(findings(object, prefix).map((f) => f.ruleId))].sort();

function workload(
  kind: string,
  metadata: Record<string, unknown>,
  podSpec: Record<string, unknown> = { containers: [{ name: "app", image: "registry.example.com/app:1.0" }] },
  spec: Record<string, unknown> = {},
) {
  return {
    apiVersion: kind === "CronJob" ? "batch/v1" : "apps/v1",
    kind,
    metadata: { name: "web", ...metadata },
    spec:
      kind === "CronJob"
        ? { schedule: "0 * * * *", jobTemplate: { spec: { template: { spec: podSpec } } } }
        : { ...spec, template: { metadata: { labels: { app: "web" } }, spec: podSpec } },
  };
}

test("the rule set compiles into one bundle with the built-in rules, each custom rule named by file#id", (t) => {
  t.false(compiled.cached);
  const custom = compiled.bundle.catalogue.filter((e) => e.source === "custom");
  t.deepEqual(custom.map((e) => e.id).sort(), [...IDS].sort());
  t.deepEqual(
    compiled.bundle.catalogue.filter((e) => e.source === "built-in"),
    builtIn.catalogue,
  );
  const equals = compiled.bundle.byId.get("op-equals")!;
  t.is(equals.file, `${FILE}#op-equals`);
  t.is(equals.package, "kubepolicy.custom.op_equals");
  t.is(equals.action, "deny");
});

// ---- operators ----

const COMPLIANT = workload(
  "Deployment",
  {
    name: "pay-svc",
    namespace: "shop",
    labels: { team: "payments", tier: "web", env: "prod" },
    annotations: { contact: "payments@example.com", owner: "payments", runbook: "https://runbooks.example.com/pay" },
  },
  {
    containers: [
      { name: "app", image: "registry.example.com/pay:1.4.2", args: ["--secure", "--port=8080"], resources: { limits: { memory: "1536Mi" } } },
      { name: "sidecar", image: "registry.example.com/proxy:2.0", args: ["--secure"], resources: { limits: { memory: "128Mi" } } },
    ],
  },
  { replicas: 3 },
);

const VIOLATING = workload(
  "Deployment",
  { name: "Pay", namespace: "default", labels: { team: "Payments", tier: "debug", env: "dev" }, annotations: { contact: "payments@example.org" } },
  {
    hostNetwork: true,
    nodeName: "node-1",
    containers: [
      { name: "app", image: "registry.example.com/pay:latest", args: ["--port=8080"], resources: { limits: { memory: "2Gi" } } },
      { name: "debug", image: "registry.example.com/debug:1.0", args: ["--secure", "--insecure"], resources: { limits: { memory: "64Mi" } } },
    ],
  },
  { replicas: 1 },
);

test("a compliant object satisfies every operator: no op- rule fires", (t) => {
  t.deepEqual(findings(COMPLIANT, "op-"), []);
});

test("a violating object fails every operator, each at the element that fails it", (t) => {
  t.deepEqual(
    findings(VIOLATING, "op-").map((f) => [f.ruleId, f.outcome, f.path]),
    [
      ["op-contains-list", "violation", "spec.template.spec.containers[0].args"],
      ["op-contains-string", "violation", "metadata.annotations.contact"],
      ["op-equals", "violation", "metadata.labels.team"],
      ["op-exists", "violation", "metadata.annotations.owner"],
      ["op-exists-false", "violation", "spec.template.spec.hostNetwork"],
      ["op-exists-no-value", "violation", "metadata.annotations.runbook"],
      ["op-greater-than", "violation", "spec.replicas"],
      ["op-in", "violation", "metadata.labels.env"],
      ["op-less-than", "violation", "spec.template.spec.containers[0].resources.limits.memory"],
      ["op-not-contains-list", "violation", "spec.template.spec.containers[1].args"],
      ["op-not-contains-string", "violation", "spec.template.spec.containers[0].image"],
      ["op-not-equals", "violation", "metadata.labels.tier"],
      ["op-not-exists", "violation", "spec.template.spec.nodeName"],
      ["op-not-in", "violation", "metadata.namespace"],
      ["op-regex-match", "violation", "metadata.name"],
    ],
  );
});

test("each finding's message is the rule's action message, the field and what it must satisfy", (t) => {
  const messages = Object.fromEntries(findings(VIOLATING, "op-").map((f) => [f.ruleId, f.message]));
  t.deepEqual(messages, {
    "op-contains-list": 'op-contains-list failed (spec.template.spec.containers[0].args must contain "--secure")',
    "op-contains-string": 'op-contains-string failed (metadata.annotations.contact must contain "@example.com")',
    "op-equals": 'op-equals failed (metadata.labels.team must equal "payments")',
    "op-exists": "op-exists failed (metadata.annotations.owner must be set)",
    "op-exists-false": "op-exists-false failed (spec.template.spec.hostNetwork must not be set)",
    "op-exists-no-value": "op-exists-no-value failed (metadata.annotations.runbook must be set)",
    "op-greater-than": "op-greater-than failed (spec.replicas must be greater than 1)",
    "op-in": 'op-in failed (metadata.labels.env must be one of "prod", "staging")',
    "op-less-than": "op-less-than failed (spec.template.spec.containers[0].resources.limits.memory must be less than 2Gi)",
    "op-not-contains-list": 'op-not-contains-list failed (spec.template.spec.containers[1].args must not contain "--insecure")',
    "op-not-contains-string": 'op-not-contains-string failed (spec.template.spec.containers[0].image must not contain ":latest")',
    "op-not-equals": 'op-not-equals failed (metadata.labels.tier must be set and not equal "debug")',
    "op-not-exists": "op-not-exists failed (spec.template.spec.nodeName must not be set)",
    "op-not-in": 'op-not-in failed (metadata.namespace must be set and not one of "default", "kube-system")',
    "op-regex-match": "op-regex-match failed (metadata.name must match ^[a-z][a-z0-9-]*-svc$)",
  });
});

test("equals is exact about types: the boolean true is not the string \"true\"", (t) => {
  // m-conditions applies to objects whose label pci-scope equals the string "true".
  t.deepEqual(fired(workload("DaemonSet", { namespace: "dev", labels: { "pci-scope": "true" } }), "m-conditions"), ["m-conditions"]);
  t.deepEqual(fired(workload("DaemonSet", { namespace: "dev", labels: { "pci-scope": true as unknown as string } }), "m-conditions"), []);
});

test("a missing field fails every operator except not_exists (and exists false)", (t) => {
  const object = workload("Deployment", { namespace: "shop" });
  t.deepEqual(fired(object, "miss-"), [
    "miss-contains",
    "miss-equals",
    "miss-exists",
    "miss-greater-than",
    "miss-in",
    "miss-less-than",
    "miss-not-contains",
    "miss-not-equals",
    "miss-not-in",
    "miss-regex-match",
  ]);
  // The same field present: exists passes, not_exists and exists false fail.
  const present = workload("Deployment", { namespace: "shop", annotations: { absent: "x" } });
  // ("x" is no quantity, so greater_than and less_than fail too.)
  t.deepEqual(fired(present, "miss-"), [
    "miss-exists-false",
    "miss-greater-than",
    "miss-less-than",
    "miss-not-contains",
    "miss-not-equals",
    "miss-not-exists",
    "miss-not-in",
  ]);
});

// ---- [*] paths ----

test("[*] over a list: every element must satisfy the condition, each failing element is its own finding", (t) => {
  const object = workload("Deployment", { namespace: "shop" }, {
    containers: [
      { name: "a", image: "registry.example.com/a:1" },
      { name: "b", image: "docker.io/library/nginx:1.25" },
      { name: "c", image: "ghcr.io/example/c:2" },
    ],
  });
  t.deepEqual(findings(object, "path-images"), [
    {
      ruleId: "path-images",
      outcome: "violation",
      path: "spec.template.spec.containers[1].image",
      message: "path-images failed (spec.template.spec.containers[1].image must match ^registry\\.example\\.com/)",
    },
    {
      ruleId: "path-images",
      outcome: "violation",
      path: "spec.template.spec.containers[2].image",
      message: "path-images failed (spec.template.spec.containers[2].image must match ^registry\\.example\\.com/)",
    },
  ]);
  const allGood = workload("Deployment", { namespace: "shop" }, { containers: [{ name: "a", image: "registry.example.com/a:1" }, { name: "b", image: "registry.example.com/b:1" }] });
  t.deepEqual(findings(allGood, "path-images"), []);
});

test("[*] over an empty or absent list passes; one failing element fails", (t) => {
  const base = { containers: [{ name: "a", image: "registry.example.com/a:1" }] };
  t.deepEqual(fired(workload("Deployment", { namespace: "shop" }, base), "path-init-images"), [], "absent initContainers");
  t.deepEqual(fired(workload("Deployment", { namespace: "shop" }, { ...base, initContainers: [] }), "path-init-images"), [], "empty initContainers");
  const bad = workload("Deployment", { namespace: "shop" }, { ...base, initContainers: [{ name: "init", image: "busybox:1.36" }] });
  t.deepEqual(
    findings(bad, "path-init-images").map((f) => f.path),
    ["spec.template.spec.initContainers[0].image"],
  );
  // An element without the field fails: a missing field never passes.
  const imageless = workload("Deployment", { namespace: "shop" }, { ...base, initContainers: [{ name: "init" }] });
  t.deepEqual(fired(imageless, "path-init-images"), ["path-init-images"]);
});

test("nested [*]: containers[*].ports[*].containerPort checks every port of every container", (t) => {
  const object = workload("Deployment", { namespace: "shop" }, {
    containers: [
      { name: "a", image: "x", ports: [{ containerPort: 8080 }, { containerPort: 80 }] },
      { name: "b", image: "x" },
      { name: "c", image: "x", ports: [] },
      { name: "d", image: "x", ports: [{ containerPort: 443 }, { containerPort: 9090 }, { name: "no-port" }] },
    ],
  });
  t.deepEqual(findings(object, "path-ports").map((f) => [f.path, f.message]), [
    ["spec.template.spec.containers[0].ports[1].containerPort", "path-ports failed (spec.template.spec.containers[0].ports[1].containerPort must be greater than 1024)"],
    ["spec.template.spec.containers[3].ports[0].containerPort", "path-ports failed (spec.template.spec.containers[3].ports[0].containerPort must be greater than 1024)"],
    ["spec.template.spec.containers[3].ports[2].containerPort", "path-ports failed (spec.template.spec.containers[3].ports[2].containerPort must be greater than 1024)"],
  ]);
  const fine = workload("Deployment", { namespace: "shop" }, { containers: [{ name: "a", image: "x", ports: [{ containerPort: 8080 }] }, { name: "b", image: "x" }] });
  t.deepEqual(fired(fine, "path-ports"), []);
});

test("[*] over a map ranges over its values, named by key in the finding", (t) => {
  const object = workload("Deployment", { namespace: "shop", labels: { team: "payments", Owner: "Jane Doe", tier: "web", version: "1.2" } });
  t.deepEqual(findings(object, "path-label-values").map((f) => [f.path, f.message]), [
    ["metadata.labels.Owner", 'path-label-values failed (metadata.labels["Owner"] must match ^[a-z0-9-]*$)'],
    ["metadata.labels.version", 'path-label-values failed (metadata.labels["version"] must match ^[a-z0-9-]*$)'],
  ]);
  t.deepEqual(fired(workload("Deployment", { namespace: "shop", labels: { team: "payments" } }), "path-label-values"), []);
  t.deepEqual(fired(workload("Deployment", { namespace: "shop" }), "path-label-values"), [], "no labels at all: nothing fails");
});

test('a quoted key reaches labels with dots and slashes: metadata.labels["app.kubernetes.io/name"]', (t) => {
  const good = workload("Deployment", { namespace: "shop", labels: { "app.kubernetes.io/name": "shop" } });
  t.deepEqual(fired(good, "path-quoted-key"), []);
  // A label named like the path's segments does not count: the key is the whole quoted string.
  const nested = workload("Deployment", { namespace: "shop", labels: { app: "shop", "app.kubernetes.io/name": "cart" } });
  const found = evaluator.evaluate({ object: nested, context: {} }).findings.filter((f) => f.ruleId === "path-quoted-key");
  t.deepEqual(
    found.map((f) => [f.pointer, f.path, f.message]),
    [["/metadata/labels/app.kubernetes.io~1name", 'metadata.labels["app.kubernetes.io/name"]', 'path-quoted-key failed (metadata.labels["app.kubernetes.io/name"] must equal "shop")']],
  );
});

test("an index path checks that element only", (t) => {
  const first = workload("Deployment", { namespace: "shop" }, { containers: [{ name: "app", image: "x" }, { name: "other", image: "x" }] });
  t.deepEqual(fired(first, "path-index"), []);
  const second = workload("Deployment", { namespace: "shop" }, { containers: [{ name: "other", image: "x" }, { name: "app", image: "x" }] });
  t.deepEqual(findings(second, "path-index").map((f) => f.path), ["spec.template.spec.containers[0].name"]);
});

// ---- quantities ----

test("memory quantities compare by value: 1536Mi < 2Gi; 2Gi, 2048Mi and 3Gi are not", (t) => {
  const object = workload("Deployment", { namespace: "shop" }, {
    containers: ["1536Mi", "2Gi", "2048Mi", "3Gi", "1Gi", "2147483647", "2147483648"].map((memory, i) => ({ name: `c${i}`, image: "x", resources: { limits: { memory } } })),
  });
  t.deepEqual(
    findings(object, "q-memory").map((f) => f.path),
    [1, 2, 3, 6].map((i) => `spec.template.spec.containers[${i}].resources.limits.memory`),
  );
});

test("cpu quantities compare by value: 500m and 0.5 < 1; 1 and 1000m are not", (t) => {
  const object = workload("Deployment", { namespace: "shop" }, {
    containers: ["500m", "1", "1000m", "0.5", "999m", 2].map((cpu, i) => ({ name: `c${i}`, image: "x", resources: { limits: { cpu } } })),
  });
  t.deepEqual(
    findings(object, "q-cpu").map((f) => f.path),
    [1, 2, 5].map((i) => `spec.template.spec.containers[${i}].resources.limits.cpu`),
  );
});

test("1e3 and 1k are the same quantity: neither is greater or less than the other, both lie between 999 and 1001", (t) => {
  const size = (value: string) => workload("Deployment", { namespace: "shop", annotations: { size: value } });
  t.deepEqual(fired(size("1k"), "size-"), ["size-above-1e3", "size-below-1k"]);
  t.deepEqual(fired(size("1e3"), "size-"), ["size-above-1e3", "size-below-1k"]);
  t.deepEqual(fired(size("1000"), "size-"), ["size-above-1e3", "size-below-1k"]);
  t.deepEqual(fired(size("1001"), "size-"), ["size-below-1k", "size-between"]);
  t.deepEqual(fired(size("999"), "size-"), ["size-above-1e3", "size-between"]);
  t.deepEqual(fired(size("1.5k"), "size-"), ["size-below-1k", "size-between"]);
  // Not a quantity: neither comparison holds.
  t.deepEqual(fired(size("lots"), "size-"), ["size-above-1e3", "size-below-1k", "size-between"]);
});

// ---- combine ----

test("combine any: one condition holding is enough; none holding is one finding naming them all", (t) => {
  t.deepEqual(fired(workload("Deployment", { namespace: "shop", labels: { team: "t" } }), "any-owner"), []);
  t.deepEqual(fired(workload("Deployment", { namespace: "shop", annotations: { owner: "o" } }), "any-owner"), []);
  t.deepEqual(findings(workload("Deployment", { namespace: "shop" }), "any-owner"), [
    {
      ruleId: "any-owner",
      outcome: "violation",
      path: "",
      message: "any-owner failed (none of: metadata.labels.team must be set; or metadata.annotations.owner must be set)",
    },
  ]);
});

test("combine all (the default): each failing condition is its own finding", (t) => {
  t.deepEqual(fired(workload("Deployment", { namespace: "shop", labels: { team: "t" }, annotations: { owner: "o" } }), "all-owner"), []);
  t.deepEqual(findings(workload("Deployment", { namespace: "shop", labels: { team: "t" } }), "all-owner").map((f) => f.path), ["metadata.annotations.owner"]);
  t.deepEqual(findings(workload("Deployment", { namespace: "shop" }), "all-owner").map((f) => f.path), ["metadata.annotations.owner", "metadata.labels.team"]);
});

// ---- match ----

test("match.kinds and scope: a rule applies only to the kinds it names", (t) => {
  t.deepEqual(fired(workload("Deployment", { namespace: "dev" }), "m-"), ["m-scope"]);
  t.deepEqual(fired(workload("StatefulSet", { namespace: "dev" }), "m-"), ["m-kinds"]);
  t.deepEqual(fired(workload("CronJob", { namespace: "dev" }), "m-"), ["m-kinds"]);
  t.deepEqual(fired(workload("DaemonSet", { namespace: "dev" }), "m-"), []);
});

test("objects that are not workloads are never matched", (t) => {
  const service = { apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "prod-eu", labels: { tier: "web", env: "prod", team: "t", "pci-scope": "true" } } };
  t.deepEqual(findings(service, ""), []);
});

test("match.namespaces: globs and names; an object without a namespace is in default", (t) => {
  const ns = (namespace?: string) => fired(workload("DaemonSet", namespace === undefined ? {} : { namespace }), "m-namespaces");
  t.deepEqual(ns("prod-eu"), ["m-namespaces"]);
  t.deepEqual(ns("prod-"), ["m-namespaces"]);
  t.deepEqual(ns("payments"), ["m-namespaces"]);
  t.deepEqual(ns("payments-dev"), []);
  t.deepEqual(ns("preprod-eu"), []);
  t.deepEqual(ns(undefined), []);
});

test("match.labelSelector: matchLabels and matchExpressions (In, DoesNotExist, Exists, NotIn) on the workload's labels", (t) => {
  const labelled = (labels: Record<string, string>) => fired(workload("DaemonSet", { namespace: "dev", labels }), "m-match-");
  t.deepEqual(labelled({ tier: "web", env: "prod" }), ["m-match-labels"]);
  t.deepEqual(labelled({ tier: "web", env: "staging", team: "t" }), ["m-match-expressions", "m-match-labels"]);
  t.deepEqual(labelled({ tier: "web", env: "prod", legacy: "yes" }), [], "DoesNotExist fails; Exists(team) fails");
  t.deepEqual(labelled({ tier: "api", env: "prod", team: "t" }), ["m-match-expressions"]);
  t.deepEqual(labelled({ tier: "web", env: "dev", team: "t" }), [], "In fails; NotIn fails");
  t.deepEqual(labelled({ tier: "web", team: "t" }), ["m-match-expressions"], "NotIn holds when the label is absent; In does not");
  // Pod template labels are not the workload's labels.
  const podOnly = workload("DaemonSet", { namespace: "dev" });
  (podOnly.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels = { tier: "web", env: "prod", team: "t" };
  t.deepEqual(fired(podOnly, "m-match-"), []);
});

test("match.conditions: the rule applies only to objects that satisfy them", (t) => {
  t.deepEqual(fired(workload("DaemonSet", { namespace: "dev", labels: { "pci-scope": "true" } }), "m-conditions"), ["m-conditions"]);
  t.deepEqual(fired(workload("DaemonSet", { namespace: "dev", labels: { "pci-scope": "false" } }), "m-conditions"), []);
  t.deepEqual(fired(workload("DaemonSet", { namespace: "dev" }), "m-conditions"), []);
});

test("every part of match must hold: kinds, namespaces, labelSelector and conditions together", (t) => {
  const base = { namespace: "prod-eu", labels: { tier: "web" } };
  t.deepEqual(fired(workload("Deployment", base, undefined, { replicas: 3 }), "m-everything"), ["m-everything"]);
  t.deepEqual(fired(workload("StatefulSet", base, undefined, { replicas: 3 }), "m-everything"), [], "kind");
  t.deepEqual(fired(workload("Deployment", { ...base, namespace: "dev" }, undefined, { replicas: 3 }), "m-everything"), [], "namespace");
  t.deepEqual(fired(workload("Deployment", { ...base, labels: { tier: "api" } }, undefined, { replicas: 3 }), "m-everything"), [], "labels");
  t.deepEqual(fired(workload("Deployment", base, undefined, { replicas: 2 }), "m-everything"), [], "conditions");
});

// ---- enabled ----

test("a rule defined enabled: false stays off unless the configuration turns it on", (t) => {
  const object = workload("Deployment", { namespace: "shop" });
  t.false(compiled.bundle.byId.get("off-by-default")?.enabledByDefault);
  t.deepEqual(fired(object, "off-by-default"), []);
  const on = new PolicyEvaluator(compiled.bundle, { ruleOverrides: { "off-by-default": { enabled: true } } });
  t.deepEqual(
    on.evaluate({ object, context: {} }).findings.filter((f) => f.ruleId === "off-by-default").map((f) => [f.outcome, f.message]),
    [["violation", "off-by-default failed (metadata.annotations.never-set must be set)"]],
  );
});
