// Covers loading and validating the policy configuration (src/config/load.ts): the committed presets and
// the product document's examples load unchanged, defaults, every schema problem reported with its JSON
// path, the checks a schema cannot express (rule ids, quantities, request <= limit), syntax errors with
// file:line:col, and unreadable files.
// Real components: the committed config/policies/schema.json, the presets and examples, ajv, yaml.
// Stand-ins: small config files under test/fixtures/unit/config, and the committed wasm/catalogue.json
// as the set of known rule ids.
import test from "ava";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig, PRESETS, validateConfig } from "../../src/config/load.js";
import type { PolicyConfig } from "../../src/config/types.js";
import { ConfigError } from "../../src/errors.js";
import { CONFIG_DIR, WASM_DIR } from "../../src/paths.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/unit/config/", import.meta.url));
const fixture = (name: string) => path.join(FIXTURES, name);
const readJson = async (file: string) => JSON.parse(await readFile(file, "utf8")) as unknown;

const catalogue = (await readJson(path.join(WASM_DIR, "catalogue.json"))) as { id: string }[];
const knownRuleIds = new Set(catalogue.map((e) => e.id));

/** The ConfigError a promise rejects with (fails the test when it resolves or throws something else). */
async function configError(t: import("ava").ExecutionContext, promise: Promise<unknown>): Promise<ConfigError> {
  const error = await t.throwsAsync(promise, { instanceOf: ConfigError });
  return error!;
}

test("the presets are production, staging and development", (t) => {
  t.deepEqual([...PRESETS], ["production", "staging", "development"]);
});

for (const preset of ["production", "staging", "development"]) {
  test(`preset ${preset} validates unchanged against the schema and the known rule ids`, async (t) => {
    const file = path.join(CONFIG_DIR, "policies", `${preset}.json`);
    const loaded = await loadConfig(file, { knownRuleIds });
    t.deepEqual(loaded.config, await readJson(file));
    t.is(loaded.source, file);
  });
}

test('loadConfig("production") resolves the preset file', async (t) => {
  const loaded = await loadConfig("production");
  t.is(loaded.source, path.join(CONFIG_DIR, "policies", "production.json"));
  t.deepEqual(loaded.config, {
    organization: { name: "ACME Corporation", environment: "production", compliance: ["SOC2", "ISO27001"] },
    global: { enforcement: "strict", autoFix: false },
    categories: { security: { enabled: true, enforcement: "strict" }, compliance: { enabled: true, enforcement: "strict" } },
  });
});

test("loadConfig resolves staging and development presets too", async (t) => {
  t.is((await loadConfig("staging")).config.autoFixPolicy?.allowMediumRisk, false);
  t.is((await loadConfig("development")).config.categories?.compliance?.enabled, false);
});

for (const example of ["acme-approved-images", "healthcare-hipaa", "securebank-pci", "startup-development"]) {
  test(`product document example ${example}.json validates unchanged`, async (t) => {
    const file = path.join(CONFIG_DIR, "policies", "examples", `${example}.json`);
    const loaded = await loadConfig(file, { knownRuleIds });
    t.deepEqual(loaded.config, await readJson(file));
    t.is(loaded.source, file);
    t.is(loaded.config.customRules?.length, 1);
  });
}

test("an absent configuration gives the built-in defaults", async (t) => {
  t.deepEqual(await loadConfig(undefined), { config: {}, source: "(built-in default)" });
  t.deepEqual(await loadConfig(""), { config: {}, source: "(built-in default)" });
});

test("an empty configuration file gives the defaults", async (t) => {
  const file = fixture("empty.yaml");
  t.deepEqual(await loadConfig(file), { config: {}, source: file });
});

test("a YAML configuration file loads as the same structure", async (t) => {
  const file = fixture("valid.yaml");
  t.deepEqual(await loadConfig(file, { knownRuleIds }), {
    config: {
      organization: { name: "Example", environment: "staging" },
      global: { enforcement: "advisory", autoFix: true },
      excludedNamespaces: ["kube-*"],
      settings: { minReplicas: 2, maxCpuLimit: 4, maxMemoryLimit: "8Gi" },
    },
    source: file,
  });
});

