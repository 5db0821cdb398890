// Covers src/remediation/plan.ts offline: which fixes a configuration lets auto-fix apply, which need an
// approval (and why), what stays manual, the `rules` filter, and the merge of several rules' fixes into
// one object (fixes that each add the same missing parent keep all their fields; fixes that undo each
// other or do not apply are left out and named).
// Real components: the committed wasm bundle (PolicyBundle.load) and the evaluator. Stand-ins: a
// hand-written Deployment and hand-written context facts instead of a cluster; synthetic RuleFix
// values for the conflict cases no built-in rule produces.
import test from "ava";
import type { PolicyConfig } from "../../src/config/types.js";
import { InvalidInputError } from "../../src/errors.js";
import { PolicyBundle } from "../../src/policy/bundle.js";
import { PolicyEvaluator } from "../../src/policy/evaluator.js";
import type { JsonPatchOp } from "../../src/policy/types.js";
import { applyPatch } from "../../src/remediation/json-patch.js";
import { checkRuleFilter, mergeFixes, planFixes, type RuleFix } from "../../src/remediation/plan.js";

const bundle = await PolicyBundle.load();
const CONTEXT = { horizontalPodAutoscalers: [], podDisruptionBudgets: [], networkPolicies: [], resourceQuotas: [] };

/** Labelled, versioned, two replicas; one container with no securityContext and no resources. */
const deployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: {
    name: "web",
    namespace: "shop",
    labels: { "app.kubernetes.io/name": "web", "app.kubernetes.io/version": "1.4.2", "app.kubernetes.io/component": "api" },
  },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: "web" } },
    template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "app", image: "registry.example.com/web:1.4.2" }] } },
  },
};

const evaluate = (config: PolicyConfig, object: Record<string, unknown> = deployment) => new PolicyEvaluator(bundle, config).evaluate({ object, context: CONTEXT });
const ids = (fixes: { ruleId: string }[]) => fixes.map((f) => f.ruleId).sort();

