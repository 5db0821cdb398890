// Covers the command line with custom rules, run as subprocesses: `rules` lists them with their category
// and source "custom"; `eval` reports their findings exactly like the built-in ones; `compile` prints the
// generated Rego, headed by its origin and opa fmt-clean; `test` runs opa test over the library and the
// hand-written rules with their _test.rego (exit 0), and fails on a failing test; a configuration whose
// rules do not compile exits 2 listing every problem. Real components: the compiled CLI (built once by
// `npm run build` in test.before), the real OPA CLI, fixtures under test/fixtures/custom/cli (JSON rules,
// a hand-written rule with its tests, manifests). The bundle cache is a temporary XDG_CACHE_HOME.
import test from "ava";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { runCli, type CliRun as Run } from "../../helpers/cli.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const OPA = path.join(ROOT, ".tools/bin/opa");
const CONFIG = "test/fixtures/custom/cli/config.json";
const MANIFESTS = "test/fixtures/custom/cli/manifests";
const RULES_DIR = path.join(ROOT, "test/fixtures/custom/cli/rules");
const work = mkdtempSync(path.join(os.tmpdir(), "kube-policy-test-cli-"));

const cli = (args: string[]): Promise<Run> =>
  runCli(args, { env: { XDG_CACHE_HOME: path.join(work, "cache") } });

const json = <T>(run: Run): T => {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`no JSON on stdout (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
};

interface Finding {
  ruleId: string;
  title: string;
  severity: string;
  category: string;
  frameworks: Record<string, string[]>;
  message: string;
  path: string;
  pointer: string;
  resource: { apiVersion: string; kind: string; namespace: string | null; name: string };
  fix: { patch: unknown[]; risk: string } | null;
  autoFixable: boolean;
  remediation: string;
  outcome: string;
}
interface Report {
  passed: boolean;
  violations: Finding[];
  warnings: Finding[];
  notEvaluated: Finding[];
  exempt: Finding[];
  workloads: { resource: Finding["resource"]; passed: boolean }[];
}

let compiled: Run;

test.before("build the CLI, then compile the fixture's rules once (the other commands load them from the cache)", async () => {
  await promisify(execFile)("npm", ["run", "build", "--silent"], { cwd: ROOT });
  compiled = await cli(["compile", "--config", CONFIG]);
});

test.after.always(() => rmSync(work, { recursive: true, force: true }));

const CUSTOM_IDS = ["org-contact", "org-registry", "org-team-label"];

test("rules --format json lists the custom rules with their category and source custom, beside the built-in ones", async (t) => {
  const run = await cli(["rules", "--config", CONFIG, "--format", "json"]);
  t.is(run.code, 0, run.stderr);
  const { rules } = json<{ rules: Record<string, unknown>[] }>(run);
  const custom = rules.filter((r) => r.source === "custom").sort((a, b) => String(a.id).localeCompare(String(b.id)));
  t.deepEqual(custom, [
    {
      id: "org-contact",
      title: "Contact annotation",
      description: "Workloads name who to contact about them in the annotation example.com/contact.",
      category: "operations",
      severity: "medium",
      frameworks: { SOC2: ["CC2.2"] },
      remediation: "Add the annotation example.com/contact (a team mailing list) to the workload's metadata.",
      fixRisk: null,
      action: "deny",
      source: "custom",
      enabledByDefault: true,
      package: "kubepolicy.custom.contact_annotation",
      file: path.join(RULES_DIR, "contact_annotation.rego"),
      enabled: true,
      enforcement: "strict",
      effectiveSeverity: "medium",
      fixAvailable: false,
    },
    {
      id: "org-registry",
      title: "Images from the organisation registry",
      description: "Every container image of a Deployment comes from registry.example.com.",
      category: "compliance",
      severity: "high",
      frameworks: { SOC2: ["CC8.1"] },
      remediation: "Push the image to registry.example.com and reference it from there.",
      fixRisk: null,
      action: "deny",
      source: "custom",
      enabledByDefault: true,
      package: "kubepolicy.custom.org_registry",
      file: `${CONFIG}#org-registry`,
      enabled: true,
      enforcement: "strict",
      effectiveSeverity: "high",
      fixAvailable: false,
    },
    {
      id: "org-team-label",
      title: "Team label",
      description: "Workloads name the team that owns them in the label team.",
      category: "operations",
      severity: "low",
      frameworks: {},
      remediation: "Workloads name their team in the label team",
      fixRisk: "low",
      action: "warn",
      source: "custom",
      enabledByDefault: true,
      package: "kubepolicy.custom.org_team_label",
      file: `${CONFIG}#org-team-label`,
      enabled: true,
      enforcement: "strict",
      effectiveSeverity: "low",
      fixAvailable: true,
    },
  ]);
  const builtIn = rules.filter((r) => r.source === "built-in");
  t.true(builtIn.length >= 53);
  t.is(rules.length, builtIn.length + 3);
  // Custom entries have exactly the fields of built-in ones.
  t.deepEqual(Object.keys(custom[0]!).sort(), Object.keys(builtIn[0]!).sort());
});

