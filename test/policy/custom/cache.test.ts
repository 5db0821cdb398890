// Covers the content-hash cache of compiled custom rule bundles (src/policy/custom/compile.ts): the
// first compile runs OPA and stores the bundle; compiling the same rules again (a restart) loads it in
// well under a second without running OPA at all; the hash follows the rules' content, not their order.
// Real components: the real OPA CLI for the cold compile, a temporary cache directory. To prove the
// cached path never runs OPA, KUBE_POLICY_OPA (which findOpa consults first) points at a stand-in
// script that records its arguments and fails; a cold compile with it in place shows it is used.
// (Making findOpa fail outright is not possible here: it falls back to the repository's .tools/bin/opa.)
import test from "ava";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { execFileSync } from "node:child_process";
import os from "node:os";
import path from "node:path";
import type { CustomRuleJson } from "../../../src/config/types.js";
import { PolicyCompileError } from "../../../src/errors.js";
import { WASM_DIR } from "../../../src/paths.js";
import { PolicyBundle } from "../../../src/policy/bundle.js";
import { compileCustomRules, loadCustomRules, ruleSetHash, type CompiledRules } from "../../../src/policy/custom/compile.js";
import { PolicyEvaluator } from "../../../src/policy/evaluator.js";
import { findOpa } from "../../../src/policy/opa-cli.js";

const work = mkdtempSync(path.join(os.tmpdir(), "kube-policy-test-cache-"));
const cacheDir = path.join(work, "bundles");
const builtIn = await PolicyBundle.load();
const builtInWasm = await readFile(path.join(WASM_DIR, "policy.wasm"));
test.after.always(() => rmSync(work, { recursive: true, force: true }));

const RULES: CustomRuleJson[] = [
  {
    id: "cache-registry",
    name: "Images from the organisation registry",
    severity: "high",
    category: "compliance",
    conditions: [{ field: "spec.template.spec.containers[*].image", operator: "regex_match", value: "^registry\\.example\\.com/" }],
    actions: [{ type: "deny", message: "Images come from registry.example.com" }],
  },
  {
    id: "cache-team",
    severity: "low",
    category: "operations",
    conditions: [{ field: "metadata.labels.team", operator: "exists" }],
    actions: [{ type: "warn", message: "Workloads name their team" }],
  },
];

const load = (rules: CustomRuleJson[]) => loadCustomRules({ customRules: rules }, "org.json", builtIn);

const DEPLOYMENT = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "shop" },
  spec: { template: { spec: { containers: [{ name: "app", image: "docker.io/library/nginx:1.25" }] } } },
};

const customFindings = (compiled: CompiledRules) =>
  new PolicyEvaluator(compiled.bundle, {})
    .evaluate({ object: DEPLOYMENT, context: {} })
    .findings.filter((f) => f.ruleId.startsWith("cache-"))
    .map((f) => [f.ruleId, f.outcome, f.message])
    .sort();

const EXPECTED_FINDINGS = [
  ["cache-registry", "violation", "Images come from registry.example.com (spec.template.spec.containers[0].image must match ^registry\\.example\\.com/)"],
  ["cache-team", "warning", "Workloads name their team (metadata.labels.team must be set)"],
];

let cold: CompiledRules;
let coldMs: number;

test.before(async () => {
  const started = performance.now();
  cold = await compileCustomRules(await load(RULES), { cacheDir });
  coldMs = performance.now() - started;
});

/** Runs fn with KUBE_POLICY_OPA (and PATH) pointing at a stand-in opa that logs its arguments and fails. */
async function withRecordingOpa<T>(fn: (log: string, fake: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(work, "fake-opa-"));
  const log = path.join(dir, "calls.log");
  const fake = path.join(dir, "opa");
  writeFileSync(fake, `#!/bin/sh\necho "$@" >> '${log}'\necho "stand-in opa: not to be called" >&2\nexit 3\n`);
  chmodSync(fake, 0o755);
  const saved = { opa: process.env.KUBE_POLICY_OPA, path: process.env.PATH };
  process.env.KUBE_POLICY_OPA = fake;
  process.env.PATH = dir;
  try {
    return await fn(log, fake);
  } finally {
    if (saved.opa === undefined) delete process.env.KUBE_POLICY_OPA;
    else process.env.KUBE_POLICY_OPA = saved.opa;
    process.env.PATH = saved.path;
  }
}

