// Covers how the configuration turns rule output into outcomes (src/policy/enforcement.ts): each rule's
// enforcement across global, category and override; severity overrides; which fixes need an approval;
// exemptions by workload annotation and by configuration (with expiry); namespace exclusion and isolation.
// Stand-ins: hand-written catalogue entries instead of the compiled bundle, and a fixed clock
// (2025-06-15T12:00:00Z) instead of the current time.
import test from "ava";
import type { PolicyConfig } from "../../src/config/types.js";
import {
  approvalReason,
  EXEMPT_ANNOTATION,
  EXEMPT_REASON_ANNOTATION,
  EXEMPT_UNTIL_ANNOTATION,
  exemptionFor,
  globMatch,
  namespaceAllowed,
  namespaceExcluded,
  ruleEnabled,
  ruleEnforcement,
  ruleSeverity,
} from "../../src/policy/enforcement.js";
import type { CatalogueEntry, Category, Severity } from "../../src/policy/types.js";

const NOW = new Date("2025-06-15T12:00:00Z");

function rule(id: string, category: Category = "security", severity: Severity = "high"): CatalogueEntry {
  return {
    id,
    title: id,
    description: `${id} for tests`,
    category,
    severity,
    frameworks: {},
    remediation: "fix it",
    fixRisk: "low",
    action: "deny",
    enabledByDefault: true,
    source: "built-in",
    package: `kubepolicy.${category}.${id.replace(/-/g, "_")}`,
    file: `rego/${category}/${id}.rego`,
  };
}

const privileged = rule("privileged-container", "security", "critical");
const hostPid = rule("host-pid", "security", "high");
const cpuLimits = rule("cpu-limits", "performance", "medium");
const imageDigest = rule("image-digest", "compliance", "low");

/** A workload's kind and metadata; namespace null means the object names none. */
function workload(
  annotations?: Record<string, string>,
  { name = "web", namespace = "shop", kind = "Deployment" }: { name?: string; namespace?: string | null; kind?: string } = {},
) {
  return {
    kind,
    metadata: { name, ...(namespace === null ? {} : { namespace }), ...(annotations ? { annotations } : {}) },
  };
}

// ---------------------------------------------------------------- ruleEnforcement / ruleEnabled

test("the annotation names are the documented ones", (t) => {
  t.is(EXEMPT_ANNOTATION, "kube-policy.io/exempt");
  t.is(EXEMPT_REASON_ANNOTATION, "kube-policy.io/exempt-reason");
  t.is(EXEMPT_UNTIL_ANNOTATION, "kube-policy.io/exempt-until");
});

test("enforcement is strict by default", (t) => {
  t.is(ruleEnforcement(privileged, {}), "strict");
  t.is(ruleEnabled(privileged, {}), true);
});

test("global enforcement applies to every rule without a closer setting", (t) => {
  for (const enforcement of ["strict", "advisory", "disabled"] as const) {
    const config: PolicyConfig = { global: { enforcement } };
    t.is(ruleEnforcement(privileged, config), enforcement);
    t.is(ruleEnforcement(cpuLimits, config), enforcement);
    t.is(ruleEnabled(cpuLimits, config), enforcement !== "disabled");
  }
});

test("a category's enforcement wins over global, for its own rules only", (t) => {
  const config: PolicyConfig = { global: { enforcement: "advisory" }, categories: { security: { enforcement: "strict" } } };
  t.is(ruleEnforcement(privileged, config), "strict");
  t.is(ruleEnforcement(cpuLimits, config), "advisory");
  const relaxed: PolicyConfig = { global: { enforcement: "strict" }, categories: { performance: { enforcement: "advisory" } } };
  t.is(ruleEnforcement(cpuLimits, relaxed), "advisory");
  t.is(ruleEnforcement(privileged, relaxed), "strict");
  const off: PolicyConfig = { categories: { compliance: { enforcement: "disabled" } } };
  t.is(ruleEnforcement(imageDigest, off), "disabled");
  t.is(ruleEnforcement(privileged, off), "strict");
});

