// Covers PolicyEvaluator (src/policy/evaluator.ts): the configuration applied to what the rules say —
// outcomes under strict and advisory enforcement, exemptions kept visible, disabled categories,
// excluded namespaces, severity overrides, which fixes are auto-fixable, not-evaluated findings, and
// the dotted path / JSON Pointer of each finding.
// Real components: the committed OPA-compiled wasm bundle (PolicyBundle.load()) and its catalogue.
// Stand-ins: hand-written Deployments instead of manifests or a cluster, and a fixed clock
// (2025-06-15T12:00:00Z) instead of the current time.
import test from "ava";
import type { PolicyConfig } from "../../src/config/types.js";
import { PolicyBundle } from "../../src/policy/bundle.js";
import { PolicyEvaluator, resourceOf, settingsOf } from "../../src/policy/evaluator.js";
import type { Finding } from "../../src/policy/types.js";

const bundle = await PolicyBundle.load();
const NOW = new Date("2025-06-15T12:00:00Z");
const evaluator = (config: PolicyConfig) => new PolicyEvaluator(bundle, config, () => NOW);

const PRIVILEGED_POINTER = "/spec/template/spec/containers/0/securityContext/privileged";

/** A Deployment in namespace shop whose container runs privileged (and misses most good practice). */
function privilegedDeployment(
  metadata: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): Record<string, unknown> {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "shop", ...metadata },
    spec: {
      replicas: 2,
      template: {
        metadata: { labels: { app: "web" } },
        spec: { containers: [{ name: "app", image: "nginx:1.25.3", securityContext: { privileged: true } }] },
      },
    },
  };
}

const only = (findings: Finding[], ruleId: string): Finding => {
  const matching = findings.filter((f) => f.ruleId === ruleId);
  if (matching.length !== 1) throw new Error(`expected one ${ruleId} finding, got ${matching.length}`);
  return matching[0]!;
};
const ruleCount = (category: string) => bundle.catalogue.filter((r) => r.category === category).length;

test("under strict enforcement a deny finding is a violation and the workload fails", (t) => {
  const result = evaluator({ global: { enforcement: "strict" } }).evaluate({ object: privilegedDeployment(), context: {} });
  const finding = only(result.findings, "privileged-container");
  t.is(finding.outcome, "violation");
  t.is(finding.severity, "critical");
  t.is(finding.category, "security");
  t.is(finding.message, 'container "app" of Deployment "web" runs privileged (securityContext.privileged: true)');
  t.deepEqual(finding.resource, { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "web" });
  t.deepEqual(finding.fix, { patch: [{ op: "replace", path: PRIVILEGED_POINTER, value: false }], risk: "high" });
  t.is(result.passed, false);
  t.deepEqual(result.resource, { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "web" });
  t.is(result.rulesEvaluated, bundle.catalogue.length);
  t.is(result.skipped, undefined);
});

test("an empty configuration is strict", (t) => {
  const result = evaluator({}).evaluate({ object: privilegedDeployment(), context: {} });
  t.is(only(result.findings, "privileged-container").outcome, "violation");
  t.is(result.passed, false);
});

test("under advisory enforcement deny findings are warnings and the workload passes", (t) => {
  const result = evaluator({ global: { enforcement: "advisory" } }).evaluate({ object: privilegedDeployment(), context: {} });
  t.is(only(result.findings, "privileged-container").outcome, "warning");
  t.deepEqual(result.findings.filter((f) => f.outcome === "violation").map((f) => f.ruleId), []);
  t.true(result.findings.length > 5);
  t.is(result.passed, true);
});

test("a strict category inside an advisory configuration makes only its rules violations", (t) => {
  const config: PolicyConfig = { global: { enforcement: "advisory" }, categories: { security: { enforcement: "strict" } } };
  const result = evaluator(config).evaluate({ object: privilegedDeployment(), context: {} });
  t.is(only(result.findings, "privileged-container").outcome, "violation");
  t.is(only(result.findings, "cpu-limits").outcome, "warning");
  t.deepEqual([...new Set(result.findings.filter((f) => f.outcome === "violation").map((f) => f.category))], ["security"]);
  t.is(result.passed, false);
});

