// Covers the MCP tool test_policy_rule (src/tools/custom.ts): a JSON rule or a Rego module is compiled
// with the built-in catalogue and run on a sample manifest; the tool returns that rule's findings (and
// the generated Rego for JSON rules); a rule that does not compile throws with details naming the rule.
// Real components: the tool as every door runs it (Tool.run, argument validation and audit included),
// a Runtime over the bundled demo manifests (MemorySource.demo()) with its SQLite store in a temporary
// file, the real OPA CLI. The bundle cache is a temporary XDG_CACHE_HOME (the tool uses the default
// cache directory), set before anything is compiled. The tests run one at a time: two compiles of the same
// new rule set at once can collide in the cache (compileCustomRules removes and renames the bundle
// directory without a lock, and the loser fails with ENOTEMPTY).
import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { InvalidInputError, PolicyCompileError } from "../../../src/errors.js";
import { MemorySource } from "../../../src/kube/memory-source.js";
import { PolicyBundle } from "../../../src/policy/bundle.js";
import { testPolicyRule } from "../../../src/tools/custom.js";
import { Runtime } from "../../../src/runtime.js";

const work = mkdtempSync(path.join(os.tmpdir(), "kube-policy-test-tool-"));
const savedCacheHome = process.env.XDG_CACHE_HOME;
process.env.XDG_CACHE_HOME = path.join(work, "cache");

const runtime = new Runtime({}, await PolicyBundle.load(), await MemorySource.demo(), { databasePath: path.join(work, "kube-policy.db") });
test.after.always(async () => {
  await runtime.close();
  if (savedCacheHome === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = savedCacheHome;
  rmSync(work, { recursive: true, force: true });
});

interface Output {
  ruleId: string;
  findings: { ruleId: string; outcome: string; severity: string; category: string; message: string; path: string; resource: { kind: string; name: string } }[];
  passed: boolean;
  workloads: number;
  generatedRego: string | null;
  errors: { where?: string; message: string }[];
}
const call = async (args: Record<string, unknown>) => {
  const result = await testPolicyRule.run(args, { runtime, actor: "test" });
  return { ...result, structured: result.structured as unknown as Output };
};

const REGISTRY_RULE = {
  id: "tool-registry",
  name: "Images from the organisation registry",
  severity: "high",
  category: "compliance",
  scope: "deployment",
  conditions: [{ field: "spec.template.spec.containers[*].image", operator: "regex_match", value: "^registry\\.example\\.com/" }],
  actions: [{ type: "deny", message: "Images must come from registry.example.com" }],
};

const deployment = (name: string, image: string, labels = "") => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: shop${labels}
spec:
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      containers:
        - name: app
          image: ${image}
`;
const MANIFEST = `${deployment("good", "registry.example.com/shop/good:1.0")}---\n${deployment("bad", "docker.io/library/nginx:1.25")}`;

test.serial("a JSON rule on a sample manifest returns its findings, and the Rego generated from it", async (t) => {
  const { structured, text } = await call({ rule: REGISTRY_RULE, manifest: MANIFEST });
  t.is(structured.ruleId, "tool-registry");
  t.false(structured.passed);
  t.is(structured.workloads, 2);
  t.deepEqual(structured.errors, []);
  t.deepEqual(
    structured.findings.map((f) => ({ ruleId: f.ruleId, outcome: f.outcome, severity: f.severity, category: f.category, message: f.message, path: f.path, workload: `${f.resource.kind} ${f.resource.name}` })),
    [
      {
        ruleId: "tool-registry",
        outcome: "violation",
        severity: "high",
        category: "compliance",
        message: "Images must come from registry.example.com (spec.template.spec.containers[0].image must match ^registry\\.example\\.com/)",
        path: "spec.template.spec.containers[0].image",
        workload: "Deployment bad",
      },
    ],
  );
  const rego = structured.generatedRego ?? "";
  t.true(rego.startsWith("# Generated from rule#tool-registry; do not edit.\n"), rego);
  t.true(rego.includes("\npackage kubepolicy.custom.tool_registry\n"), rego);
  t.true(rego.includes('"id":"tool-registry"'), rego);
  t.is(text.split("\n")[0], "tool-registry: 1 finding(s) in 2 workload(s).");
});

test.serial("a compliant manifest passes; only the rule under test is reported, not the built-in ones", async (t) => {
  const { structured, text } = await call({ rule: REGISTRY_RULE, manifest: deployment("good", "registry.example.com/shop/good:1.0") });
  t.true(structured.passed);
  t.deepEqual(structured.findings, []);
  t.is(structured.workloads, 1);
  // Served from the bundle cache: the same rule was compiled by the test before.
  t.is(text, "tool-registry: no finding in 1 workload(s) (compiled bundle from cache).");
});

test.serial("context facts come from the other documents of the manifest: a NetworkPolicy there isolates the workload", async (t) => {
  const rule = {
    id: "tool-isolated",
    severity: "critical",
    category: "compliance",
    enabled: false,
    match: { conditions: [{ field: "metadata.labels.pci-scope", operator: "equals", value: "true" }] },
    conditions: [{ field: "facts.networkIsolated", operator: "equals", value: true }],
    actions: [{ type: "deny", message: "PCI workloads require network isolation" }],
  };
  const pci = deployment("payments", "registry.example.com/pay:1.0", '\n  labels:\n    pci-scope: "true"');
  const policy = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: payments
  namespace: shop
spec:
  podSelector:
    matchLabels:
      app: payments
  policyTypes: [Ingress]
`;
  // enabled: false in the rule: the tool tests it as enabled all the same.
  const alone = await call({ rule, manifest: pci });
  t.deepEqual(alone.structured.findings.map((f) => [f.outcome, f.message]), [["violation", "PCI workloads require network isolation (facts.networkIsolated must equal true)"]]);
  const isolated = await call({ rule, manifest: `${pci}---\n${policy}` });
  t.deepEqual(isolated.structured.findings, []);
  t.true(isolated.structured.passed);
});