test("a category with enabled: false disables its rules whatever its enforcement says", (t) => {
  const config: PolicyConfig = { global: { enforcement: "strict" }, categories: { security: { enabled: false, enforcement: "strict" } } };
  t.is(ruleEnforcement(privileged, config), "disabled");
  t.is(ruleEnabled(privileged, config), false);
  t.is(ruleEnforcement(cpuLimits, config), "strict");
  // enabled: true changes nothing by itself.
  t.is(ruleEnforcement(privileged, { global: { enforcement: "advisory" }, categories: { security: { enabled: true } } }), "advisory");
});

test("an override's enforcement wins over category and global", (t) => {
  const config: PolicyConfig = {
    global: { enforcement: "strict" },
    categories: { security: { enforcement: "strict" } },
    ruleOverrides: { "privileged-container": { enforcement: "advisory" }, "host-pid": { enforcement: "disabled" } },
  };
  t.is(ruleEnforcement(privileged, config), "advisory");
  t.is(ruleEnforcement(hostPid, config), "disabled");
  t.is(ruleEnabled(hostPid, config), false);
  // Inside a disabled category an explicit enforcement still wins.
  t.is(ruleEnforcement(privileged, { categories: { security: { enabled: false } }, ruleOverrides: { "privileged-container": { enforcement: "strict" } } }), "strict");
});

test("an override with enabled: false disables the rule even with an enforcement", (t) => {
  const config: PolicyConfig = { ruleOverrides: { "privileged-container": { enabled: false, enforcement: "strict" } } };
  t.is(ruleEnforcement(privileged, config), "disabled");
  t.is(ruleEnforcement(hostPid, config), "strict");
});

test("an override with enabled: true turns a rule back on inside a disabled category", (t) => {
  const on = { ruleOverrides: { "privileged-container": { enabled: true } } };
  // The category's own enforcement (when not disabled) is the nearest.
  t.is(ruleEnforcement(privileged, { ...on, global: { enforcement: "strict" }, categories: { security: { enabled: false, enforcement: "advisory" } } }), "advisory");
  // Else global.
  t.is(ruleEnforcement(privileged, { ...on, global: { enforcement: "advisory" }, categories: { security: { enabled: false } } }), "advisory");
  t.is(ruleEnforcement(privileged, { ...on, global: { enforcement: "strict" }, categories: { security: { enforcement: "disabled" } } }), "strict");
  // Everything disabled: strict.
  t.is(ruleEnforcement(privileged, { ...on, global: { enforcement: "disabled" }, categories: { security: { enabled: false, enforcement: "disabled" } } }), "strict");
  // Under a disabled global the rule comes back on too.
  t.is(ruleEnforcement(privileged, { ...on, global: { enforcement: "disabled" } }), "strict");
  // The other rules of the category stay off.
  t.is(ruleEnforcement(hostPid, { ...on, categories: { security: { enabled: false } } }), "disabled");
});

// ---------------------------------------------------------------- ruleSeverity

test("a severity override replaces the catalogue severity of that rule only", (t) => {
  const config: PolicyConfig = { ruleOverrides: { "privileged-container": { severity: "low" } } };
  t.is(ruleSeverity(privileged, config), "low");
  t.is(ruleSeverity(hostPid, config), "high");
  t.is(ruleSeverity(privileged, {}), "critical");
  t.is(ruleSeverity(privileged, { ruleOverrides: { "privileged-container": { enforcement: "advisory" } } }), "critical");
});

// ---------------------------------------------------------------- approvalReason

test("high-risk fixes always need an approval", (t) => {
  const config: PolicyConfig = { global: { autoFix: true }, ruleOverrides: { "privileged-container": { autoFix: true } } };
  t.is(approvalReason(privileged, "critical", "high", config), "high-risk fixes always need an approval");
  t.is(approvalReason(privileged, "critical", "high", {}), "high-risk fixes always need an approval");
});

test("auto-fix is off by default", (t) => {
  for (const risk of ["low", "medium"] as const) {
    t.is(approvalReason(cpuLimits, "medium", risk, {}), "auto-fix is not enabled for this rule by the configuration");
    t.is(approvalReason(cpuLimits, "medium", risk, { global: { autoFix: false } }), "auto-fix is not enabled for this rule by the configuration");
  }
});

