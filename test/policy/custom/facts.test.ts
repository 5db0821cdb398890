// Covers custom rules that read beyond the object (docs/CUSTOM_RULES.md, "Two roots reach beyond the
// object"): facts.networkIsolated (a NetworkPolicy with ingress rules selects the pods), facts.volumes[*]
// (the StorageClass of each PVC-backed volume and whether it is marked encrypted), facts.containers[*],
// and context.<key> (the raw context facts). A fact that cannot be known makes the rule "not evaluated",
// never passed or failed. The rules are compiled once by the real OPA CLI into a temporary cache and
// run in process by the real PolicyEvaluator; the context facts are written inline, as the cluster
// source and offline evaluation would pass them.
import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { CustomRuleJson } from "../../../src/config/types.js";
import { PolicyBundle } from "../../../src/policy/bundle.js";
import { compileCustomRules, loadCustomRules } from "../../../src/policy/custom/compile.js";
import { PolicyEvaluator } from "../../../src/policy/evaluator.js";

const cond = (field: string, operator: string, value?: unknown) => ({ field, operator, ...(value === undefined ? {} : { value }) });
const rule = (id: string, conditions: ReturnType<typeof cond>[], extra: Partial<CustomRuleJson> = {}): CustomRuleJson => ({
  id,
  severity: "high",
  category: "security",
  conditions,
  actions: [{ type: "deny", message: `${id} failed` }],
  ...extra,
});

const RULES: CustomRuleJson[] = [
  rule("isolated", [cond("facts.networkIsolated", "equals", true)]),
  rule("encrypted", [cond("facts.volumes[*].encrypted", "equals", true)]),
  rule("no-latest", [cond("facts.containers[*].image", "not_contains", ":latest")]),
  rule("policy-owner", [cond("context.networkPolicies[*].metadata.labels.owner", "exists")]),
  rule("namespace-env", [cond("context.namespace.metadata.labels.environment", "equals", "production")]),
  rule("isolated-statefulsets", [cond("facts.networkIsolated", "equals", true)], { match: { kinds: ["StatefulSet"] } }),
];
const IDS = new Set(RULES.map((r) => r.id));

let evaluator: PolicyEvaluator;
const cacheDir = mkdtempSync(path.join(os.tmpdir(), "kube-policy-test-facts-"));

test.before(async () => {
  const builtIn = await PolicyBundle.load();
  const set = await loadCustomRules({ customRules: RULES }, "facts.json", builtIn);
  evaluator = new PolicyEvaluator((await compileCustomRules(set, { cacheDir })).bundle, {});
});

test.after.always(() => rmSync(cacheDir, { recursive: true, force: true }));

/** [outcome, message] of one rule's findings on the object, sorted. */
function outcomes(ruleId: string, object: Record<string, unknown>, context: Record<string, unknown>): [string, string][] {
  return evaluator
    .evaluate({ object, context })
    .findings.filter((f) => f.ruleId === ruleId)
    .map((f): [string, string] => [f.outcome, f.message])
    .sort();
}

function deployment(podSpec: Record<string, unknown> = {}, kind = "Deployment") {
  return {
    apiVersion: "apps/v1",
    kind,
    metadata: { name: "web", namespace: "shop" },
    spec: { template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "app", image: "nginx:1.25.3" }], ...podSpec } } },
  };
}

const networkPolicy = (spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { name: "np", namespace: "shop", ...metadata },
  spec,
});

// ---- facts.networkIsolated ----

const NOT_ISOLATED: [string, string][] = [["violation", "isolated failed (facts.networkIsolated must equal true)"]];

test("facts.networkIsolated: a NetworkPolicy with ingress rules selecting the pods passes", (t) => {
  const object = deployment();
  t.deepEqual(outcomes("isolated", object, { networkPolicies: [networkPolicy({ podSelector: { matchLabels: { app: "web" } } })] }), []);
  t.deepEqual(
    outcomes("isolated", object, { networkPolicies: [networkPolicy({ podSelector: { matchLabels: { app: "web" } }, policyTypes: ["Ingress", "Egress"] })] }),
    [],
  );
  t.deepEqual(outcomes("isolated", object, { networkPolicies: [networkPolicy({ podSelector: {} })] }), [], "an empty podSelector selects every pod");
});

test("facts.networkIsolated: no NetworkPolicy, or none that selects the pods for ingress, is a violation", (t) => {
  const object = deployment();
  t.deepEqual(outcomes("isolated", object, { networkPolicies: [] }), NOT_ISOLATED);
  t.deepEqual(outcomes("isolated", object, { networkPolicies: [networkPolicy({ podSelector: { matchLabels: { app: "api" } } })] }), NOT_ISOLATED);
  t.deepEqual(
    outcomes("isolated", object, { networkPolicies: [networkPolicy({ podSelector: { matchLabels: { app: "web" } }, policyTypes: ["Egress"] })] }),
    NOT_ISOLATED,
    "egress only",
  );
  t.deepEqual(
    outcomes("isolated", object, { networkPolicies: [networkPolicy({ podSelector: { matchLabels: { app: "web" } } }, { namespace: "other" })] }),
    NOT_ISOLATED,
    "another namespace",
  );
});