test.serial("the first compile runs OPA and stores bundle, catalogue and formatted generated Rego under the content hash", (t) => {
  t.false(cold.cached);
  t.is(cold.dir, path.join(cacheDir, cold.hash));
  t.regex(cold.hash, /^[0-9a-f]{24}$/);
  t.deepEqual(readdirSync(cacheDir), [cold.hash], "only the bundle directory: no build directory left behind");
  t.true(existsSync(path.join(cold.dir, "policy.wasm")));
  t.deepEqual(readdirSync(cold.generatedDir).sort(), ["cache_registry.rego", "cache_team.rego"]);
  t.is(execFileSync(findOpa(), ["fmt", "--list", cold.generatedDir], { encoding: "utf8" }), "", "generated Rego is opa fmt-clean");
  const catalogue = JSON.parse(readFileSync(path.join(cold.dir, "catalogue.json"), "utf8")) as { id: string; source: string }[];
  t.deepEqual(catalogue.filter((e) => e.source === "custom").map((e) => e.id).sort(), ["cache-registry", "cache-team"]);
  t.deepEqual(customFindings(cold), EXPECTED_FINDINGS);
  t.log(`cold compile: ${coldMs.toFixed(0)} ms`);
});

test.serial("compiling the same rules again loads the cached bundle in under a second, and it evaluates the same", async (t) => {
  const started = performance.now();
  const again = await compileCustomRules(await load(RULES), { cacheDir });
  const ms = performance.now() - started;
  t.true(again.cached);
  t.is(again.hash, cold.hash);
  t.is(again.dir, cold.dir);
  t.true(ms < 1000, `cached compile took ${ms.toFixed(0)} ms`);
  t.true(ms < coldMs, `cached ${ms.toFixed(0)} ms vs cold ${coldMs.toFixed(0)} ms`);
  t.deepEqual(again.bundle.catalogue, cold.bundle.catalogue);
  t.deepEqual(customFindings(again), EXPECTED_FINDINGS);
  t.log(`cached compile: ${ms.toFixed(0)} ms`);
});

test.serial("the cached path never runs OPA: with a failing stand-in opa in place it still returns a working bundle", async (t) => {
  await withRecordingOpa(async (log, fake) => {
    t.is(findOpa(), fake, "the stand-in is the opa that would run");
    const cached = await compileCustomRules(await load(RULES), { cacheDir });
    t.true(cached.cached);
    t.deepEqual(customFindings(cached), EXPECTED_FINDINGS);
    t.false(existsSync(log), existsSync(log) ? `opa was called: ${readFileSync(log, "utf8")}` : "");
  });
});

test.serial("a rule set not in the cache does run OPA: with the failing stand-in it fails and leaves the cache as it was", async (t) => {
  await withRecordingOpa(async (log) => {
    const changed = RULES.map((r) => (r.id === "cache-team" ? { ...r, actions: [{ type: "warn" as const, message: "Name the team" }] } : r));
    const error = await t.throwsAsync(compileCustomRules(await load(changed), { cacheDir }), { instanceOf: PolicyCompileError });
    t.regex(error?.message ?? "", /^opa fmt failed/);
    t.regex(readFileSync(log, "utf8"), /^fmt -w /);
  });
  t.deepEqual(readdirSync(cacheDir), [cold.hash]);
});

test("the hash follows the rules' content: order does not matter, a changed message does", async (t) => {
  const hash = ruleSetHash(await load(RULES), builtInWasm);
  t.is(hash, cold.hash);
  t.is(ruleSetHash(await load([...RULES].reverse()), builtInWasm), hash);
  const reworded = RULES.map((r) => (r.id === "cache-team" ? { ...r, actions: [{ type: "warn" as const, message: "Name the team" }] } : r));
  t.not(ruleSetHash(await load(reworded), builtInWasm), hash);
  const disabled = RULES.map((r) => (r.id === "cache-team" ? { ...r, enabled: false } : r));
  t.not(ruleSetHash(await load(disabled), builtInWasm), hash);
  // The same rules from another file are another origin (the generated header names it): another bundle.
  t.not(ruleSetHash(await loadCustomRules({ customRules: RULES }, "other.json", builtIn), builtInWasm), hash);
});

test.serial("reordered rules hit the cache", async (t) => {
  const reordered = await compileCustomRules(await load([...RULES].reverse()), { cacheDir });
  t.true(reordered.cached);
  t.is(reordered.dir, cold.dir);
});
