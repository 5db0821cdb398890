// Covers offline evaluation inputs (src/manifests/offline-context.ts): each workload's context facts are
// the other documents given, grouped by namespace (cluster-scoped StorageClasses everywhere), the
// vulnerabilityReports key only when some VulnerabilityReport is given, the workload's Namespace object
// attached, and documents that are neither workloads nor context facts listed as skipped.
// Stand-ins: hand-written SourceDocuments instead of files read by loadManifests.
import test from "ava";
import type { KubeObject, SourceDocument } from "../../src/manifests/load.js";
import { CONTEXT_KINDS, offlineInputs, WORKLOAD_KIND_SET } from "../../src/manifests/offline-context.js";

let line = 0;
function doc(kind: string, name: string, namespace?: string, extra: Record<string, unknown> = {}): SourceDocument {
  const object: KubeObject = {
    apiVersion: kind === "Deployment" ? "apps/v1" : "v1",
    kind,
    metadata: namespace === undefined ? { name } : { name, namespace },
    ...extra,
  };
  return { object, source: `input.yaml:${++line}` };
}

const EMPTY_CONTEXT = {
  networkPolicies: [],
  podDisruptionBudgets: [],
  horizontalPodAutoscalers: [],
  resourceQuotas: [],
  persistentVolumeClaims: [],
  services: [],
  serviceMonitors: [],
  storageClasses: [],
};

test("the workload and context kinds are the documented ones", (t) => {
  t.deepEqual([...WORKLOAD_KIND_SET].sort(), ["CronJob", "DaemonSet", "Deployment", "Job", "Pod", "ReplicaSet", "StatefulSet"]);
  t.deepEqual(
    Object.entries(CONTEXT_KINDS).map(([kind, { key, namespaced }]) => [kind, key, namespaced]),
    [
      ["NetworkPolicy", "networkPolicies", true],
      ["PodDisruptionBudget", "podDisruptionBudgets", true],
      ["HorizontalPodAutoscaler", "horizontalPodAutoscalers", true],
      ["ResourceQuota", "resourceQuotas", true],
      ["PersistentVolumeClaim", "persistentVolumeClaims", true],
      ["Service", "services", true],
      ["ServiceMonitor", "serviceMonitors", true],
      ["VulnerabilityReport", "vulnerabilityReports", true],
      ["StorageClass", "storageClasses", false],
    ],
  );
});

test("a workload alone has every context key empty (none exists) and no vulnerabilityReports key", (t) => {
  const web = doc("Deployment", "web", "shop");
  const { inputs, skipped } = offlineInputs([web]);
  t.deepEqual(inputs, [{ input: { object: web.object, context: EMPTY_CONTEXT }, source: web.source }]);
  t.deepEqual(skipped, []);
  t.false("vulnerabilityReports" in inputs[0]!.input.context);
});

test("context facts are grouped by namespace: another namespace's NetworkPolicy is not in the workload's context", (t) => {
  const web = doc("Deployment", "web", "shop");
  const api = doc("Deployment", "api", "billing");
  const shopPolicy = doc("NetworkPolicy", "default-deny", "shop");
  const billingPolicy = doc("NetworkPolicy", "allow-api", "billing");
  const shopPdb = doc("PodDisruptionBudget", "web", "shop");
  const billingHpa = doc("HorizontalPodAutoscaler", "api", "billing");
  const shopQuota = doc("ResourceQuota", "compute", "shop");
  const shopPvc = doc("PersistentVolumeClaim", "data", "shop");
  const shopService = doc("Service", "web", "shop");
  const shopMonitor = doc("ServiceMonitor", "web", "shop");
  const { inputs } = offlineInputs([web, shopPolicy, billingPolicy, api, shopPdb, billingHpa, shopQuota, shopPvc, shopService, shopMonitor]);
  t.deepEqual(
    inputs.map((i) => i.input.object.metadata),
    [{ name: "web", namespace: "shop" }, { name: "api", namespace: "billing" }],
  );
  t.deepEqual(inputs[0]!.input.context, {
    ...EMPTY_CONTEXT,
    networkPolicies: [shopPolicy.object],
    podDisruptionBudgets: [shopPdb.object],
    resourceQuotas: [shopQuota.object],
    persistentVolumeClaims: [shopPvc.object],
    services: [shopService.object],
    serviceMonitors: [shopMonitor.object],
  });
  t.deepEqual(inputs[1]!.input.context, {
    ...EMPTY_CONTEXT,
    networkPolicies: [billingPolicy.object],
    horizontalPodAutoscalers: [billingHpa.object],
  });
});