test("validateConfig returns the configuration it was given when it is valid", async (t) => {
  const config: PolicyConfig = { ruleOverrides: { "privileged-container": { severity: "high" } }, settings: { maxCpuLimit: "1500m" } };
  t.is(await validateConfig(config, "inline", { knownRuleIds }), config);
});

test("an invalid configuration lists every problem with its JSON path", async (t) => {
  const error = await configError(
    t,
    validateConfig(
      {
        global: { enforcement: "sometimes" },
        categories: { security: { enabled: true, foo: 1 } },
        settings: { minReplicas: "two" },
      },
      "bad.json",
    ),
  );
  t.is(error.message, "invalid policy configuration bad.json: 3 problem(s)");
  t.is(error.code, "invalid_config");
  t.is(error.status, 422);
  t.deepEqual(error.details, [
    { where: "/global/enforcement", message: 'must be one of "strict", "advisory", "disabled"' },
    { where: "/categories/security", message: 'unknown field "foo"' },
    { where: "/settings/minReplicas", message: "must be integer" },
  ]);
  t.is(
    error.describe(),
    [
      "invalid policy configuration bad.json: 3 problem(s)",
      '  - /global/enforcement: must be one of "strict", "advisory", "disabled"',
      '  - /categories/security: unknown field "foo"',
      "  - /settings/minReplicas: must be integer",
    ].join("\n"),
  );
});

test("unknown top-level fields and a non-object configuration are refused at /", async (t) => {
  const unknown = await configError(t, validateConfig({ enforcement: "strict" }, "x"));
  t.deepEqual(unknown.details, [{ where: "/", message: 'unknown field "enforcement"' }]);
  const scalar = await configError(t, validateConfig("strict", "x"));
  t.deepEqual(scalar.details, [{ where: "/", message: "must be object" }]);
});

test("unknown rule ids in ruleOverrides, exemptions and requireApproval are named with their paths", async (t) => {
  const config: PolicyConfig = {
    ruleOverrides: { "no-such-rule": { enabled: false }, "privileged-container": { severity: "low" } },
    exemptions: [
      { rules: ["privileged-container", "made-up"], reason: "legacy" },
      { rules: ["*"], namespace: "kube-*", reason: "system namespaces" },
    ],
    autoFixPolicy: { requireApproval: { rules: ["ghost"] } },
  };
  const error = await configError(t, validateConfig(config, "overrides.json", { knownRuleIds }));
  t.deepEqual(error.details, [
    { where: "/ruleOverrides/no-such-rule", message: 'unknown rule id "no-such-rule"' },
    { where: "/exemptions/0/rules/1", message: 'unknown rule id "made-up"' },
    { where: "/autoFixPolicy/requireApproval/rules/0", message: 'unknown rule id "ghost"' },
  ]);
  // Without the set of known ids, rule ids are not checked.
  t.is(await validateConfig(config, "overrides.json"), config);
});

test("rule ids of the configuration's own custom rules count as known", async (t) => {
  const config: PolicyConfig = {
    customRules: [
      {
        id: "acme-001",
        severity: "high",
        category: "compliance",
        conditions: [{ field: "metadata.name", operator: "exists" }],
        actions: [{ type: "deny" }],
      },
    ],
    ruleOverrides: { "acme-001": { enforcement: "advisory" } },
    exemptions: [{ rules: ["acme-001"], reason: "pilot" }],
  };
  t.is(await validateConfig(config, "custom.json", { knownRuleIds }), config);
});

test("a quantity that does not parse is refused with its path", async (t) => {
  const error = await configError(t, validateConfig({ settings: { maxCpuLimit: "lots", maxMemoryLimit: "2Gi" } }, "q.json"));
  t.deepEqual(error.details, [
    { where: "/settings/maxCpuLimit", message: '"lots" is not a Kubernetes quantity (e.g. 500m, 2, 1.5Gi)' },
  ]);
  const defaults = await configError(t, validateConfig({ settings: { defaults: { memoryLimit: "1 GB" } } }, "q.json"));
  t.deepEqual(defaults.details, [
    { where: "/settings/defaults/memoryLimit", message: '"1 GB" is not a Kubernetes quantity (e.g. 500m, 2, 1.5Gi)' },
  ]);
});

