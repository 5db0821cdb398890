// Covers how custom rules that cannot be compiled are rejected (docs/CUSTOM_RULES.md, "Errors"): each
// problem names the file, the rule id and the condition index (PolicyCompileError details `where` and
// `message`); several problems are listed at once; schema errors come with their JSON path; hand-written
// Rego with a syntax or compile error is named by file and line; and a rejected rule set compiles
// nothing (no bundle appears in the cache). Real components: the configuration loader, the rule checks,
// the real OPA CLI for the hand-written Rego; fixtures under test/fixtures/custom/errors. The cache is
// a temporary directory per test.
import test from "ava";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { CustomRuleJson } from "../../../src/config/types.js";
import { AppError, ConfigError, PolicyCompileError } from "../../../src/errors.js";
import { PolicyBundle } from "../../../src/policy/bundle.js";
import { compileCustomRules, loadCustomRules } from "../../../src/policy/custom/compile.js";
import { PolicyEvaluator } from "../../../src/policy/evaluator.js";
import { loadPolicySetup } from "../../../src/policy/setup.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const FIXTURES = path.join(ROOT, "test/fixtures/custom/errors");
const builtIn = await PolicyBundle.load();

const temps: string[] = [];
const tempCache = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "kube-policy-test-errors-"));
  temps.push(dir);
  return dir;
};
test.after.always(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

const cond = (field: string, operator: string, value?: unknown) => ({ field, operator, ...(value === undefined ? {} : { value }) });
const rule = (id: string, conditions: ReturnType<typeof cond>[]): CustomRuleJson => ({
  id,
  severity: "medium",
  category: "security",
  conditions,
  actions: [{ type: "deny", message: `${id} failed` }],
});

/** The details of the PolicyCompileError that loading these rules (from file "org.json") throws. */
async function problems(rules: CustomRuleJson[]) {
  const error = await loadCustomRules({ customRules: rules }, "org.json", builtIn).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof PolicyCompileError)) throw new Error(`expected a PolicyCompileError, got ${String(error)}`);
  return error.details;
}

// ---- one problem at a time: where (file#id, condition index) and what ----

test("an invalid regular expression is named with file, rule id and condition index", async (t) => {
  t.deepEqual(await problems([rule("registry", [cond("metadata.name", "exists"), cond("spec.template.spec.containers[*].image", "regex_match", "^(team-[a-z")])]), [
    { where: "org.json#registry conditions[1].value", message: 'invalid regular expression "^(team-[a-z": /^(team-[a-z/: Unterminated character class' },
  ]);
});

test("lookahead and lookbehind, which RE2 refuses, are rejected though JavaScript accepts them", async (t) => {
  for (const pattern of ["^(?!docker\\.io/)", "(?<=registry\\.)example", "(?<!internal\\.)example\\.com$", "^registry(?=\\.)"]) {
    t.notThrows(() => new RegExp(pattern, "u"), pattern);
    t.deepEqual(await problems([rule("registry", [cond("spec.template.spec.containers[*].image", "regex_match", pattern)])]), [
      {
        where: "org.json#registry conditions[0].value",
        message: `invalid regular expression ${JSON.stringify(pattern)}: lookahead and lookbehind are not supported by OPA's regular expressions (RE2)`,
      },
    ], pattern);
  }
});

test("backreferences, which RE2 refuses, are rejected", async (t) => {
  t.deepEqual(await problems([rule("repeat", [cond("metadata.name", "regex_match", "^(a)\\1$")])]), [
    { where: "org.json#repeat conditions[0].value", message: 'invalid regular expression "^(a)\\\\1$": backreferences are not supported by OPA\'s regular expressions (RE2)' },
  ]);
});