test("a finding exempted by configuration stays visible with outcome exempt and its reason", (t) => {
  const config: PolicyConfig = {
    exemptions: [{ rules: ["privileged-container"], namespace: "shop", name: "web", kind: "Deployment", reason: "CNI agent needs it" }],
  };
  const result = evaluator(config).evaluate({ object: privilegedDeployment(), context: {} });
  const finding = only(result.findings, "privileged-container");
  t.is(finding.outcome, "exempt");
  t.is(finding.reason, "exempt by configuration: CNI agent needs it");
  t.is(finding.pointer, PRIVILEGED_POINTER);
  // Other rules still count.
  t.is(only(result.findings, "cpu-limits").outcome, "violation");
  t.is(result.passed, false);
});

test("a finding exempted by annotation stays visible with outcome exempt and its reason", (t) => {
  const object = privilegedDeployment({
    annotations: { "kube-policy.io/exempt": "privileged-container", "kube-policy.io/exempt-reason": "debug image", "kube-policy.io/exempt-until": "2025-06-30" },
  });
  const finding = only(evaluator({}).evaluate({ object, context: {} }).findings, "privileged-container");
  t.is(finding.outcome, "exempt");
  t.is(finding.reason, "exempt by annotation: debug image (until 2025-06-30)");
});

test("when every violation is exempt the workload passes", (t) => {
  const config: PolicyConfig = { exemptions: [{ rules: ["*"], namespace: "shop", reason: "legacy namespace" }] };
  const result = evaluator(config).evaluate({ object: privilegedDeployment(), context: {} });
  const outcomes = new Set(result.findings.map((f) => f.outcome));
  t.deepEqual([...outcomes].sort(), ["exempt", "not-evaluated"]);
  for (const finding of result.findings.filter((f) => f.outcome === "exempt")) {
    t.is(finding.reason, "exempt by configuration: legacy namespace", finding.ruleId);
  }
  t.is(result.passed, true);
});

test("an expired exemption leaves the violation in place and says so", (t) => {
  const config: PolicyConfig = { exemptions: [{ rules: ["privileged-container"], reason: "migration", expires: "2025-06-14" }] };
  const result = evaluator(config).evaluate({ object: privilegedDeployment(), context: {} });
  const finding = only(result.findings, "privileged-container");
  t.is(finding.outcome, "violation");
  t.is(finding.reason, "exemption expired on 2025-06-14 (migration)");
  t.is(result.passed, false);
});

test("a disabled category's rules produce no findings and are not counted as evaluated", (t) => {
  const object = privilegedDeployment();
  const all = evaluator({}).evaluate({ object, context: {} });
  t.true(all.findings.some((f) => f.category === "security"));
  t.is(all.rulesEvaluated, bundle.catalogue.length);
  const result = evaluator({ categories: { security: { enabled: false } } }).evaluate({ object, context: {} });
  t.deepEqual(result.findings.filter((f) => f.category === "security").map((f) => f.ruleId), []);
  t.is(result.rulesEvaluated, bundle.catalogue.length - ruleCount("security"));
  t.is(ruleCount("security"), 21);
  // The rest is unchanged.
  t.deepEqual(
    result.findings.map((f) => f.ruleId),
    all.findings.filter((f) => f.category !== "security").map((f) => f.ruleId),
  );
});

test("a rule disabled by override or turned back on inside a disabled category", (t) => {
  const object = privilegedDeployment();
  const off = evaluator({ ruleOverrides: { "privileged-container": { enabled: false } } }).evaluate({ object, context: {} });
  t.deepEqual(off.findings.filter((f) => f.ruleId === "privileged-container"), []);
  t.is(off.rulesEvaluated, bundle.catalogue.length - 1);
  const backOn = evaluator({
    categories: { security: { enabled: false } },
    ruleOverrides: { "privileged-container": { enabled: true } },
  }).evaluate({ object, context: {} });
  t.deepEqual([...new Set(backOn.findings.filter((f) => f.category === "security").map((f) => f.ruleId))], ["privileged-container"]);
  t.is(only(backOn.findings, "privileged-container").outcome, "violation");
  t.is(backOn.rulesEvaluated, bundle.catalogue.length - ruleCount("security") + 1);
});