test("global autoFix lets low and medium fixes through", (t) => {
  const config: PolicyConfig = { global: { autoFix: true } };
  t.is(approvalReason(cpuLimits, "medium", "low", config), null);
  t.is(approvalReason(cpuLimits, "medium", "medium", config), null);
});

test("a category's autoFix overrides global, and a rule's overrides the category's", (t) => {
  const categoryOn: PolicyConfig = { global: { autoFix: false }, categories: { performance: { autoFix: true } } };
  t.is(approvalReason(cpuLimits, "medium", "low", categoryOn), null);
  t.is(approvalReason(privileged, "critical", "low", categoryOn), "auto-fix is not enabled for this rule by the configuration");
  const categoryOff: PolicyConfig = { global: { autoFix: true }, categories: { performance: { autoFix: false } } };
  t.is(approvalReason(cpuLimits, "medium", "low", categoryOff), "auto-fix is not enabled for this rule by the configuration");
  t.is(approvalReason(privileged, "critical", "low", categoryOff), null);
  const ruleOn: PolicyConfig = { ...categoryOff, ruleOverrides: { "cpu-limits": { autoFix: true } } };
  t.is(approvalReason(cpuLimits, "medium", "low", ruleOn), null);
  const ruleOff: PolicyConfig = { ...categoryOn, ruleOverrides: { "cpu-limits": { autoFix: false } } };
  t.is(approvalReason(cpuLimits, "medium", "low", ruleOff), "auto-fix is not enabled for this rule by the configuration");
});

test("allowMediumRisk: false makes medium-risk fixes need an approval, not low-risk ones", (t) => {
  const config: PolicyConfig = { global: { autoFix: true }, autoFixPolicy: { allowMediumRisk: false } };
  t.is(approvalReason(cpuLimits, "medium", "medium", config), "the configuration requires an approval for medium-risk fixes");
  t.is(approvalReason(cpuLimits, "medium", "low", config), null);
  t.is(approvalReason(cpuLimits, "medium", "medium", { global: { autoFix: true }, autoFixPolicy: { allowMediumRisk: true } }), null);
});

test("requireApproval by rule, category and severity", (t) => {
  const base: PolicyConfig = { global: { autoFix: true } };
  const byRule: PolicyConfig = { ...base, autoFixPolicy: { requireApproval: { rules: ["cpu-limits"] } } };
  t.is(approvalReason(cpuLimits, "medium", "low", byRule), "the configuration requires an approval for cpu-limits");
  t.is(approvalReason(privileged, "critical", "low", byRule), null);
  const byCategory: PolicyConfig = { ...base, autoFixPolicy: { requireApproval: { categories: ["security"] } } };
  t.is(approvalReason(privileged, "critical", "low", byCategory), "the configuration requires an approval for security fixes");
  t.is(approvalReason(cpuLimits, "medium", "low", byCategory), null);
  const bySeverity: PolicyConfig = { ...base, autoFixPolicy: { requireApproval: { severities: ["critical", "high"] } } };
  t.is(approvalReason(privileged, "critical", "low", bySeverity), "the configuration requires an approval for critical findings");
  t.is(approvalReason(cpuLimits, "medium", "low", bySeverity), null);
  // The severity passed in (the effective one, after overrides) decides, not the catalogue's.
  t.is(approvalReason(privileged, "low", "low", bySeverity), null);
  t.is(approvalReason(cpuLimits, "high", "low", bySeverity), "the configuration requires an approval for high findings");
});

// ---------------------------------------------------------------- exemptionFor: annotations

test("an annotation naming the rule with a reason exempts it", (t) => {
  const object = workload({ [EXEMPT_ANNOTATION]: "host-pid, privileged-container", [EXEMPT_REASON_ANNOTATION]: " CNI agent " });
  t.deepEqual(exemptionFor(privileged, object, {}, NOW), { exempt: true, reason: "exempt by annotation: CNI agent" });
  t.deepEqual(exemptionFor(hostPid, object, {}, NOW), { exempt: true, reason: "exempt by annotation: CNI agent" });
  t.is(exemptionFor(cpuLimits, object, {}, NOW), null);
});

