// Covers the product document's four custom rule examples (config/policies/examples/, verbatim) and the
// corrected pci-001 and hipaa-001 (config/policies/securebank-pci.json, healthcare-hipaa.json), each with
// a compliant and a violating workload, and that the verbatim files load unchanged and do what
// docs/CUSTOM_RULES.md says they do. Real components: the shipped files read by the real configuration
// loader (schema checks included), two rule sets compiled by the real OPA CLI into a temporary cache,
// and the PolicyEvaluator under each file's own configuration. The workloads and context facts are
// written inline, as offline evaluation would pass them.
import test from "ava";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../../../src/config/load.js";
import type { PolicyConfig } from "../../../src/config/types.js";
import { PolicyBundle } from "../../../src/policy/bundle.js";
import { compileCustomRules, loadCustomRules, type CustomRuleSet } from "../../../src/policy/custom/compile.js";
import { PolicyEvaluator } from "../../../src/policy/evaluator.js";
import type { Finding } from "../../../src/policy/types.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const EXAMPLES = "config/policies/examples";
const FILES = {
  acme: `${EXAMPLES}/acme-approved-images.json`,
  dev: `${EXAMPLES}/startup-development.json`,
  pciVerbatim: `${EXAMPLES}/securebank-pci.json`,
  hipaaVerbatim: `${EXAMPLES}/healthcare-hipaa.json`,
  pci: "config/policies/securebank-pci.json",
  hipaa: "config/policies/healthcare-hipaa.json",
} as const;
type Name = keyof typeof FILES;

const cacheDir = mkdtempSync(path.join(os.tmpdir(), "kube-policy-test-examples-"));
const configs = {} as Record<Name, PolicyConfig>;
const sets = {} as Record<Name, CustomRuleSet>;
/** One evaluator per file: that file's configuration over the bundle its rules were compiled into. */
const evaluators = {} as Record<Name, PolicyEvaluator>;

function merge(list: CustomRuleSet[]): CustomRuleSet {
  return {
    rules: list.flatMap((s) => s.rules),
    generated: new Map(list.flatMap((s) => [...s.generated])),
    regoFiles: new Map(),
    regoDir: null,
  };
}

test.before(async () => {
  const builtIn = await PolicyBundle.load();
  for (const name of Object.keys(FILES) as Name[]) {
    const { config } = await loadConfig(path.join(ROOT, FILES[name]), { knownRuleIds: new Set(builtIn.byId.keys()) });
    configs[name] = config;
    sets[name] = await loadCustomRules(config, FILES[name], builtIn);
  }
  // Two bundles (pci-001 and hipaa-001 have the same ids in both versions): verbatim and corrected.
  const [verbatim, corrected] = await Promise.all([
    compileCustomRules(merge([sets.acme, sets.dev, sets.pciVerbatim, sets.hipaaVerbatim]), { cacheDir }),
    compileCustomRules(merge([sets.pci, sets.hipaa]), { cacheDir }),
  ]);
  for (const name of ["acme", "dev", "pciVerbatim", "hipaaVerbatim"] as const) evaluators[name] = new PolicyEvaluator(verbatim.bundle, configs[name]);
  for (const name of ["pci", "hipaa"] as const) evaluators[name] = new PolicyEvaluator(corrected.bundle, configs[name]);
});

test.after.always(() => rmSync(cacheDir, { recursive: true, force: true }));

type Shown = Pick<Finding, "outcome" | "severity" | "category" | "path" | "message">;

function check(name: Name, ruleId: string, object: Record<string, unknown>, context: Record<string, unknown> = {}): Shown[] {
  return evaluators[name]
    .evaluate({ object, context })
    .findings.filter((f) => f.ruleId === ruleId)
    .map(({ outcome, severity, category, path: fieldPath, message }) => ({ outcome, severity, category, path: fieldPath, message }));
}

