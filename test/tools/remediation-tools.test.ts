// Covers the remediation and audit tools where no cluster is needed: the audit record every tool call
// leaves (through defineTool's run wrapper: actor, namespace, workload, rule ids, outcome, arguments with
// long texts and secrets elided), auditing that cannot fail a tool, read-only mode hiding the write tools,
// and the clear refusals of the fix tools (read-only source, denied namespace, kinds that cannot be
// fixed, bad ids and time ranges).
// Real components: the committed wasm bundle, the bundled demo manifests (MemorySource, read-only, as
// `kube-policy serve --demo` serves them) and SQLite on temporary files. The live-cluster paths are in
// test/remediation/cluster.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import type { PolicyConfig } from "../../src/config/types.js";
import { ForbiddenError, InvalidInputError } from "../../src/errors.js";
import { MemorySource } from "../../src/kube/memory-source.js";
import { PolicyBundle } from "../../src/policy/bundle.js";
import { ReadOnlySourceError } from "../../src/remediation/remediator.js";
import { Runtime } from "../../src/runtime.js";
import { AuditStore } from "../../src/store/audit-store.js";
import { redactArgs } from "../../src/tools/audit-trail.js";
import { ALL_TOOLS, toolsFor } from "../../src/tools/index.js";

const bundle = await PolicyBundle.load();
const demo = await MemorySource.demo();
const dir = mkdtempSync(path.join(tmpdir(), "kube-policy-tools-"));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

function runtime(config: PolicyConfig = {}, databasePath = path.join(dir, `db-${counter++}.db`)): Runtime {
  return new Runtime(config, bundle, demo, { databasePath });
}

const tool = (name: string) => {
  const found = ALL_TOOLS.find((t) => t.name === name);
  if (!found) throw new Error(`no tool ${name}`);
  return found;
};

const WRITE_TOOLS = ["approve_fix", "auto_fix_policy_violations", "fix_workload", "rollback_fix"];

test("read-only mode hides exactly the tools that change the cluster, and they say they are destructive", (t) => {
  const all = toolsFor({}).map((x) => x.name);
  const readOnly = toolsFor({ readOnly: true }).map((x) => x.name);
  t.deepEqual(all.filter((n) => !readOnly.includes(n)).sort(), WRITE_TOOLS);
  for (const name of WRITE_TOOLS) {
    t.is(tool(name).annotations.destructiveHint, true, name);
    t.is(tool(name).annotations.readOnlyHint, false, name);
  }
  for (const name of ["list_fix_history", "list_pending_fixes", "query_audit_log"]) t.true(readOnly.includes(name), name);
});

test("every tool call is audited: actor, namespace, workload, failing rules and outcome, newest first", async (t) => {
  const rt = runtime();
  const ctx = { runtime: rt, actor: "http:alice" };
  const evaluation = (await tool("evaluate_deployment_policies").run({ namespace: "staging", deployment: "app" }, ctx)).structured as {
    violations: { ruleId: string }[];
    warnings: { ruleId: string }[];
  };
  const failing = [...new Set([...evaluation.violations, ...evaluation.warnings].map((f) => f.ruleId))].sort();
  t.true(failing.length > 5, "the demo staging/app fails many rules");
  await t.throwsAsync(tool("evaluate_deployment_policies").run({ namespace: "staging", deployment: "missing" }, ctx));
  const { structured } = await tool("query_audit_log").run({ actor: "http:alice" }, ctx);
  const entries = (structured as { entries: { action: string; namespace: string; resource: string; ruleIds: string[]; outcome: string; details: Record<string, unknown> }[] }).entries;
  t.is(entries.length, 2);
  const [missing, evaluated] = entries;
  t.is(missing!.outcome, "error:not_found");
  t.is(missing!.resource, "Deployment/missing");
  t.regex(String((missing!.details.error as { message: string }).message), /Deployment "missing" not found in namespace "staging"/);
  t.is(evaluated!.action, "evaluate_deployment_policies");
  t.is(evaluated!.namespace, "staging");
  t.is(evaluated!.resource, "Deployment/app");
  t.is(evaluated!.outcome, "fail");
  t.deepEqual([...evaluated!.ruleIds].sort(), failing, "the rules that failed");
  t.deepEqual(evaluated!.details.args, { namespace: "staging", deployment: "app" });

  // The query itself is audited too (reading the audit log is an access worth recording).
  const store = new AuditStore(rt.db());
  t.is(store.query({ action: "query_audit_log" }).length, 1);
  t.deepEqual(store.query({ actor: "nobody" }), []);
  await rt.close();
});

test("audited arguments never hold secrets or whole manifests", async (t) => {
  t.deepEqual(redactArgs({ namespace: "a", token: "s3cret", nested: { Password: "x", apiKey: "y", keep: 1 } }), {
    namespace: "a",
    token: "[redacted]",
    nested: { Password: "[redacted]", apiKey: "[redacted]", keep: 1 },
  });
  const rt = runtime();
  const yaml = `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: shop\nspec:\n  containers:\n    - name: a\n      image: nginx:1.25.3\n      env:\n        - name: DB_PASSWORD\n          value: hunter2-${"x".repeat(300)}\n`;
  await tool("evaluate_manifest").run({ yaml }, { runtime: rt, actor: "cli" });
  const [entry] = new AuditStore(rt.db()).query({ action: "evaluate_manifest" });
  const recorded = (entry!.details.args as { yaml: string }).yaml;
  t.regex(recorded, new RegExp(`^\\[${yaml.length} characters, sha256 [0-9a-f]{16}\\]$`));
  t.false(JSON.stringify(entry).includes("hunter2"));
  await rt.close();
});