test("rules --category keeps custom rules of that category; the text table shows them", async (t) => {
  const run = await cli(["rules", "--config", CONFIG, "--category", "compliance", "--format", "json"]);
  t.is(run.code, 0, run.stderr);
  const { rules } = json<{ rules: { id: string; source: string; category: string }[] }>(run);
  t.deepEqual(rules.filter((r) => r.source === "custom").map((r) => r.id), ["org-registry"]);
  t.true(rules.every((r) => r.category === "compliance"));
  const text = await cli(["rules", "--config", CONFIG]);
  t.is(text.code, 0, text.stderr);
  const line = text.stdout.split("\n").find((l) => l.startsWith("org-registry "));
  t.regex(line ?? "", /^org-registry +compliance +high +strict +- +SOC2$/);
  t.regex(text.stdout.split("\n").find((l) => l.startsWith("org-team-label ")) ?? "", /^org-team-label +operations +low +strict +low +$/);
});

test("ruleOverrides and exemptions may name a rule of customRulesDir, like any other rule", async (t) => {
  // override.json turns the hand-written org-contact off and exempts it in legacy-* namespaces.
  const run = await cli(["rules", "--config", "test/fixtures/custom/cli/override.json", "--format", "json"]);
  t.is(run.code, 0, run.stderr);
  const { rules } = json<{ rules: { id: string; source: string; enabled: boolean }[] }>(run);
  t.deepEqual(rules.filter((r) => r.source === "custom").map((r) => [r.id, r.enabled]), [["org-contact", false]]);
});

test("eval shows custom findings like built-in ones: ruleId, severity, category, message, resource, autoFixable", async (t) => {
  const run = await cli(["eval", "-f", MANIFESTS, "--config", CONFIG, "--format", "json"]);
  t.is(run.code, 1, "strict violations exit 1");
  const report = json<Report>(run);
  t.deepEqual(report.workloads.map((w) => `${w.resource.kind} ${w.resource.name}`), ["Deployment storefront", "Deployment legacy", "StatefulSet ledger"]);
  const legacy = { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "legacy" };
  const custom = (list: Finding[]) => list.filter((f) => CUSTOM_IDS.includes(f.ruleId)).sort((a, b) => a.ruleId.localeCompare(b.ruleId));
  t.deepEqual(custom(report.violations), [
    {
      ruleId: "org-contact",
      title: "Contact annotation",
      severity: "medium",
      category: "operations",
      frameworks: { SOC2: ["CC2.2"] },
      message: 'Deployment "legacy" names no contact (annotation example.com/contact)',
      path: "metadata.annotations",
      pointer: "/metadata/annotations",
      resource: legacy,
      fix: null,
      autoFixable: false,
      remediation: "Add the annotation example.com/contact (a team mailing list) to the workload's metadata.",
      outcome: "violation",
    },
    {
      ruleId: "org-registry",
      title: "Images from the organisation registry",
      severity: "high",
      category: "compliance",
      frameworks: { SOC2: ["CC8.1"] },
      message: "Images must come from registry.example.com (spec.template.spec.containers[1].image must match ^registry\\.example\\.com/)",
      path: "spec.template.spec.containers[1].image",
      pointer: "/spec/template/spec/containers/1/image",
      resource: legacy,
      fix: null,
      autoFixable: false,
      remediation: "Push the image to registry.example.com and reference it from there.",
      outcome: "violation",
    },
  ]);
  t.deepEqual(custom(report.warnings), [
    {
      ruleId: "org-team-label",
      title: "Team label",
      severity: "low",
      category: "operations",
      frameworks: {},
      message: "Workloads name their team in the label team (metadata.labels.team must be set)",
      path: "metadata.labels.team",
      pointer: "/metadata/labels/team",
      resource: legacy,
      fix: { patch: [{ op: "add", path: "/metadata/labels/team", value: "unassigned" }], risk: "low" },
      autoFixable: true,
      remediation: "Workloads name their team in the label team",
      outcome: "warning",
    },
  ]);
  t.deepEqual(custom([...report.notEvaluated, ...report.exempt]), []);
  // Same shape as the built-in findings of the same report.
  const builtIn = report.violations.find((f) => !CUSTOM_IDS.includes(f.ruleId));
  t.truthy(builtIn);
  for (const f of [...custom(report.violations), ...custom(report.warnings)]) t.deepEqual(Object.keys(f).sort(), Object.keys(builtIn!).sort(), f.ruleId);
});