test("quantities in every Kubernetes form are accepted", async (t) => {
  const config = {
    settings: {
      maxCpuLimit: 2,
      maxMemoryLimit: "1.5Gi",
      defaults: { cpuRequest: "100m", cpuLimit: "1e3m", memoryRequest: "128Mi", memoryLimit: "512M" },
    },
  };
  t.is(await validateConfig(config, "q.json"), config);
});

test("a default request above the default limit is refused", async (t) => {
  const error = await configError(
    t,
    validateConfig({ settings: { defaults: { cpuRequest: "2", cpuLimit: "500m", memoryRequest: "1Gi", memoryLimit: "512Mi" } } }, "d.json"),
  );
  t.deepEqual(error.details, [
    {
      where: "/settings/defaults/cpuRequest",
      message: "the default cpu request is above the default cpu limit: fixes would produce invalid pods",
    },
    {
      where: "/settings/defaults/memoryRequest",
      message: "the default memory request is above the default memory limit: fixes would produce invalid pods",
    },
  ]);
  // Equal request and limit are fine.
  const equal = { settings: { defaults: { cpuRequest: "1", cpuLimit: "1000m" } } };
  t.is(await validateConfig(equal, "d.json"), equal);
});

test("a Slack webhook that is not a URL and an email recipient that is not an address are refused with their paths", async (t) => {
  const error = await configError(
    t,
    validateConfig(
      { notifications: { slack: { webhookUrl: "not a url" }, email: { recipients: ["ops@example.com", "nobody"] } } },
      "n.json",
    ),
  );
  // One line per field even when the URL breaks both its format and its pattern; the URL (a secret) is not repeated.
  const urlReason =
    "is not an absolute http(s) URL (expected https://hooks.slack.com/services/T000/B000/XXXX); the value is not shown because a webhook URL is a secret";
  t.deepEqual(error.details, [
    { where: "/notifications/slack/webhookUrl", message: urlReason },
    { where: "/notifications/email/recipients/1", message: '"nobody" is not an e-mail address (expected name@example.com)' },
  ]);
  const ftp = await configError(t, validateConfig({ notifications: { slack: { webhookUrl: "ftp://hooks.example.com/x" } } }, "n.json"));
  t.deepEqual(ftp.details, [{ where: "/notifications/slack/webhookUrl", message: urlReason }]);
  const valid = {
    notifications: {
      slack: { webhookUrl: "https://hooks.slack.com/services/T000/B000/XXXX", channel: "#alerts" },
      email: { recipients: ["ops@example.com"], from: "kube-policy@example.com" },
    },
  };
  t.is(await validateConfig(valid, "n.json"), valid);
});

test("a JSON syntax error names file:line:col", async (t) => {
  const file = fixture("syntax-error.json");
  const error = await configError(t, loadConfig(file));
  t.is(error.message, `policy configuration ${file} is not valid JSON or YAML`);
  t.is(error.details.length, 1);
  t.regex(error.details[0]!.message, /^Missing , between flow map items/);
  // The missing comma is after "strict": the parser trips on the next key, line 4 column 5.
  t.is(error.details[0]!.where, `${file}:4:5`);
});

test("a YAML syntax error names file:line:col", async (t) => {
  const file = fixture("syntax-error.yaml");
  const error = await configError(t, loadConfig(file));
  t.is(error.message, `policy configuration ${file} is not valid JSON or YAML`);
  t.is(error.details.length, 1);
  t.regex(error.details[0]!.message, /^Flow map in block collection must be sufficiently indented and end with a \}/);
  // The flow map opened on line 5 is still open when the next block key starts, line 6 column 3.
  t.is(error.details[0]!.where, `${file}:6:3`);
});

test("a missing file gives a clear message", async (t) => {
  const file = fixture("does-not-exist.json");
  const error = await configError(t, loadConfig(file));
  t.is(error.message, `cannot read policy configuration ${file}: no such file or directory (ENOENT)`);
  t.deepEqual(error.details, []);
});

test("validation errors of a loaded file name the file", async (t) => {
  const error = await configError(t, loadConfig(path.join(CONFIG_DIR, "policies", "schema.json")));
  t.regex(error.message, /^invalid policy configuration .*schema\.json: \d+ problem\(s\)$/);
  t.true(error.details.some((d) => d.where === "/" && d.message === 'unknown field "title"'));
});