test("a tool still answers when the audit store cannot be opened", async (t) => {
  const blocker = path.join(dir, "not-a-directory");
  writeFileSync(blocker, "a file where the database directory should be");
  const rt = runtime({}, path.join(blocker, "sub", "audit.db"));
  t.throws(() => rt.db(), { code: "store_error", message: /ENOTDIR/ }, "the store really is unavailable");
  const result = await tool("evaluate_deployment_policies").run({ namespace: "production", deployment: "web-app" }, { runtime: rt, actor: "cli" });
  t.is((result.structured as { status: string }).status, "pass");
});

test("fix tools refuse a read-only source (the demo) with a clear error, and the refusal is audited", async (t) => {
  const rt = runtime({ global: { autoFix: true } });
  for (const [name, args] of [
    ["auto_fix_policy_violations", { namespace: "staging", deployment: "app", dryRun: true }],
    ["fix_workload", { namespace: "production", kind: "cronjobs", name: "nightly-report" }],
  ] as const) {
    const error = await t.throwsAsync(tool(name).run(args, { runtime: rt, actor: "http:ci" }), { instanceOf: ReadOnlySourceError });
    t.is(error?.status, 409);
    t.regex(error!.message, /^bundled demo manifests \(read-only, no cluster configured\) cannot be changed: fixes need a live cluster/);
  }
  t.deepEqual(
    new AuditStore(rt.db()).query().map((e) => [e.action, e.outcome]),
    [
      ["fix_workload", "error:read_only_source"],
      ["auto_fix_policy_violations", "error:read_only_source"],
    ],
  );
  await rt.close();
});

test("fix tools check the namespace, the kind and the arguments before anything else", async (t) => {
  const rt = runtime({ namespaces: { deny: ["staging"] } });
  const ctx = { runtime: rt, actor: "http:ci" };
  const denied = await t.throwsAsync(tool("auto_fix_policy_violations").run({ namespace: "staging", deployment: "app" }, ctx), { instanceOf: ForbiddenError });
  t.is(denied?.message, 'namespace "staging" is not allowed by the policy configuration (namespaces.allow / namespaces.deny): nothing was changed');

  const job = await t.throwsAsync(tool("fix_workload").run({ namespace: "production", kind: "job", name: "x" }, ctx), { instanceOf: InvalidInputError });
  t.is(job?.message, "cannot fix a Job: the pod template of a Job cannot be changed after creation");
  t.is(job?.details[0]?.where, "kind");
  const notKind = await t.throwsAsync(tool("fix_workload").run({ namespace: "production", kind: "service", name: "x" }, ctx), { instanceOf: InvalidInputError });
  t.deepEqual(notKind?.details[0]?.where, "kind");

  const unknownRule = await t.throwsAsync(tool("auto_fix_policy_violations").run({ namespace: "production", deployment: "web-app", rules: ["nope"] }, ctx), {
    instanceOf: InvalidInputError,
  });
  t.deepEqual(unknownRule?.details, [{ where: "rules[0]", message: 'unknown rule id "nope"' }]);

  const badId = await t.throwsAsync(tool("approve_fix").run({ id: "chg-12345678" }, ctx), { instanceOf: InvalidInputError });
  t.deepEqual(badId?.details, [{ where: "id", message: "must be a pending fix id such as fix-1a2b3c4d" }]);
  const missing = await t.throwsAsync(tool("rollback_fix").run({ changeId: "chg-12345678" }, ctx));
  t.is(missing?.message, 'no change with id "chg-12345678" (list_fix_history shows them)');
  const reject = await t.throwsAsync(tool("reject_fix").run({ id: "fix-12345678" }, ctx));
  t.is(reject?.message, 'no pending fix with id "fix-12345678" (list_pending_fixes shows them)');

  await t.throwsAsync(tool("list_fix_history").run({ namespace: "staging" }, ctx), { instanceOf: ForbiddenError });
  t.deepEqual((await tool("list_fix_history").run({}, ctx)).structured, { changes: [] });
  await rt.close();
});

test("query_audit_log refuses times that are not ISO 8601 and ranges that end before they start", async (t) => {
  const rt = runtime();
  const ctx = { runtime: rt, actor: "cli" };
  const bad = await t.throwsAsync(tool("query_audit_log").run({ since: "yesterday", until: "2026-13-45" }, ctx), { instanceOf: InvalidInputError });
  t.deepEqual(bad?.details, [
    { where: "since", message: '"yesterday" is not an ISO 8601 date or date-time' },
    { where: "until", message: '"2026-13-45" is not an ISO 8601 date or date-time' },
  ]);
  const reversed = await t.throwsAsync(tool("query_audit_log").run({ since: "2026-02-01", until: "2026-01-01" }, ctx), { instanceOf: InvalidInputError });
  t.deepEqual(reversed?.details, [{ where: "until", message: "2026-01-01 is before since (2026-02-01)" }]);
  await tool("evaluate_deployment_policies").run({ namespace: "production", deployment: "web-app" }, ctx);
  const today = new Date().toISOString().slice(0, 10);
  const { structured } = await tool("query_audit_log").run({ since: today, until: today, namespace: "production" }, ctx);
  t.is((structured as { entries: unknown[] }).entries.length, 1, "a bare date covers the whole day");
  await rt.close();
});