function workload(options: { kind?: string; labels?: Record<string, string>; images?: string[]; memory?: string; volumes?: Record<string, unknown>[] } = {}) {
  return {
    apiVersion: "apps/v1",
    kind: options.kind ?? "Deployment",
    metadata: { name: "web", namespace: "prod", ...(options.labels ? { labels: options.labels } : {}) },
    spec: {
      replicas: 2,
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          containers: (options.images ?? ["registry.acme.com/shop/web:1.4.2"]).map((image, i) => ({
            name: `c${i}`,
            image,
            resources: { limits: { cpu: "500m", memory: options.memory ?? "512Mi" } },
          })),
          ...(options.volumes ? { volumes: options.volumes } : {}),
        },
      },
    },
  };
}

const ISOLATING = { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "web-ingress", namespace: "prod" }, spec: { podSelector: { matchLabels: { app: "web" } }, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: { matchLabels: { app: "gateway" } } }] }] } };
const pvc = (storageClassName: string) => ({ apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "records", namespace: "prod" }, spec: { storageClassName, accessModes: ["ReadWriteOnce"] } });
const STORAGE_CLASSES = [
  { apiVersion: "storage.k8s.io/v1", kind: "StorageClass", metadata: { name: "encrypted-gp3" }, provisioner: "ebs.csi.aws.com", parameters: { type: "gp3", encrypted: "true" } },
  { apiVersion: "storage.k8s.io/v1", kind: "StorageClass", metadata: { name: "standard" }, provisioner: "ebs.csi.aws.com", parameters: { type: "gp3" } },
];
const RECORDS_VOLUME = [{ name: "records", persistentVolumeClaim: { claimName: "records" } }];

// ---- the files ----

test("the verbatim example files load unchanged through the configuration loader: one rule each, as written", (t) => {
  const expected: [Name, string, string, string, "deny" | "warn", string][] = [
    ["acme", "acme-001", "high", "compliance", "deny", "Only images from registry.acme.com are allowed in production"],
    ["dev", "dev-001", "low", "cost", "warn", "Consider reducing resource limits for development workloads"],
    ["pciVerbatim", "pci-001", "critical", "compliance", "deny", "PCI workloads require network isolation"],
    ["hipaaVerbatim", "hipaa-001", "critical", "compliance", "deny", "All persistent volumes must be encrypted for HIPAA compliance"],
  ];
  for (const [name, id, severity, category, action, message] of expected) {
    t.deepEqual(
      sets[name].rules.map((r) => [r.id, r.severity, r.category, r.action, r.message, r.origin]),
      [[id, severity, category, action, message, `${FILES[name]}#${id}`]],
      name,
    );
    // Unchanged: the loaded configuration is the file's JSON.
    t.deepEqual(configs[name], JSON.parse(readFileSync(path.join(ROOT, FILES[name]), "utf8")), name);
  }
});

test("the corrected pci-001 and hipaa-001 keep the verbatim id, name, severity, category and action", (t) => {
  for (const [corrected, verbatim] of [["pci", "pciVerbatim"], ["hipaa", "hipaaVerbatim"]] as const) {
    const a = configs[corrected].customRules![0]!;
    const b = configs[verbatim].customRules![0]!;
    t.deepEqual([a.id, a.name, a.description, a.severity, a.category, a.actions], [b.id, b.name, b.description, b.severity, b.category, b.actions]);
    t.notDeepEqual(a.conditions, b.conditions);
  }
});

// ---- acme-001 ----

test("acme-001: an image from another registry is denied; registry.acme.com images pass", (t) => {
  t.deepEqual(check("acme", "acme-001", workload()), []);
  t.deepEqual(check("acme", "acme-001", workload({ images: ["registry.acme.com/shop/web:1.4.2", "registry.acme.com/shop/proxy:2.0"] })), []);
  t.deepEqual(check("acme", "acme-001", workload({ images: ["registry.acme.com/shop/web:1.4.2", "docker.io/library/nginx:1.25"] })), [
    {
      outcome: "violation",
      severity: "high",
      category: "compliance",
      path: "spec.template.spec.containers[1].image",
      message: "Only images from registry.acme.com are allowed in production (spec.template.spec.containers[1].image must match ^registry\\.acme\\.com/)",
    },
  ]);
});

test("acme-001: look-alike registries are denied (the dots are escaped and the host ends at the slash)", (t) => {
  for (const image of ["registry.acme.com.evil.io/web:1", "registryXacmeXcom/web:1", "nginx:1.25", "mirror/registry.acme.com/web:1"]) {
    t.deepEqual(check("acme", "acme-001", workload({ images: [image] })).map((f) => f.outcome), ["violation"], image);
  }
});