test("eval --format text lists custom findings like built-in ones and counts them in the workload's line", async (t) => {
  const text = await cli(["eval", "-f", MANIFESTS, "--config", CONFIG]);
  const json = await cli(["eval", "-f", MANIFESTS, "--config", CONFIG, "--format", "json"]);
  t.is(text.code, 1);
  const lines = text.stdout.split("\n");
  t.true(lines.includes("  ✗ [HIGH] org-registry: Images must come from registry.example.com (spec.template.spec.containers[1].image must match ^registry\\.example\\.com/)"), text.stdout);
  t.true(lines.includes('  ✗ [MEDIUM] org-contact: Deployment "legacy" names no contact (annotation example.com/contact)'), text.stdout);
  t.true(lines.includes("  ! [LOW] org-team-label: Workloads name their team in the label team (metadata.labels.team must be set)"), text.stdout);
  const report = JSON.parse(json.stdout) as Report;
  const legacy = (list: Finding[]) => list.filter((f) => f.resource.name === "legacy").length;
  const line = lines.find((l) => l.startsWith("FAIL Deployment shop/legacy "));
  t.truthy(line, text.stdout);
  t.true(line!.includes(`: ${legacy(report.violations)} violation(s), ${legacy(report.warnings)} warning(s)`), line);
  t.is(legacy(report.warnings), 1, "the warn rule is counted as a warning");
});

test("compile prints each generated module headed by its origin, opa fmt-clean and accepted by opa check", (t) => {
  t.is(compiled.code, 0, compiled.stderr);
  const modules = compiled.stdout.split(/(?=^# Generated from )/m).map((m) => `${m.trimEnd()}\n`);
  t.deepEqual(
    modules.map((m) => m.split("\n")[0]),
    [`# Generated from ${CONFIG}#org-registry; do not edit.`, `# Generated from ${CONFIG}#org-team-label; do not edit.`],
  );
  t.true(modules[0]!.includes("\npackage kubepolicy.custom.org_registry\n"));
  t.true(modules[1]!.includes("\npackage kubepolicy.custom.org_team_label\n"));
  t.true(modules.every((m) => m.includes("\n# METADATA\n")));
  const dir = path.join(work, "printed");
  mkdirSync(dir);
  modules.forEach((m, i) => writeFileSync(path.join(dir, `module_${i}.rego`), m));
  return promisify(execFile)(OPA, ["fmt", "--list", dir], { encoding: "utf8" }).then(async ({ stdout }) => {
    t.is(stdout, "", "no module needs formatting");
    await t.notThrowsAsync(promisify(execFile)(OPA, ["check", "--strict", path.join(ROOT, "rego"), dir]));
  });
});

test("compile reports on stderr how many custom rules were compiled, and a second run comes from the cache", async (t) => {
  t.regex(compiled.stderr, /^kube-policy: 3 custom rule\(s\) compiled with the \d+ built-in ones \(bundle [0-9a-f]{24}\)\n$/);
  const again = await cli(["compile", "--config", CONFIG]);
  t.is(again.code, 0);
  t.is(again.stdout, compiled.stdout);
  t.regex(again.stderr, /^kube-policy: 3 custom rule\(s\) compiled with the \d+ built-in ones \(bundle [0-9a-f]{24}, from cache\)\n$/);
});

test("test runs opa test over the library and the hand-written rules with their tests: all pass, exit 0", async (t) => {
  const run = await cli(["test", "--config", CONFIG, "--verbose"]);
  t.is(run.code, 0, run.stdout + run.stderr);
  t.true(run.stdout.includes("data.kubepolicy.custom.contact_annotation_test.test_fires_without_contact: PASS"), run.stdout);
  t.true(run.stdout.includes("data.kubepolicy.custom.contact_annotation_test.test_passes_with_contact: PASS"), run.stdout);
  const summary = /^PASS: (\d+)\/(\d+)$/m.exec(run.stdout);
  t.truthy(summary, run.stdout);
  t.is(summary![1], summary![2]);
});

test("test exits non-zero when a hand-written test fails, and names it", async (t) => {
  const run = await cli(["test", "--config", "test/fixtures/custom/cli-failing-test/config.json"]);
  t.not(run.code, 0);
  t.true(run.stdout.includes("data.kubepolicy.custom.contact_annotation_test.test_passes_without_contact: FAIL"), run.stdout);
  t.regex(run.stdout, /^FAIL: 1\/\d+$/m);
});

test("a configuration whose custom rules do not compile exits 2 and lists every problem, without a stack trace", async (t) => {
  const file = "test/fixtures/custom/errors/problems.json";
  const run = await cli(["eval", "-f", MANIFESTS, "--config", file, "--format", "json"]);
  t.is(run.code, 2);
  t.is(run.stdout, "");
  const lines = run.stderr.trimEnd().split("\n");
  t.is(lines[0], "kube-policy: 8 problem(s) in custom rules");
  t.deepEqual(
    lines.slice(1).map((l) => l.split(": ")[0]),
    [
      `  - ${file}#bad-regex conditions[1].value`,
      `  - ${file}#lookahead conditions[0].value`,
      `  - ${file}#unknown-operator conditions[0].operator`,
      `  - ${file}#twice`,
      `  - ${file}#privileged-container`,
      `  - ${file}#bad-quantity conditions[1].value`,
      `  - ${file}#no-conditions conditions`,
      `  - ${file}#bad-path conditions[2].field`,
    ],
  );
  t.false(run.stderr.includes("    at "), run.stderr);
});