test("facts.networkIsolated: NetworkPolicies that could not be read make the rule not evaluated, not failed", (t) => {
  t.deepEqual(outcomes("isolated", deployment(), {}), [["not-evaluated", 'isolated: Deployment "web" was not checked: facts.networkIsolated not known']]);
});

test("a rule whose match excludes the object produces nothing, not even not-evaluated for an unknown fact", (t) => {
  t.deepEqual(outcomes("isolated-statefulsets", deployment(), {}), []);
  t.deepEqual(outcomes("isolated-statefulsets", deployment({}, "StatefulSet"), {}), [
    ["not-evaluated", 'isolated-statefulsets: StatefulSet "web" was not checked: facts.networkIsolated not known'],
  ]);
});

// ---- facts.volumes ----

const claim = (name: string, storageClassName?: string) => ({
  apiVersion: "v1",
  kind: "PersistentVolumeClaim",
  metadata: { name, namespace: "shop" },
  spec: { accessModes: ["ReadWriteOnce"], ...(storageClassName === undefined ? {} : { storageClassName }), resources: { requests: { storage: "1Gi" } } },
});
const storageClass = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: "storage.k8s.io/v1",
  kind: "StorageClass",
  provisioner: "ebs.csi.aws.com",
  ...extra,
  metadata: { name, ...(extra.metadata as object | undefined) },
});
const withClaim = (claimName: string) => deployment({ volumes: [{ name: "data", persistentVolumeClaim: { claimName } }] });
const STORAGE = [
  storageClass("encrypted-by-parameter", { parameters: { encrypted: "true" } }),
  storageClass("encrypted-by-annotation", { metadata: { annotations: { "compliance.policy/encrypted": "true" } } }),
  storageClass("plain", { parameters: { type: "gp3" } }),
  storageClass("explicitly-unencrypted", { parameters: { encrypted: "false" } }),
];
const NOT_ENCRYPTED: [string, string][] = [["violation", "encrypted failed (facts.volumes[0].encrypted must equal true)"]];
const VOLUMES_UNKNOWN: [string, string][] = [["not-evaluated", 'encrypted: Deployment "web" was not checked: facts.volumes not known']];

test("facts.volumes[*].encrypted: a PVC on a StorageClass marked encrypted (parameter or annotation) passes", (t) => {
  for (const cls of ["encrypted-by-parameter", "encrypted-by-annotation"]) {
    t.deepEqual(outcomes("encrypted", withClaim("data"), { persistentVolumeClaims: [claim("data", cls)], storageClasses: STORAGE }), [], cls);
  }
});

test("facts.volumes[*].encrypted: a PVC on a StorageClass not marked encrypted is a violation", (t) => {
  for (const cls of ["plain", "explicitly-unencrypted"]) {
    t.deepEqual(outcomes("encrypted", withClaim("data"), { persistentVolumeClaims: [claim("data", cls)], storageClasses: STORAGE }), NOT_ENCRYPTED, cls);
  }
});

test("facts.volumes[*].encrypted: every PVC volume must be encrypted; one unencrypted among several fails once", (t) => {
  const object = deployment({
    volumes: [
      { name: "data", persistentVolumeClaim: { claimName: "data" } },
      { name: "cache", emptyDir: {} },
      { name: "logs", persistentVolumeClaim: { claimName: "logs" } },
    ],
  });
  const context = { persistentVolumeClaims: [claim("data", "encrypted-by-parameter"), claim("logs", "plain")], storageClasses: STORAGE };
  const found = outcomes("encrypted", object, context);
  t.is(found.length, 1);
  t.is(found[0]![0], "violation");
  t.regex(found[0]![1], /^encrypted failed \(facts\.volumes\[[01]\]\.encrypted must equal true\)$/);
  const allEncrypted = { persistentVolumeClaims: [claim("data", "encrypted-by-parameter"), claim("logs", "encrypted-by-annotation")], storageClasses: STORAGE };
  t.deepEqual(outcomes("encrypted", object, allEncrypted), []);
});

test("facts.volumes: the default StorageClass counts for a claim that names none", (t) => {
  const defaults = (encrypted: boolean) => [
    storageClass("standard", {
      metadata: { annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
      parameters: encrypted ? { encrypted: "true" } : {},
    }),
  ];
  t.deepEqual(outcomes("encrypted", withClaim("data"), { persistentVolumeClaims: [claim("data")], storageClasses: defaults(true) }), []);
  t.deepEqual(outcomes("encrypted", withClaim("data"), { persistentVolumeClaims: [claim("data")], storageClasses: defaults(false) }), NOT_ENCRYPTED);
});

test("facts.volumes: StatefulSet volumeClaimTemplates are PVC volumes too", (t) => {
  const statefulSet = (storageClassName: string) => ({
    ...deployment({}, "StatefulSet"),
    spec: {
      ...deployment().spec,
      volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { storageClassName, accessModes: ["ReadWriteOnce"] } }],
    },
  });
  t.deepEqual(outcomes("encrypted", statefulSet("encrypted-by-parameter"), { storageClasses: STORAGE }), []);
  t.deepEqual(outcomes("encrypted", statefulSet("plain"), { storageClasses: STORAGE }), [
    ["violation", "encrypted failed (facts.volumes[0].encrypted must equal true)"],
  ]);
});