test("acme-001 is a deny rule: a violation under strict enforcement, a warning under advisory", (t) => {
  const object = workload({ images: ["docker.io/library/nginx:1.25"] });
  const outcome = (config: PolicyConfig) =>
    new PolicyEvaluator(evaluators.acme.bundle, config).evaluate({ object, context: {} }).findings.filter((f) => f.ruleId === "acme-001").map((f) => f.outcome);
  t.deepEqual(outcome({ global: { enforcement: "strict" } }), ["violation"]);
  t.deepEqual(outcome({ global: { enforcement: "advisory" } }), ["warning"]);
  t.deepEqual(outcome({ categories: { compliance: { enforcement: "disabled" } } }), []);
});

test("acme-001 has scope deployment: a StatefulSet from another registry is not its concern", (t) => {
  t.deepEqual(check("acme", "acme-001", workload({ kind: "StatefulSet", images: ["docker.io/library/postgres:16"] })), []);
});

// ---- dev-001 ----

test("dev-001: a memory limit of 2Gi or more warns (action warn), 1Gi passes", (t) => {
  const WARNING: Shown = {
    outcome: "warning",
    severity: "low",
    category: "cost",
    path: "spec.template.spec.containers[0].resources.limits.memory",
    message: "Consider reducing resource limits for development workloads (spec.template.spec.containers[0].resources.limits.memory must be less than 2Gi)",
  };
  for (const memory of ["2Gi", "2048Mi", "3Gi", "4G"]) t.deepEqual(check("dev", "dev-001", workload({ memory })), [WARNING], memory);
  for (const memory of ["1Gi", "1536Mi", "2000Mi"]) t.deepEqual(check("dev", "dev-001", workload({ memory })), [], memory);
});

test("dev-001 warns under a strict configuration too: its action is warn, not deny", (t) => {
  const strict = new PolicyEvaluator(evaluators.dev.bundle, {});
  t.is(evaluators.dev.bundle.byId.get("dev-001")?.action, "warn");
  const found = strict.evaluate({ object: workload({ memory: "2Gi" }), context: {} }).findings.filter((f) => f.ruleId === "dev-001");
  t.deepEqual(found.map((f) => f.outcome), ["warning"]);
});

// ---- pci-001, corrected ----

const PCI_DENIED: Shown = {
  outcome: "violation",
  severity: "critical",
  category: "compliance",
  path: "",
  message: "PCI workloads require network isolation (facts.networkIsolated must equal true)",
};

test("pci-001 (corrected): a pci-scope \"true\" workload that no NetworkPolicy isolates is denied", (t) => {
  t.deepEqual(check("pci", "pci-001", workload({ labels: { "pci-scope": "true" } }), { networkPolicies: [] }), [PCI_DENIED]);
  const otherPods = { ...ISOLATING, spec: { ...ISOLATING.spec, podSelector: { matchLabels: { app: "batch" } } } };
  t.deepEqual(check("pci", "pci-001", workload({ labels: { "pci-scope": "true" } }), { networkPolicies: [otherPods] }), [PCI_DENIED]);
});

test("pci-001 (corrected): a pci-scope \"true\" workload a NetworkPolicy selects passes", (t) => {
  t.deepEqual(check("pci", "pci-001", workload({ labels: { "pci-scope": "true" } }), { networkPolicies: [ISOLATING] }), []);
});

test("pci-001 (corrected): workloads out of PCI scope are not concerned, isolated or not", (t) => {
  t.deepEqual(check("pci", "pci-001", workload(), { networkPolicies: [] }), []);
  t.deepEqual(check("pci", "pci-001", workload({ labels: { "pci-scope": "false" } }), { networkPolicies: [] }), []);
  t.deepEqual(check("pci", "pci-001", workload(), {}), [], "not even not-evaluated when NetworkPolicies are unknown");
});

test("pci-001 (corrected): unknown NetworkPolicies make an in-scope workload not evaluated", (t) => {
  t.deepEqual(check("pci", "pci-001", workload({ labels: { "pci-scope": "true" } }), {}).map((f) => [f.outcome, f.message]), [
    ["not-evaluated", 'pci-001: Deployment "web" was not checked: facts.networkIsolated not known'],
  ]);
});

