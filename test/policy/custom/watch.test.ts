// Covers hot reload of custom rules (src/policy/custom/watch.ts): editing the configuration file
// recompiles in the background and swaps the runtime's bundle atomically; a rule set that fails to
// compile keeps the previous bundle serving and sets runtime.lastReloadError with the rule's location;
// fixing it clears the error; hand-written .rego files in customRulesDir are watched too. Real
// components: Runtime with the bundled demo manifests (MemorySource.demo()), real files in a temporary
// directory watched with fs.watch, the real OPA CLI, a temporary bundle cache. The log is a recorder.
import test from "ava";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { CustomRuleJson } from "../../../src/config/types.js";
import { MemorySource } from "../../../src/kube/memory-source.js";
import { watchRules, type RuleWatcher } from "../../../src/policy/custom/watch.js";
import { loadPolicySetup } from "../../../src/policy/setup.js";
import { Runtime } from "../../../src/runtime.js";

const work = mkdtempSync(path.join(os.tmpdir(), "kube-policy-test-watch-"));
const cacheDir = path.join(work, "bundles");
const opened: { runtime: Runtime; watcher: RuleWatcher }[] = [];
test.after.always(async () => {
  for (const { runtime, watcher } of opened) {
    watcher.close();
    await runtime.close();
  }
  rmSync(work, { recursive: true, force: true });
});

const TEAM: CustomRuleJson = {
  id: "watch-team",
  severity: "low",
  category: "operations",
  conditions: [{ field: "metadata.labels.team", operator: "exists" }],
  actions: [{ type: "warn", message: "Workloads name their team" }],
};
const REGISTRY: CustomRuleJson = {
  id: "watch-registry",
  name: "Images from the organisation registry",
  severity: "high",
  category: "compliance",
  conditions: [{ field: "spec.template.spec.containers[*].image", operator: "regex_match", value: "^registry\\.example\\.com/" }],
  actions: [{ type: "deny", message: "Images come from registry.example.com" }],
};
const BROKEN: CustomRuleJson = {
  id: "watch-broken",
  severity: "medium",
  category: "security",
  conditions: [{ field: "metadata.name", operator: "regex_match", value: "^(web" }],
  actions: [{ type: "deny", message: "never compiles" }],
};

const HAND_WRITTEN = (body: string) => `# METADATA
# title: Contact annotation
# description: Workloads name a contact in the annotation example.com/contact.
# custom:
#   id: watch-contact
#   category: operations
#   severity: medium
#   remediation: Add the annotation example.com/contact to the workload.
package kubepolicy.custom.watch_contact

import data.lib.kubernetes as k8s

violation contains {"msg": concat("", [k8s.workload, " names no contact"]), "path": "/metadata/annotations"} if {
${body}
}
`;
const CONTACT_OK = HAND_WRITTEN('\tk8s.is_workload\n\tnot k8s.annotations["example.com/contact"]');
const CONTACT_BROKEN = HAND_WRITTEN('\tk8s.is_workload\n\tnot k8s.annotations["example.com/contact"]\n\tmissing_variable');

const writeConfig = (file: string, config: Record<string, unknown>) => writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);

async function until(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Logged {
  level: "info" | "error";
  object: object;
  message?: string;
}

async function start(dir: string, config: Record<string, unknown>) {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "policy.json");
  writeConfig(file, config);
  const setup = await loadPolicySetup(file, { cacheDir });
  const runtime = new Runtime(setup.config, setup.bundle, await MemorySource.demo(), { configSource: file, databasePath: path.join(dir, "kube-policy.db") });
  const logged: Logged[] = [];
  const log = {
    info: (object: object, message?: string) => logged.push({ level: "info", object, message }),
    error: (object: object, message?: string) => logged.push({ level: "error", object, message }),
  };
  const watcher = watchRules(runtime, file, { debounceMs: 100, cacheDir, log });
  opened.push({ runtime, watcher });
  return { file, runtime, watcher, logged };
}

const customIds = (runtime: Runtime) => runtime.evaluator.bundle.catalogue.filter((e) => e.source === "custom").map((e) => e.id).sort();

const DEPLOYMENT = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "shop" },
  spec: { template: { spec: { containers: [{ name: "app", image: "docker.io/library/nginx:1.25" }] } } },
};
const firing = (runtime: Runtime) =>
  runtime.evaluator
    .evaluate({ object: DEPLOYMENT, context: {} })
    .findings.filter((f) => f.ruleId.startsWith("watch-"))
    .map((f) => `${f.ruleId} ${f.outcome}`)
    .sort();