test("facts.volumes: an unknown StorageClass, claim or context makes the rule not evaluated", (t) => {
  t.deepEqual(
    outcomes("encrypted", withClaim("data"), { persistentVolumeClaims: [claim("data", "no-such-class")], storageClasses: STORAGE }),
    VOLUMES_UNKNOWN,
    "StorageClass in neither the cluster nor the input",
  );
  t.deepEqual(outcomes("encrypted", withClaim("data"), { persistentVolumeClaims: [], storageClasses: STORAGE }), VOLUMES_UNKNOWN, "claim not in the context");
  t.deepEqual(outcomes("encrypted", withClaim("data"), { persistentVolumeClaims: [claim("data", "plain")] }), VOLUMES_UNKNOWN, "StorageClasses not readable");
  t.deepEqual(outcomes("encrypted", withClaim("data"), {}), VOLUMES_UNKNOWN, "nothing known");
});

test("facts.volumes: a workload without PVC-backed volumes passes even with no context at all", (t) => {
  t.deepEqual(outcomes("encrypted", deployment({ volumes: [{ name: "tmp", emptyDir: {} }] }), {}), []);
  t.deepEqual(outcomes("encrypted", deployment(), {}), []);
});

// ---- facts.containers ----

test("facts.containers[*] covers init and ephemeral containers, whatever the workload kind", (t) => {
  const pod = {
    containers: [{ name: "app", image: "registry.example.com/app:1.0" }],
    initContainers: [{ name: "init", image: "busybox:latest" }],
    ephemeralContainers: [{ name: "debug", image: "debug:latest" }],
  };
  const cronJob = {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: "nightly", namespace: "shop" },
    spec: { schedule: "0 3 * * *", jobTemplate: { spec: { template: { spec: pod } } } },
  };
  const bare = { apiVersion: "v1", kind: "Pod", metadata: { name: "one-off", namespace: "shop" }, spec: pod };
  for (const object of [cronJob, bare]) {
    t.deepEqual(outcomes("no-latest", object, {}), [
      ["violation", 'no-latest failed (facts.containers[1].image must not contain ":latest")'],
      ["violation", 'no-latest failed (facts.containers[2].image must not contain ":latest")'],
    ], object.kind);
  }
  t.deepEqual(outcomes("no-latest", deployment(), {}), []);
});

// ---- context.<key> ----

test("context.<key>: raw context facts, every element of a listed key must satisfy the condition", (t) => {
  const owned = networkPolicy({ podSelector: {} }, { labels: { owner: "netops" } });
  const unowned = networkPolicy({ podSelector: {} }, { name: "legacy" });
  t.deepEqual(outcomes("policy-owner", deployment(), { networkPolicies: [owned] }), []);
  t.deepEqual(outcomes("policy-owner", deployment(), { networkPolicies: [] }), [], "no NetworkPolicy: nothing fails");
  t.deepEqual(outcomes("policy-owner", deployment(), { networkPolicies: [owned, unowned] }), [
    ["violation", "policy-owner failed (context.networkPolicies[1].metadata.labels.owner must be set)"],
  ]);
});

test("context.<key>: a key absent from the context (not readable) makes the rule not evaluated", (t) => {
  t.deepEqual(outcomes("policy-owner", deployment(), {}), [
    ["not-evaluated", 'policy-owner: Deployment "web" was not checked: context.networkPolicies not known'],
  ]);
});

test("context.namespace: the Namespace object the sources put into the context is readable by a rule", (t) => {
  // The cluster source and offline evaluation set context.namespace to the workload's Namespace object
  // (src/kube/cluster-source.ts, src/manifests/offline-context.ts).
  const namespace = (environment: string) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name: "shop", labels: { environment } } });
  t.deepEqual(outcomes("namespace-env", deployment(), { namespace: namespace("production") }), []);
  t.deepEqual(outcomes("namespace-env", deployment(), { namespace: namespace("staging") }), [
    ["violation", 'namespace-env failed (context.namespace.metadata.labels.environment must equal "production")'],
  ]);
  t.deepEqual(outcomes("namespace-env", deployment(), {}), [
    ["not-evaluated", 'namespace-env: Deployment "web" was not checked: context.namespace not known'],
  ]);
});

test("only the custom rules under test are in this bundle's custom catalogue", (t) => {
  t.deepEqual(
    evaluator.bundle.catalogue.filter((e) => e.source === "custom").map((e) => e.id).sort(),
    [...IDS].sort(),
  );
});