test("an annotation without a reason does not exempt, and says why", (t) => {
  const object = workload({ [EXEMPT_ANNOTATION]: "privileged-container" });
  t.deepEqual(exemptionFor(privileged, object, {}, NOW), {
    exempt: false,
    reason: "annotation kube-policy.io/exempt ignored: kube-policy.io/exempt-reason is missing",
  });
  const blank = workload({ [EXEMPT_ANNOTATION]: "privileged-container", [EXEMPT_REASON_ANNOTATION]: "   " });
  t.deepEqual(exemptionFor(privileged, blank, {}, NOW), {
    exempt: false,
    reason: "annotation kube-policy.io/exempt ignored: kube-policy.io/exempt-reason is missing",
  });
});

test("an annotation exemption past its exempt-until date does not exempt", (t) => {
  const annotations = { [EXEMPT_ANNOTATION]: "privileged-container", [EXEMPT_REASON_ANNOTATION]: "migration" };
  t.deepEqual(exemptionFor(privileged, workload({ ...annotations, [EXEMPT_UNTIL_ANNOTATION]: "2025-06-14" }), {}, NOW), {
    exempt: false,
    reason: "exemption by annotation expired on 2025-06-14 (migration)",
  });
  // The named day is the last day it applies (UTC).
  t.deepEqual(exemptionFor(privileged, workload({ ...annotations, [EXEMPT_UNTIL_ANNOTATION]: "2025-06-15" }), {}, NOW), {
    exempt: true,
    reason: "exempt by annotation: migration (until 2025-06-15)",
  });
  t.deepEqual(exemptionFor(privileged, workload({ ...annotations, [EXEMPT_UNTIL_ANNOTATION]: "2026-01-01" }), {}, NOW), {
    exempt: true,
    reason: "exempt by annotation: migration (until 2026-01-01)",
  });
  // A date that does not parse counts as expired.
  t.deepEqual(exemptionFor(privileged, workload({ ...annotations, [EXEMPT_UNTIL_ANNOTATION]: "someday" }), {}, NOW), {
    exempt: false,
    reason: "exemption by annotation expired on someday (migration)",
  });
  // So does a day that does not exist (Date would roll 2026-02-30 over to March 2), and a date with a time.
  for (const until of ["2026-02-30", "2026-13-01", "2026-01-01T00:00:00Z"]) {
    t.deepEqual(exemptionFor(privileged, workload({ ...annotations, [EXEMPT_UNTIL_ANNOTATION]: until }), {}, NOW), {
      exempt: false,
      reason: `exemption by annotation expired on ${until} (migration)`,
    });
  }
});

test('an annotation "*" exempts every rule', (t) => {
  const object = workload({ [EXEMPT_ANNOTATION]: "*", [EXEMPT_REASON_ANNOTATION]: "vendor chart" });
  for (const r of [privileged, hostPid, cpuLimits, imageDigest]) {
    t.deepEqual(exemptionFor(r, object, {}, NOW), { exempt: true, reason: "exempt by annotation: vendor chart" }, r.id);
  }
});

test("an annotation naming another rule leaves the configuration's exemptions in charge", (t) => {
  const object = workload({ [EXEMPT_ANNOTATION]: "host-pid", [EXEMPT_REASON_ANNOTATION]: "needs host pid" });
  const config: PolicyConfig = { exemptions: [{ rules: ["privileged-container"], reason: "accepted risk" }] };
  t.deepEqual(exemptionFor(privileged, object, config, NOW), { exempt: true, reason: "exempt by configuration: accepted risk" });
  // The annotation wins for the rule it names.
  t.deepEqual(exemptionFor(hostPid, object, { exemptions: [{ rules: ["*"], reason: "all" }] }, NOW), {
    exempt: true,
    reason: "exempt by annotation: needs host pid",
  });
});

// ---------------------------------------------------------------- exemptionFor: configuration