const AUTO = [
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

test("with auto-fix on, low and medium fixes are applied and the high-risk one waits for an approval", (t) => {
  const plan = planFixes(evaluate({ global: { autoFix: true } }));
  t.deepEqual(ids(plan.auto), AUTO);
  t.deepEqual(plan.needsApproval.map((f) => [f.ruleId, f.approval]), [["read-only-root-filesystem", "high-risk fixes always need an approval"]]);
  t.true(plan.manual.some((m) => m.ruleId === "liveness-probe" && m.remediation.length > 0 && m.path.includes("containers[0]")));
  t.false(plan.manual.some((m) => AUTO.includes(m.ruleId)), "a rule with a fix is not listed as manual");
  t.deepEqual(plan.skipped, []);
});

test("the configuration decides approvals: auto-fix off by default, medium risk, categories, severities, rules", (t) => {
  const off = planFixes(evaluate({}));
  t.deepEqual(off.auto, []);
  t.true(off.needsApproval.filter((f) => f.risk !== "high").every((f) => f.approval === "auto-fix is not enabled for this rule by the configuration"));

  const noMedium = planFixes(evaluate({ global: { autoFix: true }, autoFixPolicy: { allowMediumRisk: false } }));
  t.true(noMedium.auto.every((f) => f.risk === "low"));
  t.is(noMedium.needsApproval.find((f) => f.ruleId === "cpu-limits")?.approval, "the configuration requires an approval for medium-risk fixes");

  const byCategory = planFixes(evaluate({ global: { autoFix: true }, autoFixPolicy: { requireApproval: { categories: ["performance"], rules: ["seccomp-profile"] } } }));
  t.deepEqual(ids(byCategory.auto), ["drop-all-capabilities", "privilege-escalation", "run-as-non-root", "security-context-required", "service-account-token"]);
  t.is(byCategory.needsApproval.find((f) => f.ruleId === "cpu-requests")?.approval, "the configuration requires an approval for performance fixes");
  t.is(byCategory.needsApproval.find((f) => f.ruleId === "seccomp-profile")?.approval, "the configuration requires an approval for seccomp-profile");

  const bySeverity = planFixes(evaluate({ global: { autoFix: true }, autoFixPolicy: { requireApproval: { severities: ["high"] } } }));
  t.is(bySeverity.needsApproval.find((f) => f.ruleId === "privilege-escalation")?.approval, "the configuration requires an approval for high findings");
  t.true(bySeverity.auto.some((f) => f.ruleId === "cpu-requests"), "medium-severity fixes still apply");

  const perCategory = planFixes(evaluate({ global: { autoFix: false }, categories: { performance: { autoFix: true } } }));
  t.deepEqual(ids(perCategory.auto), ["cpu-limits", "cpu-requests", "memory-limits", "memory-requests", "pod-anti-affinity"]);
});

test("the rules filter keeps the named fixes and says why the others were not applied", (t) => {
  const plan = planFixes(evaluate({ global: { autoFix: true } }), { rules: ["cpu-requests", "privileged-container", "liveness-probe", "read-only-root-filesystem"] });
  t.deepEqual(ids(plan.auto), ["cpu-requests"]);
  t.deepEqual(ids(plan.needsApproval), ["read-only-root-filesystem"]);
  const skipped = new Map(plan.skipped.map((s) => [s.ruleId, s.reason]));
  t.is(skipped.get("cpu-limits"), "not in the rules filter");
  t.is(skipped.get("privileged-container"), "the rule does not fail on this workload");
  t.is(skipped.get("liveness-probe"), "the rule has no automatic fix here (see manual)");
  t.is(plan.skipped.length, AUTO.length - 1 + 2);
});

test("a rules filter naming unknown rules is refused with each bad entry", (t) => {
  const error = t.throws(() => checkRuleFilter(["cpu-requests", "no-such-rule", "cpu_requests"], new Set(bundle.byId.keys())), { instanceOf: InvalidInputError });
  t.deepEqual(error?.details, [
    { where: "rules[1]", message: 'unknown rule id "no-such-rule"' },
    { where: "rules[2]", message: 'unknown rule id "cpu_requests"' },
  ]);
  t.notThrows(() => checkRuleFilter(undefined, new Set()));
});

test("fixes that each add the same missing securityContext and resources are merged, and every rule then passes", (t) => {
  const plan = planFixes(evaluate({ global: { autoFix: true } }));
  const adders = plan.auto.filter((f) => f.patch.some((op) => op.op === "add" && op.path === "/spec/template/spec/containers/0/securityContext"));
  t.true(adders.length >= 3, `${adders.length} rules add the whole securityContext`);

  // Applied one after the other with plain RFC 6902, the last `add` wins and the others are lost.
  const naive = plan.auto.reduce<Record<string, unknown>>((object, fix) => applyPatch(object, fix.patch), deployment);
  const stillFailingNaive = evaluate({ global: { autoFix: true } }, naive).findings.filter((f) => AUTO.includes(f.ruleId));
  t.true(stillFailingNaive.length > 0, "the naive sequence leaves rules failing");

  const merged = mergeFixes(deployment, plan.auto);
  t.deepEqual(merged.failed, []);
  t.deepEqual(ids(merged.merged), AUTO);
  const container = (merged.object.spec.template.spec.containers as Record<string, unknown>[])[0]!;
  t.deepEqual(container.securityContext, {
    allowPrivilegeEscalation: false,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  });
  t.deepEqual(container.resources, { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } });
  const after = evaluate({ global: { autoFix: true } }, merged.object).findings.filter((f) => f.outcome === "violation" || f.outcome === "warning");
  t.deepEqual(after.filter((f) => AUTO.includes(f.ruleId)).map((f) => f.ruleId), [], "none of the merged rules fires on the result");
  t.is(JSON.stringify(deployment).includes("securityContext"), false, "the original object is untouched");
});

function fix(ruleId: string, patch: JsonPatchOp[]): RuleFix {
  return { ruleId, title: ruleId, severity: "low", category: "operations", risk: "low", patch, findings: [{ message: ruleId, path: "" }], approval: null };
}

test("fixes that undo each other or do not apply are left out and named; the rest are merged", (t) => {
  const object = { spec: { list: ["a", "b", "c"], value: 1, keep: true } };
  const result = mergeFixes(object, [
    fix("drop-first", [{ op: "remove", path: "/spec/list/0" }]),
    // Computed against the original too: after drop-first, index 1 is "c", not "b".
    fix("drop-second", [{ op: "remove", path: "/spec/list/1" }]),
    fix("set-one", [{ op: "replace", path: "/spec/value", value: 2 }]),
    fix("set-other", [{ op: "replace", path: "/spec/value", value: 3 }]),
    fix("missing-parent", [{ op: "replace", path: "/spec/nothing/here", value: 1 }]),
    fix("append", [{ op: "add", path: "/spec/extra", value: { x: 1 } }]),
  ]);
  t.deepEqual(ids(result.merged), ["append", "drop-first", "set-one"]);
  t.deepEqual(result.failed, [
    { ruleId: "drop-second", reason: "its fix conflicts with the fix of drop-first at /spec/list; run the fix again once that one is applied" },
    { ruleId: "set-other", reason: "its fix conflicts with the fix of set-one at /spec/value; run the fix again once that one is applied" },
    {
      ruleId: "missing-parent",
      reason: "its fix does not apply to the object: operation 0 (replace /spec/nothing/here): the parent /spec/nothing does not exist or is not an object or array",
    },
  ]);
  t.deepEqual(result.object, { spec: { list: ["b", "c"], value: 2, keep: true, extra: { x: 1 } } });
});