test("a named backreference (\\k<name>), which RE2 refuses, is rejected like a numbered one", async (t) => {
  // Accepted today: the rule compiles, regex.match fails at run time, and the rule flags every object.
  const error = await loadCustomRules({ customRules: [rule("repeat", [cond("metadata.name", "regex_match", "^(?<n>a)\\k<n>$")])] }, "org.json", builtIn).then(
    () => null,
    (e: unknown) => e,
  );
  t.true(error instanceof PolicyCompileError, "the rule is rejected");
  const details = error instanceof PolicyCompileError ? error.details : [];
  t.deepEqual(details.map((d) => d.where), ["org.json#repeat conditions[0].value"]);
  t.true(details[0]?.message.startsWith('invalid regular expression "^(?<n>a)\\\\k<n>$": '), details[0]?.message);
});

test("RE2 syntax that JavaScript's unicode mode lacks ((?i), \\-, \\pL, (?P<name>), [[:alpha:]]) is accepted and matches as OPA does", async (t) => {
  const rules = [
    rule("re2-flags", [cond("spec.template.spec.containers[*].image", "regex_match", "(?i)^registry\\.example\\.com/")]),
    rule("re2-escaped-dash", [cond("metadata.labels.region", "regex_match", "^eu\\-(west|central)$")]),
    rule("re2-unicode-class", [cond("metadata.labels.team", "regex_match", "^\\pL+$")]),
    rule("re2-named-group", [cond("metadata.name", "regex_match", "^(?P<team>[a-z]+)-svc$")]),
    rule("re2-posix-class", [cond("metadata.labels.tier", "regex_match", "^[[:alpha:]]+$")]),
  ];
  const loaded = await loadCustomRules({ customRules: rules }, "org.json", builtIn).then(
    (set) => ({ set, error: null }),
    (error: AppError) => ({ set: null, error }),
  );
  t.is(loaded.error?.describe() ?? null, null, "the rules load");
  if (!loaded.set) return;
  const evaluator = new PolicyEvaluator((await compileCustomRules(loaded.set, { cacheDir: tempCache() })).bundle, {});
  const fired = (metadata: Record<string, unknown>, image: string) =>
    evaluator
      .evaluate({ object: { apiVersion: "apps/v1", kind: "Deployment", metadata: { namespace: "shop", ...metadata }, spec: { template: { spec: { containers: [{ name: "a", image }] } } } }, context: {} })
      .findings.filter((f) => f.ruleId.startsWith("re2-"))
      .map((f) => f.ruleId)
      .sort();
  t.deepEqual(fired({ name: "pay-svc", labels: { team: "Zahlungen", tier: "web", region: "eu-west" } }, "REGISTRY.example.com/pay:1"), []);
  t.deepEqual(fired({ name: "pay-api", labels: { team: "pay2", tier: "web-1", region: "eu_west" } }, "docker.io/pay:1"), [
    "re2-escaped-dash",
    "re2-flags",
    "re2-named-group",
    "re2-posix-class",
    "re2-unicode-class",
  ]);
});

test("an unknown operator is named with the operators there are", async (t) => {
  t.deepEqual(await problems([rule("team", [cond("metadata.labels.team", "exists"), cond("metadata.labels.team", "starts_with", "team-")])]), [
    {
      where: "org.json#team conditions[1].operator",
      message: 'unknown operator "starts_with" (one of equals, not_equals, contains, not_contains, greater_than, less_than, regex_match, exists, not_exists, in, not_in)',
    },
  ]);
});

test("a duplicate id is named where it is defined again", async (t) => {
  t.deepEqual(await problems([rule("team", [cond("metadata.labels.team", "exists")]), rule("owner", [cond("metadata.labels.owner", "exists")]), rule("team", [cond("metadata.labels.tier", "exists")])]), [
    { where: "org.json#team", message: "duplicate rule id team (also defined at org.json /customRules/0)" },
  ]);
});

test("an id that shadows a built-in rule is rejected", async (t) => {
  for (const id of ["privileged-container", "network-policy", "encrypted-volumes"]) {
    t.true(builtIn.byId.has(id), id);
    t.deepEqual(await problems([rule(id, [cond("metadata.name", "exists")])]), [{ where: `org.json#${id}`, message: `rule id ${id} shadows the built-in rule of the same id` }]);
  }
});