test("a workload in an excluded namespace is skipped", (t) => {
  const config: PolicyConfig = { excludedNamespaces: ["kube-*"] };
  const result = evaluator(config).evaluate({ object: privilegedDeployment({ namespace: "kube-system" }), context: {} });
  t.deepEqual(result, {
    resource: { apiVersion: "apps/v1", kind: "Deployment", namespace: "kube-system", name: "web" },
    passed: true,
    findings: [],
    rulesEvaluated: 0,
    skipped: "namespace kube-system is excluded by the configuration",
  });
  const elsewhere = evaluator(config).evaluate({ object: privilegedDeployment({ namespace: "shop" }), context: {} });
  t.is(elsewhere.skipped, undefined);
  t.is(elsewhere.passed, false);
});

test("a workload without a namespace counts as being in default", (t) => {
  const object = privilegedDeployment();
  delete (object.metadata as { namespace?: string }).namespace;
  const result = evaluator({ excludedNamespaces: ["default"] }).evaluate({ object, context: {} });
  t.is(result.skipped, "namespace default is excluded by the configuration");
  t.is(result.resource.namespace, null);
});

test("a severity override is reflected in finding.severity", (t) => {
  const config: PolicyConfig = { ruleOverrides: { "privileged-container": { severity: "low" } } };
  const result = evaluator(config).evaluate({ object: privilegedDeployment(), context: {} });
  t.is(only(result.findings, "privileged-container").severity, "low");
  t.is(only(result.findings, "cpu-limits").severity, "medium");
});

test("fixes are auto-fixable only when the configuration allows: global.autoFix and a low-risk fix", (t) => {
  const object = privilegedDeployment();
  const on = evaluator({ global: { autoFix: true } }).evaluate({ object, context: {} });
  const escalation = only(on.findings, "memory-requests");
  t.is(escalation.fix?.risk, "low");
  t.is(escalation.autoFixable, true);
  t.is(escalation.reason, undefined);
  const privileged = only(on.findings, "privileged-container");
  t.is(privileged.fix?.risk, "high");
  t.is(privileged.autoFixable, false);
  t.is(privileged.reason, "fix needs approval: high-risk fixes always need an approval");
  // A rule that only reports a remediation has no fix and is never auto-fixable.
  const liveness = only(on.findings, "liveness-probe");
  t.is(liveness.fix, null);
  t.is(liveness.autoFixable, false);

  const off = evaluator({}).evaluate({ object, context: {} });
  const offEscalation = only(off.findings, "memory-requests");
  t.is(offEscalation.autoFixable, false);
  t.is(offEscalation.reason, "fix needs approval: auto-fix is not enabled for this rule by the configuration");
  t.deepEqual(off.findings.filter((f) => f.autoFixable).map((f) => f.ruleId), []);
});

test("the approval policy uses the overridden severity", (t) => {
  const config: PolicyConfig = {
    global: { autoFix: true },
    ruleOverrides: { "memory-requests": { severity: "critical" } },
    autoFixPolicy: { requireApproval: { severities: ["critical"] } },
  };
  const finding = only(evaluator(config).evaluate({ object: privilegedDeployment(), context: {} }).findings, "memory-requests");
  t.is(finding.severity, "critical");
  t.is(finding.autoFixable, false);
  t.is(finding.reason, "fix needs approval: the configuration requires an approval for critical findings");
});