test("a workload in a namespace with no facts gets empty lists, not another namespace's facts", (t) => {
  const lonely = doc("StatefulSet", "db", "data");
  const policy = doc("NetworkPolicy", "deny", "shop");
  const { inputs } = offlineInputs([policy, lonely]);
  t.deepEqual(inputs.map((i) => i.input.context), [EMPTY_CONTEXT]);
});

test("objects without a namespace share facts with each other", (t) => {
  const job = doc("Job", "migrate");
  const policy = doc("NetworkPolicy", "deny-all");
  const { inputs } = offlineInputs([job, policy]);
  t.deepEqual(inputs[0]!.input.context, { ...EMPTY_CONTEXT, networkPolicies: [policy.object] });
});

test("StorageClasses are cluster-wide: every workload sees them", (t) => {
  const fast = doc("StorageClass", "fast");
  const encrypted = doc("StorageClass", "encrypted", undefined, { parameters: { encrypted: "true" } });
  const web = doc("Deployment", "web", "shop");
  const api = doc("Deployment", "api", "billing");
  const { inputs } = offlineInputs([fast, web, encrypted, api]);
  t.deepEqual(
    inputs.map((i) => i.input.context.storageClasses),
    [
      [fast.object, encrypted.object],
      [fast.object, encrypted.object],
    ],
  );
});

test("vulnerabilityReports appears only when a VulnerabilityReport is given, then for every workload", (t) => {
  const web = doc("Deployment", "web", "shop");
  const api = doc("Deployment", "api", "billing");
  const report = doc("VulnerabilityReport", "replicaset-web-app", "shop", { apiVersion: "aquasecurity.github.io/v1alpha1" });
  const without = offlineInputs([web, api]);
  t.deepEqual(without.inputs.map((i) => "vulnerabilityReports" in i.input.context), [false, false]);
  const withReport = offlineInputs([web, report, api]);
  t.deepEqual(
    withReport.inputs.map((i) => i.input.context.vulnerabilityReports),
    [[report.object], []],
  );
});

test("the workload's Namespace object is attached; an unnamespaced workload gets default's", (t) => {
  const shop = doc("Namespace", "shop", undefined, { metadata: { name: "shop", labels: { "data-classification": "internal" } } });
  const defaultNs = doc("Namespace", "default");
  const web = doc("Deployment", "web", "shop");
  const bare = doc("Pod", "bare");
  const other = doc("Pod", "other", "elsewhere");
  const { inputs, skipped } = offlineInputs([shop, web, defaultNs, bare, other]);
  t.deepEqual(inputs[0]!.input.context.namespace, shop.object);
  t.deepEqual(inputs[1]!.input.context.namespace, defaultNs.object);
  t.false("namespace" in inputs[2]!.input.context);
  // Namespaces are neither workloads nor skipped.
  t.deepEqual(skipped, []);
  t.is(inputs.length, 3);
});

test("every workload kind becomes an input, in the order given, with its source", (t) => {
  const docs = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"].map((kind) => doc(kind, kind.toLowerCase(), "ns"));
  const { inputs, skipped } = offlineInputs(docs);
  t.deepEqual(
    inputs.map((i) => [i.input.object.kind, i.source]),
    docs.map((d) => [d.object.kind, d.source]),
  );
  t.deepEqual(skipped, []);
});

test("documents that are neither workloads nor context facts are listed as skipped", (t) => {
  const configMap = doc("ConfigMap", "settings", "shop");
  const crd = doc("CustomResourceDefinition", "widgets.example.com");
  const secret = doc("Secret", "creds", "shop");
  const web = doc("Deployment", "web", "shop");
  const { inputs, skipped } = offlineInputs([configMap, web, crd, secret]);
  t.deepEqual(skipped, [
    { source: configMap.source, kind: "ConfigMap", name: "settings" },
    { source: crd.source, kind: "CustomResourceDefinition", name: "widgets.example.com" },
    { source: secret.source, kind: "Secret", name: "creds" },
  ]);
  t.deepEqual(inputs.map((i) => i.input.object.metadata), [{ name: "web", namespace: "shop" }]);
  t.deepEqual(inputs[0]!.input.context, EMPTY_CONTEXT);
});

test("no documents, no inputs", (t) => {
  t.deepEqual(offlineInputs([]), { inputs: [], skipped: [] });
});