test("a quantity that does not parse is rejected for greater_than and less_than", async (t) => {
  for (const [operator, value] of [["less_than", "2 Gi"], ["less_than", "two gigs"], ["greater_than", "1.5.0"], ["greater_than", "Gi"], ["less_than", true]] as const) {
    t.deepEqual(await problems([rule("memory", [cond("spec.template.spec.containers[*].resources.limits.memory", operator, value)])]), [
      { where: "org.json#memory conditions[0].value", message: `${JSON.stringify(value)} is not a number or a Kubernetes quantity (e.g. 2Gi, 500m, 1e3)` },
    ], `${operator} ${String(value)}`);
  }
});

test("an empty condition list is rejected", async (t) => {
  t.deepEqual(await problems([rule("nothing", [])]), [{ where: "org.json#nothing conditions", message: "a rule needs at least one condition (what a compliant object satisfies)" }]);
});

test("a field path that does not parse is named with the character where it fails", async (t) => {
  const cases: [string, string][] = [
    ["metadata.labels[app.kubernetes.io/name]", 'field path "metadata.labels[app.kubernetes.io/name]": [app.kubernetes.io/name] must be [*], an index or a quoted key at character 16'],
    ["metadata..name", 'field path "metadata..name": has an empty segment at character 10'],
    ["spec.containers[*", 'field path "spec.containers[*": unclosed [ at character 16'],
    ["metadata.labels.a b", 'field path "metadata.labels.a b": segment "a b" needs brackets and quotes (e.g. ["a b"]) at character 17'],
    ["metadata.", 'field path "metadata.": ends with a dot at character 10'],
    ["facts", 'field path "facts": name a fact after facts.'],
    ["", 'field path "": is empty at character 1'],
  ];
  for (const [field, message] of cases) {
    t.deepEqual(await problems([rule("path", [cond("metadata.name", "exists"), cond(field, "exists")])]), [{ where: "org.json#path conditions[1].field", message }], field);
  }
});

test("match conditions are checked like conditions and named match.conditions[i]", async (t) => {
  const bad: CustomRuleJson = { ...rule("scoped", [cond("metadata.name", "exists")]), match: { conditions: [cond("metadata.labels.pci-scope", "is", "true")] } };
  t.deepEqual(await problems([bad]), [
    {
      where: "org.json#scoped match.conditions[0].operator",
      message: 'unknown operator "is" (one of equals, not_equals, contains, not_contains, greater_than, less_than, regex_match, exists, not_exists, in, not_in)',
    },
  ]);
});

// ---- several at once, from a file; nothing half-loaded ----

test("several problems in a file are all listed, each with file, rule id and condition index; nothing is compiled", async (t) => {
  const cacheDir = tempCache();
  const file = path.join(FIXTURES, "problems.json");
  const error = await t.throwsAsync(loadPolicySetup(file, { cacheDir }), { instanceOf: PolicyCompileError });
  t.is(error?.message, "8 problem(s) in custom rules");
  t.deepEqual(error?.details, [
    {
      where: `${file}#bad-regex conditions[1].value`,
      message: 'invalid regular expression "^registry\\\\.example\\\\.com/([a-z": /^registry\\.example\\.com/([a-z/: Unterminated character class',
    },
    {
      where: `${file}#lookahead conditions[0].value`,
      message: 'invalid regular expression "^(?!docker\\\\.io/)": lookahead and lookbehind are not supported by OPA\'s regular expressions (RE2)',
    },
    {
      where: `${file}#unknown-operator conditions[0].operator`,
      message: 'unknown operator "matches" (one of equals, not_equals, contains, not_contains, greater_than, less_than, regex_match, exists, not_exists, in, not_in)',
    },
    { where: `${file}#twice`, message: `duplicate rule id twice (also defined at ${file} /customRules/4)` },
    { where: `${file}#privileged-container`, message: "rule id privileged-container shadows the built-in rule of the same id" },
    { where: `${file}#bad-quantity conditions[1].value`, message: '"two gigs" is not a number or a Kubernetes quantity (e.g. 2Gi, 500m, 1e3)' },
    { where: `${file}#no-conditions conditions`, message: "a rule needs at least one condition (what a compliant object satisfies)" },
    {
      where: `${file}#bad-path conditions[2].field`,
      message: 'field path "metadata.labels[app.kubernetes.io/name]": [app.kubernetes.io/name] must be [*], an index or a quoted key at character 16',
    },
  ]);
  // The valid rule beside them was not compiled either: the cache holds nothing.
  t.deepEqual(readdirSync(cacheDir), []);
  // describe() is what the CLI prints: one line per problem.
  t.is(error?.describe().split("\n").length, 9);
});