test("pci-001 (corrected) carries its frameworks and remediation into findings", (t) => {
  const [finding] = evaluators.pci.evaluate({ object: workload({ labels: { "pci-scope": "true" } }), context: { networkPolicies: [] } }).findings.filter((f) => f.ruleId === "pci-001");
  t.deepEqual(finding?.frameworks, { "PCI-DSS": ["1.3.1", "1.3.2"], SOC2: ["CC6.6"] });
  t.is(finding?.remediation, "Add a NetworkPolicy in the namespace whose podSelector selects the workload and that allows only the ingress it needs.");
});

// ---- hipaa-001, corrected ----

test("hipaa-001 (corrected): a PVC on a StorageClass not marked encrypted is denied; an encrypted one passes", (t) => {
  const object = workload({ volumes: RECORDS_VOLUME });
  t.deepEqual(check("hipaa", "hipaa-001", object, { persistentVolumeClaims: [pvc("standard")], storageClasses: STORAGE_CLASSES }), [
    {
      outcome: "violation",
      severity: "critical",
      category: "compliance",
      path: "",
      message: "All persistent volumes must be encrypted for HIPAA compliance (facts.volumes[0].encrypted must equal true)",
    },
  ]);
  t.deepEqual(check("hipaa", "hipaa-001", object, { persistentVolumeClaims: [pvc("encrypted-gp3")], storageClasses: STORAGE_CLASSES }), []);
});

test("hipaa-001 (corrected): an unknown StorageClass makes it not evaluated; no PVC passes", (t) => {
  const object = workload({ volumes: RECORDS_VOLUME });
  t.deepEqual(check("hipaa", "hipaa-001", object, { persistentVolumeClaims: [pvc("mystery")], storageClasses: STORAGE_CLASSES }).map((f) => f.outcome), ["not-evaluated"]);
  t.deepEqual(check("hipaa", "hipaa-001", workload({ volumes: [{ name: "scratch", emptyDir: {} }] }), {}), []);
});

// ---- the verbatim pci-001 and hipaa-001 do what the docs say ----

test("verbatim pci-001 denies workloads NOT labelled pci-scope \"true\", and passes labelled ones without any isolation", (t) => {
  t.deepEqual(check("pciVerbatim", "pci-001", workload(), { networkPolicies: [ISOLATING] }), [
    {
      outcome: "violation",
      severity: "critical",
      category: "compliance",
      path: "metadata.labels.pci-scope",
      message: 'PCI workloads require network isolation (metadata.labels.pci-scope must equal "true")',
    },
  ]);
  t.deepEqual(check("pciVerbatim", "pci-001", workload({ labels: { "pci-scope": "false" } }), { networkPolicies: [ISOLATING] }).map((f) => f.outcome), ["violation"]);
  t.deepEqual(check("pciVerbatim", "pci-001", workload({ labels: { "pci-scope": "true" } }), { networkPolicies: [] }), []);
});

test("verbatim hipaa-001 denies a workload with a volume that is not a PVC, and says nothing about encryption", (t) => {
  const mixed = workload({ volumes: [...RECORDS_VOLUME, { name: "scratch", emptyDir: {} }] });
  t.deepEqual(check("hipaaVerbatim", "hipaa-001", mixed, { persistentVolumeClaims: [pvc("encrypted-gp3")], storageClasses: STORAGE_CLASSES }), [
    {
      outcome: "violation",
      severity: "critical",
      category: "compliance",
      path: "spec.template.spec.volumes[1].persistentVolumeClaim",
      message: "All persistent volumes must be encrypted for HIPAA compliance (spec.template.spec.volumes[1].persistentVolumeClaim must be set)",
    },
  ]);
  // A PVC on an unencrypted StorageClass passes the verbatim rule.
  t.deepEqual(check("hipaaVerbatim", "hipaa-001", workload({ volumes: RECORDS_VOLUME }), { persistentVolumeClaims: [pvc("standard")], storageClasses: STORAGE_CLASSES }), []);
  t.deepEqual(check("hipaaVerbatim", "hipaa-001", workload(), {}), [], "no volumes at all");
});