test("a configuration exemption matches by rule id or *", (t) => {
  const config: PolicyConfig = { exemptions: [{ rules: ["host-pid"], reason: "monitoring agent" }] };
  t.deepEqual(exemptionFor(hostPid, workload(), config, NOW), { exempt: true, reason: "exempt by configuration: monitoring agent" });
  t.is(exemptionFor(privileged, workload(), config, NOW), null);
  t.deepEqual(exemptionFor(privileged, workload(), { exemptions: [{ rules: ["*"], reason: "sandbox" }] }, NOW), {
    exempt: true,
    reason: "exempt by configuration: sandbox",
  });
  t.is(exemptionFor(privileged, workload(), {}, NOW), null);
});

test("a configuration exemption's namespace is a glob; no namespace means default", (t) => {
  const config: PolicyConfig = { exemptions: [{ rules: ["privileged-container"], namespace: "kube-*", reason: "system" }] };
  t.deepEqual(exemptionFor(privileged, workload(undefined, { namespace: "kube-system" }), config, NOW), {
    exempt: true,
    reason: "exempt by configuration: system",
  });
  t.is(exemptionFor(privileged, workload(undefined, { namespace: "shop" }), config, NOW), null);
  t.is(exemptionFor(privileged, workload(undefined, { namespace: "my-kube-system" }), config, NOW), null);
  const byDefault: PolicyConfig = { exemptions: [{ rules: ["privileged-container"], namespace: "default", reason: "lab" }] };
  t.deepEqual(exemptionFor(privileged, workload(undefined, { namespace: null }), byDefault, NOW), {
    exempt: true,
    reason: "exempt by configuration: lab",
  });
});

test("a configuration exemption's name is a glob on the workload name", (t) => {
  const config: PolicyConfig = { exemptions: [{ rules: ["privileged-container"], name: "node-exporter-?", reason: "metrics" }] };
  t.deepEqual(exemptionFor(privileged, workload(undefined, { name: "node-exporter-a" }), config, NOW), {
    exempt: true,
    reason: "exempt by configuration: metrics",
  });
  t.is(exemptionFor(privileged, workload(undefined, { name: "node-exporter-ab" }), config, NOW), null);
  t.is(exemptionFor(privileged, workload(undefined, { name: "node-exporter" }), config, NOW), null);
  const star: PolicyConfig = { exemptions: [{ rules: ["privileged-container"], name: "*-agent", reason: "agents" }] };
  t.deepEqual(exemptionFor(privileged, workload(undefined, { name: "falco-agent" }), star, NOW), {
    exempt: true,
    reason: "exempt by configuration: agents",
  });
  t.is(exemptionFor(privileged, workload(undefined, { name: "falco-agent-2" }), star, NOW), null);
});

test("a configuration exemption's kind must equal the object's kind", (t) => {
  const config: PolicyConfig = { exemptions: [{ rules: ["privileged-container"], kind: "DaemonSet", reason: "node agents" }] };
  t.deepEqual(exemptionFor(privileged, workload(undefined, { kind: "DaemonSet" }), config, NOW), {
    exempt: true,
    reason: "exempt by configuration: node agents",
  });
  t.is(exemptionFor(privileged, workload(undefined, { kind: "Deployment" }), config, NOW), null);
  t.is(exemptionFor(privileged, workload(undefined, { kind: "daemonset" }), config, NOW), null);
});

test("a configuration exemption applies through its expiry day and not after", (t) => {
  const exemption = (expires: string): PolicyConfig => ({
    exemptions: [{ rules: ["privileged-container"], reason: "until the upgrade", expires }],
  });
  t.deepEqual(exemptionFor(privileged, workload(), exemption("2025-06-14"), NOW), {
    exempt: false,
    reason: "exemption expired on 2025-06-14 (until the upgrade)",
  });
  t.deepEqual(exemptionFor(privileged, workload(), exemption("2025-06-15"), NOW), {
    exempt: true,
    reason: "exempt by configuration: until the upgrade (until 2025-06-15)",
  });
  t.deepEqual(exemptionFor(privileged, workload(), exemption("2025-12-31"), NOW), {
    exempt: true,
    reason: "exempt by configuration: until the upgrade (until 2025-12-31)",
  });
  // The same exemption a day later (fixed clocks, no real time involved).
  t.deepEqual(exemptionFor(privileged, workload(), exemption("2025-06-15"), new Date("2025-06-16T00:00:00Z")), {
    exempt: false,
    reason: "exemption expired on 2025-06-15 (until the upgrade)",
  });
});