test("schema errors are reported with the JSON path of the rule and the reason", async (t) => {
  const cacheDir = tempCache();
  const file = path.join(FIXTURES, "schema.json");
  const error = await t.throwsAsync(loadPolicySetup(file, { cacheDir }), { instanceOf: ConfigError });
  t.is(error?.message, `invalid policy configuration ${file}: 2 problem(s)`);
  t.deepEqual(error?.details, [
    { where: "/customRules/0", message: "must have required property 'actions'" },
    { where: "/customRules/0", message: 'unknown field "when"' },
  ]);
  t.deepEqual(readdirSync(cacheDir), []);
});

// ---- hand-written Rego ----

test("a hand-written .rego file that does not compile is named by file and line; the cache stays empty", async (t) => {
  const cacheDir = tempCache();
  const error = await t.throwsAsync(loadPolicySetup(path.join(FIXTURES, "rego-compile/config.json"), { cacheDir }), { instanceOf: PolicyCompileError });
  t.is(error?.message, "opa check failed for custom rules");
  t.deepEqual(error?.details, [{ where: path.join(FIXTURES, "rego-compile/rules/team_label.rego:13"), message: "rego_unsafe_var_error: var msg is unsafe" }]);
  t.deepEqual(readdirSync(cacheDir), [], "no bundle and no build directory left behind");
});

test("a hand-written .rego file with a syntax error is named by file and line", async (t) => {
  const cacheDir = tempCache();
  const file = path.join(FIXTURES, "rego-syntax/rules/team_label.rego");
  const error = await t.throwsAsync(loadPolicySetup(path.join(FIXTURES, "rego-syntax/config.json"), { cacheDir }), { instanceOf: PolicyCompileError });
  t.is(error?.message, "opa check failed for custom rules");
  t.deepEqual(readdirSync(cacheDir), [], "no bundle and no build directory left behind");
  t.true(error!.describe().includes(`${file}:17`), error!.describe());
  // The location is the detail's `where`, as for every other compile error.
  t.deepEqual(
    error?.details.filter((d) => d.where !== undefined),
    [{ where: `${file}:17`, message: 'rego_parse_error: unexpected } token: expected "," or "]"' }],
    JSON.stringify(error?.details),
  );
});

test("a hand-written rule cannot take the id of a built-in or of a JSON rule; both are listed with their files", async (t) => {
  const cacheDir = tempCache();
  const dir = path.join(FIXTURES, "rego-duplicate");
  const error = await t.throwsAsync(loadPolicySetup(path.join(dir, "config.json"), { cacheDir }), { instanceOf: PolicyCompileError });
  t.is(error?.message, "duplicate rule ids");
  t.deepEqual(readdirSync(cacheDir), []);
  t.is(error?.details.length, 2);
  const [privileged, team] = [...(error?.details ?? [])].sort((a, b) => (a.where ?? "").localeCompare(b.where ?? ""));
  t.deepEqual(privileged, {
    where: `${path.join(dir, "rules/privileged.rego")} (privileged-container)`,
    message: "rule id privileged-container shadows the built-in rule of the same id (rego/security/privileged_container.rego)",
  });
  t.is(team?.where, `${path.join(dir, "rules/team_label.rego")} (org-team-label)`);
  // The other definition is the JSON rule of config.json, named as the user wrote it (file#id).
  t.is(team?.message, `rule id org-team-label is already defined in ${path.join(dir, "config.json")}#org-team-label`);
});