test("rules missing their context facts give not-evaluated findings", (t) => {
  const result = evaluator({}).evaluate({ object: privilegedDeployment(), context: {} });
  const finding = only(result.findings, "network-policy");
  t.is(finding.outcome, "not-evaluated");
  t.is(finding.path, "");
  t.is(finding.pointer, "");
  t.is(finding.fix, null);
  t.is(finding.autoFixable, false);
  t.is(
    finding.message,
    'the NetworkPolicies of namespace "shop" are not known, so whether any selects the pods of Deployment "web" cannot be told',
  );
  t.is(finding.reason, finding.message);
  // Not-evaluated findings do not fail a workload, even under strict enforcement.
  const known = evaluator({}).evaluate({ object: privilegedDeployment(), context: { networkPolicies: [] } });
  t.is(only(known.findings, "network-policy").outcome, "violation");
  // An exemption does not hide that a rule could not be evaluated.
  const exempt = evaluator({ exemptions: [{ rules: ["network-policy"], reason: "mesh" }] }).evaluate({ object: privilegedDeployment(), context: {} });
  t.is(only(exempt.findings, "network-policy").outcome, "not-evaluated");
});

test("finding.path is the dotted form and finding.pointer the JSON Pointer", (t) => {
  const result = evaluator({}).evaluate({ object: privilegedDeployment(), context: {} });
  const privileged = only(result.findings, "privileged-container");
  t.is(privileged.path, "spec.template.spec.containers[0].securityContext.privileged");
  t.is(privileged.pointer, PRIVILEGED_POINTER);
  const object = privilegedDeployment({
    labels: { "data-classification": "restricted" },
    annotations: { "compliance.policy/audit-logging": "disabled" },
  });
  const audit = only(evaluator({}).evaluate({ object, context: {} }).findings, "audit-logging");
  t.is(audit.pointer, "/metadata/annotations/compliance.policy~1audit-logging");
  t.is(audit.path, 'metadata.annotations["compliance.policy/audit-logging"]');
});

test("the catalogue view reflects the configuration", (t) => {
  const view = evaluator({
    categories: { cost: { enabled: false } },
    ruleOverrides: { "privileged-container": { severity: "high", enforcement: "advisory" } },
  }).catalogue();
  t.is(view.length, bundle.catalogue.length);
  const privileged = view.find((r) => r.id === "privileged-container");
  t.is(privileged?.enabled, true);
  t.is(privileged?.enforcement, "advisory");
  t.is(privileged?.severity, "critical");
  t.is(privileged?.effectiveSeverity, "high");
  t.is(privileged?.fixAvailable, true);
  t.deepEqual(
    view.filter((r) => !r.enabled).map((r) => r.id).sort(),
    bundle.catalogue.filter((r) => r.category === "cost").map((r) => r.id).sort(),
  );
  t.is(view.find((r) => r.id === "liveness-probe")?.fixAvailable, false);
});

test("settings reach the rules, with the organisation's environment", (t) => {
  t.deepEqual(settingsOf({}), { environment: "" });
  t.deepEqual(settingsOf({ organization: { environment: "production" }, settings: { minReplicas: 3 } }), {
    environment: "production",
    minReplicas: 3,
  });
  const object = privilegedDeployment();
  const context = { horizontalPodAutoscalers: [] };
  const base = evaluator({}).evaluate({ object, context });
  t.deepEqual(base.findings.filter((f) => f.ruleId === "replicas-minimum").map((f) => f.outcome), []);
  const three = evaluator({ settings: { minReplicas: 3 } }).evaluate({ object, context });
  const finding = only(three.findings, "replicas-minimum");
  t.is(finding.outcome, "violation");
  t.is(finding.message, 'Deployment "web" runs 2 replicas, below the minimum of 3, and no HorizontalPodAutoscaler manages it');
  t.deepEqual(finding.fix, { patch: [{ op: "add", path: "/spec/replicas", value: 3 }], risk: "medium" });
});

test("resourceOf reads what it can from an object", (t) => {
  t.deepEqual(resourceOf({ apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "ns" } }), {
    apiVersion: "v1",
    kind: "Pod",
    namespace: "ns",
    name: "p",
  });
  t.deepEqual(resourceOf({}), { apiVersion: "", kind: "", namespace: null, name: "" });
});

test("evaluateAll yields one result per input, in order", (t) => {
  const inputs = ["a", "b", "c"].map((name) => ({ object: privilegedDeployment({ name }), context: {} }));
  t.deepEqual(
    [...evaluator({}).evaluateAll(inputs)].map((r) => r.resource.name),
    ["a", "b", "c"],
  );
});