test("an expired configuration exemption does not hide a later one that applies", (t) => {
  const config: PolicyConfig = {
    exemptions: [
      { rules: ["privileged-container"], reason: "old", expires: "2024-01-01" },
      { rules: ["*"], namespace: "shop", reason: "shop is a sandbox" },
    ],
  };
  t.deepEqual(exemptionFor(privileged, workload(), config, NOW), { exempt: true, reason: "exempt by configuration: shop is a sandbox" });
  // With only expired ones, the last expired note is what is said.
  const onlyExpired: PolicyConfig = {
    exemptions: [
      { rules: ["privileged-container"], reason: "first", expires: "2024-01-01" },
      { rules: ["*"], reason: "second", expires: "2025-01-01" },
    ],
  };
  t.deepEqual(exemptionFor(privileged, workload(), onlyExpired, NOW), { exempt: false, reason: "exemption expired on 2025-01-01 (second)" });
});

// ---------------------------------------------------------------- namespaces

test("globMatch: * is any run, ? is one character, everything else is literal", (t) => {
  t.is(globMatch("kube-*", "kube-system"), true);
  t.is(globMatch("kube-*", "kube-"), true);
  t.is(globMatch("kube-*", "kubex-system"), false);
  t.is(globMatch("team-?", "team-a"), true);
  t.is(globMatch("team-?", "team-ab"), false);
  t.is(globMatch("a.b", "a.b"), true);
  t.is(globMatch("a.b", "axb"), false);
  t.is(globMatch("(x)+", "(x)+"), true);
  t.is(globMatch("*", ""), true);
  t.is(globMatch("shop", "shop-staging"), false);
});

test("namespaceExcluded matches the excluded globs", (t) => {
  const config: PolicyConfig = { excludedNamespaces: ["kube-*", "cert-manager", "*-sandbox"] };
  t.is(namespaceExcluded("kube-system", config), true);
  t.is(namespaceExcluded("kube-public", config), true);
  t.is(namespaceExcluded("cert-manager", config), true);
  t.is(namespaceExcluded("cert-manager-2", config), false);
  t.is(namespaceExcluded("team-sandbox", config), true);
  t.is(namespaceExcluded("shop", config), false);
  t.is(namespaceExcluded("kube-system", {}), false);
});

test("namespaceAllowed: everything by default, only allowed ones with allow, never denied ones", (t) => {
  t.is(namespaceAllowed("anything", {}), true);
  t.is(namespaceAllowed("anything", { namespaces: { allow: [] } }), true);
  const allow: PolicyConfig = { namespaces: { allow: ["team-*", "shop"] } };
  t.is(namespaceAllowed("team-a", allow), true);
  t.is(namespaceAllowed("shop", allow), true);
  t.is(namespaceAllowed("kube-system", allow), false);
  const deny: PolicyConfig = { namespaces: { deny: ["kube-*"] } };
  t.is(namespaceAllowed("kube-system", deny), false);
  t.is(namespaceAllowed("shop", deny), true);
  // deny wins over allow.
  const both: PolicyConfig = { namespaces: { allow: ["team-*"], deny: ["team-secret"] } };
  t.is(namespaceAllowed("team-a", both), true);
  t.is(namespaceAllowed("team-secret", both), false);
  t.is(namespaceAllowed("shop", both), false);
});

test("a rule defined with enabled: false stays off unless an override turns it on", (t) => {
  const off = { ...rule("custom-off"), enabledByDefault: false };
  t.is(ruleEnforcement(off, {}), "disabled");
  t.is(ruleEnforcement(off, { ruleOverrides: { "custom-off": { enabled: true } } }), "strict");
  t.is(ruleEnforcement(off, { global: { enforcement: "advisory" }, ruleOverrides: { "custom-off": { enabled: true } } }), "advisory");
});