test.serial("a Rego module (package kubepolicy.custom.<name> with METADATA) is compiled and run the same way", async (t) => {
  const module = `# METADATA
# title: Contact annotation
# description: Workloads name a contact in the annotation example.com/contact.
# custom:
#   id: tool-contact
#   category: operations
#   severity: medium
#   action: warn
#   remediation: Add the annotation example.com/contact.
package kubepolicy.custom.tool_contact

import data.lib.kubernetes as k8s

violation contains {"msg": concat("", [k8s.workload, " names no contact"]), "path": "/metadata"} if {
	k8s.is_workload
	not k8s.annotations["example.com/contact"]
}
`;
  const { structured } = await call({ rule: module, manifest: MANIFEST });
  t.is(structured.ruleId, "tool-contact");
  t.is(structured.generatedRego, null);
  t.false(structured.passed);
  t.deepEqual(structured.findings.map((f) => [f.outcome, f.severity, f.category, f.message]).sort(), [
    ["warning", "medium", "operations", 'Deployment "bad" names no contact'],
    ["warning", "medium", "operations", 'Deployment "good" names no contact'],
  ]);
});

test.serial("a JSON rule with an unknown operator throws a PolicyCompileError naming the rule and condition", async (t) => {
  const rule = { ...REGISTRY_RULE, id: "tool-broken", conditions: [{ field: "metadata.name", operator: "starts_with", value: "web-" }] };
  const error = await t.throwsAsync(call({ rule, manifest: MANIFEST }), { instanceOf: PolicyCompileError });
  t.is(error?.message, "1 problem(s) in custom rules");
  t.deepEqual(error?.details, [
    {
      where: "rule#tool-broken conditions[0].operator",
      message: 'unknown operator "starts_with" (one of equals, not_equals, contains, not_contains, greater_than, less_than, regex_match, exists, not_exists, in, not_in)',
    },
  ]);
});

test.serial("a JSON rule that shadows a built-in id is refused", async (t) => {
  const error = await t.throwsAsync(call({ rule: { ...REGISTRY_RULE, id: "privileged-container" }, manifest: MANIFEST }), { instanceOf: PolicyCompileError });
  t.deepEqual(error?.details, [{ where: "rule#privileged-container", message: "rule id privileged-container shadows the built-in rule of the same id" }]);
});

test.serial("Rego without a kubepolicy.custom package, and a manifest without objects, are invalid input", async (t) => {
  const noPackage = await t.throwsAsync(call({ rule: "package example\n\nallow := true\n", manifest: MANIFEST }), { instanceOf: InvalidInputError });
  t.is(noPackage?.message, "a Rego rule must declare `package kubepolicy.custom.<name>`");
  t.deepEqual(noPackage?.details, [{ where: "rule", message: "no such package line" }]);
  const empty = await t.throwsAsync(call({ rule: REGISTRY_RULE, manifest: "# nothing here\n" }), { instanceOf: InvalidInputError });
  t.is(empty?.message, "the sample manifest holds no Kubernetes object");
});

test.serial("arguments are validated before anything is compiled", async (t) => {
  const error = await t.throwsAsync(call({ rule: REGISTRY_RULE }), { instanceOf: InvalidInputError });
  t.is(error?.message, "invalid arguments for test_policy_rule");
  t.deepEqual(error?.details.map((d) => d.where), ["manifest"]);
});