test.serial("editing the config file swaps the bundle; a rule set that fails keeps the old one and reports where; fixing it clears the error", async (t) => {
  const { file, runtime, watcher, logged } = await start(path.join(work, "edit"), { customRules: [TEAM] });
  t.deepEqual(customIds(runtime), ["watch-team"]);
  t.deepEqual(firing(runtime), ["watch-team warning"]);
  const first = runtime.evaluator;

  // Add a rule: the bundle is swapped, configuration and evaluator together.
  writeConfig(file, { customRules: [TEAM, REGISTRY] });
  await until("the new rule to be served", () => runtime.evaluator.bundle.byId.has("watch-registry"));
  await watcher.settled();
  t.deepEqual(customIds(runtime), ["watch-registry", "watch-team"]);
  t.is(runtime.evaluator.bundle.byId.get("watch-registry")?.category, "compliance");
  t.is(runtime.config.customRules?.length, 2);
  t.deepEqual(firing(runtime), ["watch-registry violation", "watch-team warning"]);
  t.is(runtime.lastReloadError, null);
  // An evaluation that started on the old evaluator finishes on the old rules.
  t.deepEqual(first.bundle.catalogue.filter((e) => e.source === "custom").map((e) => e.id), ["watch-team"]);
  t.true(logged.some((l) => l.level === "info" && l.message === "rules reloaded"));
  const second = runtime.evaluator;

  // A rule set that does not compile: the previous bundle keeps serving, the error names the rule.
  writeConfig(file, { customRules: [TEAM, REGISTRY, BROKEN] });
  await until("the reload error", () => runtime.lastReloadError !== null);
  await watcher.settled();
  t.is(runtime.evaluator, second);
  t.deepEqual(customIds(runtime), ["watch-registry", "watch-team"]);
  t.is(runtime.config.customRules?.length, 2, "the configuration is not half-loaded either");
  t.deepEqual(runtime.lastReloadError?.toJSON(), {
    code: "policy_compile_error",
    message: "1 problem(s) in custom rules",
    details: [{ where: `${file}#watch-broken conditions[0].value`, message: 'invalid regular expression "^(web": /^(web/: Unterminated group' }],
  });
  t.deepEqual(firing(runtime), ["watch-registry violation", "watch-team warning"]);
  // (One write can raise more than one fs event: count reloads loosely, check every one of them.)
  const errors = logged.filter((l) => l.level === "error");
  t.true(errors.length >= 1);
  for (const e of errors) t.is(e.message, "rules changed but do not compile: the previous rules keep serving");

  // Back to rules that compile (from the cache this time): the error is cleared.
  writeConfig(file, { customRules: [TEAM, REGISTRY] });
  await until("the error to clear", () => runtime.lastReloadError === null);
  await watcher.settled();
  t.deepEqual(customIds(runtime), ["watch-registry", "watch-team"]);
  t.not(runtime.evaluator, second, "a fresh evaluator over the cached bundle");
  t.is(runtime.evaluator.bundle.hash, second.bundle.hash);
});

test.serial("hand-written .rego in customRulesDir: editing it recompiles; a Rego error keeps the old bundle and names file and line", async (t) => {
  const dir = path.join(work, "rego");
  mkdirSync(path.join(dir, "rules"), { recursive: true });
  const rego = path.join(dir, "rules", "contact.rego");
  writeFileSync(rego, CONTACT_OK);
  const { runtime, watcher } = await start(dir, { customRulesDir: "rules" });
  t.deepEqual(customIds(runtime), ["watch-contact"]);
  const before = runtime.evaluator;

  writeFileSync(rego, CONTACT_BROKEN);
  await until("the reload error", () => runtime.lastReloadError !== null);
  await watcher.settled();
  t.is(runtime.evaluator, before);
  t.is(runtime.lastReloadError?.message, "opa check failed for custom rules");
  t.deepEqual(runtime.lastReloadError?.details, [{ where: `${rego}:16`, message: "rego_unsafe_var_error: var missing_variable is unsafe" }]);

  writeFileSync(rego, CONTACT_OK);
  await until("the error to clear", () => runtime.lastReloadError === null);
  await watcher.settled();
  t.deepEqual(customIds(runtime), ["watch-contact"]);
  t.deepEqual(firing(runtime), ["watch-contact violation"]);
});

test.serial("a customRulesDir added by a reload that failed is still watched: fixing the .rego file there reloads", async (t) => {
  const dir = path.join(work, "added-dir");
  const { file, runtime, watcher } = await start(dir, { customRules: [TEAM] });
  mkdirSync(path.join(dir, "rules"));
  const rego = path.join(dir, "rules", "contact.rego");
  writeFileSync(rego, CONTACT_BROKEN);
  writeConfig(file, { customRules: [TEAM], customRulesDir: "rules" });
  await until("the reload error", () => runtime.lastReloadError !== null);
  await watcher.settled();
  t.deepEqual(customIds(runtime), ["watch-team"]);

  // The fix is in the rule directory, not in the configuration file.
  writeFileSync(rego, CONTACT_OK);
  const served = await until("the fixed rule", () => runtime.evaluator.bundle.byId.has("watch-contact"), 15_000).then(
    () => true,
    () => false,
  );
  t.true(served, "the fixed rule is served within 15 s of the fix");
  if (!served) return;
  t.is(runtime.lastReloadError, null);
  t.deepEqual(customIds(runtime), ["watch-contact", "watch-team"]);
});
