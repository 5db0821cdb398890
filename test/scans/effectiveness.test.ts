// Covers policy effectiveness (src/scans/effectiveness.ts, src/store/effectiveness-store.ts, the tool
// analyze_policy_effectiveness and `kube-policy effectiveness`): exact numbers per rule over the Auto-Fix
// Efficiency history (test/scans/autofix-fixture.ts, whose story lists every finding), written through the
// real ScanStore and FixStore into SQLite files: opened, resolved by a kube-policy fix vs otherwise, exempted,
// median / p90 time to resolve, recurrence, the most affected workloads, the rankings and the never-fired list;
// the period, namespace and category filters; "no data"; the CLI's text and JSON; bad input refused.
//
// Scans finish 90 s after they start, a day apart: a finding's time to resolve is a whole number of days.
import { rmSync } from "node:fs";
import path from "node:path";
import test from "ava";
import { MemorySource } from "../../src/kube/memory-source.js";
import { PolicyBundle } from "../../src/policy/bundle.js";
import { Runtime } from "../../src/runtime.js";
import { computeAutoFixEfficiency } from "../../src/scans/autofix.js";
import { computePolicyEffectiveness, type PolicyEffectiveness, type RuleEffectiveness, type RuleInfo } from "../../src/scans/effectiveness.js";
import { openDatabase } from "../../src/store/db.js";
import { ScanStore } from "../../src/store/scan-store.js";
import { analyzePolicyEffectiveness } from "../../src/tools/effectiveness.js";
import { toolsFor } from "../../src/tools/index.js";
import { runCli } from "../helpers/cli.js";
import { tempDir } from "../http/dashboard/fixture.js";
import { CLUSTER, DAY, writeAutoFixHistory } from "./autofix-fixture.js";

const dir = tempDir("kube-policy-effectiveness-");
const NOW = Date.UTC(2026, 0, 15, 12);
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

// The catalogue as input data: the fixture's rules, one enabled rule that never fires, one disabled one.
const RULES: RuleInfo[] = [
  ["run-as-non-root", "security", "high"],
  ["cpu-limits", "performance", "medium"],
  ["privileged-container", "security", "critical"],
  ["host-network", "security", "high"],
  ["memory-limits", "performance", "high"],
  ["host-pid", "security", "high"],
  ["replicas-minimum", "performance", "medium"],
  ["image-tag-latest", "compliance", "medium"],
  ["cpu-requests", "performance", "medium"],
  ["seccomp-profile", "security", "medium"],
  ["liveness-probe", "operations", "medium"],
].map(([id, category, severity]) => ({ id: id!, category: category!, severity: severity!, enabled: true }));
RULES.push({ id: "resource-quota", category: "cost", severity: "low", enabled: false });

let counter = 0;
function historyFile(now = NOW): string {
  const file = path.join(dir, `h-${counter++}.db`);
  writeAutoFixHistory(file, now);
  return file;
}
const store = (file: string) => new ScanStore(openDatabase(file));

function rule(e: PolicyEffectiveness | null, id: string): RuleEffectiveness {
  const r = e?.rules.find((x) => x.ruleId === id);
  if (!r) throw new Error(`no row for ${id}`);
  return r;
}
const other = (o: Partial<Record<string, number>> = {}) => ({ fixed: 0, exempted: 0, excluded: 0, "workload-removed": 0, "rule-disabled": 0, ...o });

test("30 days, whole cluster: exact numbers per rule", (t) => {
  const e = computePolicyEffectiveness(store(historyFile()), { cluster: CLUSTER, now: NOW, rules: RULES });
  t.truthy(e);
  t.is(e!.scans, 5);
  t.deepEqual(e!.scope, { cluster: CLUSTER, namespace: null, scannedNamespaces: null });

  // A: fixed by kube-policy between S2 and S3, open 2 days.
  t.like(rule(e, "run-as-non-root"), {
    openNow: 0, opened: 1, recurred: 0, activeInPeriod: 1, exempted: 0,
    resolved: { total: 1, byKubePolicyFix: 1, otherwise: 0, otherwiseBy: other() },
    timeToResolve: { resolutions: 1, medianHours: 48, p90Hours: 48 },
  });
  // B resolved by hand after 2 days; O2 open since S1.
  t.like(rule(e, "cpu-limits"), {
    openNow: 1, opened: 2, recurred: 0, activeInPeriod: 2,
    resolved: { total: 1, byKubePolicyFix: 0, otherwise: 1, otherwiseBy: other({ fixed: 1 }) },
    timeToResolve: { resolutions: 1, medianHours: 48, p90Hours: 48 },
    medianOpenHours: 84, // median of 48 h (B) and 120 h less 90 s (O2, open now)
  });
  // C resolved at S3 after 2 days, back at S4 (open now: its resolution does not count); O4 open since S1.
  t.like(rule(e, "privileged-container"), {
    openNow: 2, opened: 3, recurred: 1, recurrencePercent: 33.3, activeInPeriod: 3,
    resolved: { total: 0, byKubePolicyFix: 0, otherwise: 0 },
    timeToResolve: { resolutions: 1, medianHours: 48, p90Hours: 48 },
  });
  // E exempted after 3 days, G fixed by kube-policy after 4: median 84 h, p90 72 + 0.9 × 24 = 93.6 h.
  t.like(rule(e, "memory-limits"), {
    openNow: 0, opened: 2, recurred: 0, exempted: 1,
    resolved: { total: 2, byKubePolicyFix: 1, otherwise: 1, otherwiseBy: other({ exempted: 1 }) },
    timeToResolve: { resolutions: 2, medianHours: 84, p90Hours: 93.6 },
  });
  // H: open S1, resolved S2, back at S3, resolved S4: two resolutions of a day each, one recurrence.
  t.like(rule(e, "replicas-minimum"), {
    openNow: 0, opened: 2, recurred: 1, recurrencePercent: 50,
    resolved: { total: 1, byKubePolicyFix: 0, otherwise: 1, otherwiseBy: other({ fixed: 1 }) },
    timeToResolve: { resolutions: 2, medianHours: 24, p90Hours: 24 },
  });
  // D: its fix was rolled back; F: a later scan still saw it after the fix.
  t.like(rule(e, "host-network"), { resolved: { total: 1, byKubePolicyFix: 0, otherwise: 1 }, timeToResolve: { resolutions: 1, medianHours: 24, p90Hours: 24 } });
  t.like(rule(e, "host-pid"), { resolved: { total: 1, byKubePolicyFix: 0, otherwise: 1 }, timeToResolve: { resolutions: 1, medianHours: 48, p90Hours: 48 } });
  t.like(rule(e, "image-tag-latest"), { openNow: 1, opened: 1, resolved: { total: 0 }, timeToResolve: { resolutions: 0, medianHours: null, p90Hours: null } });
  t.like(rule(e, "seccomp-profile"), { openNow: 0, opened: 0, activeInPeriod: 0, enabled: true });
  t.false(e!.rules.some((r) => r.ruleId === "resource-quota"), "a disabled rule that found nothing gets no row");

  t.deepEqual(rule(e, "privileged-container").mostAffected, {
    namespaces: [
      { namespace: "shop", findings: 2 },
      { namespace: "payments", findings: 1 },
    ],
  });
  // shop/api: A, C twice, F, O3; payments/gateway: E, H twice, O2; shop/web: B, G, O1.
  t.deepEqual(e!.mostAffectedWorkloads.slice(0, 3), [
    { namespace: "shop", kind: "Deployment", name: "api", findings: 5, rules: 4 },
    { namespace: "payments", kind: "Deployment", name: "gateway", findings: 4, rules: 3 },
    { namespace: "shop", kind: "Deployment", name: "web", findings: 3, rules: 3 },
  ]);

  // The split is Auto-Fix Efficiency's: the same totals.
  const autofix = computeAutoFixEfficiency(store(historyFile()), { cluster: CLUSTER, now: NOW, fixability: () => "manual" })!;
  const sum = (f: (r: RuleEffectiveness) => number) => e!.rules.reduce((a, r) => a + f(r), 0);
  t.is(sum((r) => r.resolved.byKubePolicyFix), autofix.autoRemediated);
  t.is(sum((r) => r.resolved.otherwise), autofix.resolvedOtherwise);
  t.is(sum((r) => r.openNow), autofix.stillOpen);

  t.deepEqual(e!.ranking.mostFired.slice(0, 3), [
    { ruleId: "privileged-container", activeInPeriod: 3, opened: 3, openNow: 2 },
    { ruleId: "cpu-limits", activeInPeriod: 2, opened: 2, openNow: 1 },
    { ruleId: "memory-limits", activeInPeriod: 2, opened: 2, openNow: 0 },
  ]);
  // Open since S1 and still open (120 h less 90 s) come first; at a tie, the rule with more open now.
  t.deepEqual(e!.ranking.longestOpen.slice(0, 4).map((r) => [r.ruleId, r.medianOpenHours, r.openNow]), [
    ["cpu-requests", 120, 1],
    ["image-tag-latest", 120, 1],
    ["cpu-limits", 84, 1],
    ["memory-limits", 84, 0],
  ]);
  t.deepEqual(e!.ranking.neverFired, [
    { ruleId: "liveness-probe", category: "operations", severity: "medium" },
    { ruleId: "seccomp-profile", category: "security", severity: "medium" },
  ]);
  t.deepEqual(e!.ranking.highRecurrence, [
    { ruleId: "replicas-minimum", recurred: 1, recurrencePercent: 50 },
    { ruleId: "privileged-container", recurred: 1, recurrencePercent: 33.3 },
  ]);
});

test("the period: only scans started in it open findings, only resolutions in it count", (t) => {
  // 3 days back from an hour after the fixture's anchor: S4 and S5 are in, S3 is not.
  const e = computePolicyEffectiveness(store(historyFile()), { cluster: CLUSTER, now: NOW + 3_600_000, days: 3, rules: RULES });
  t.is(e!.scans, 2);
  t.like(rule(e, "privileged-container"), { openNow: 2, opened: 1, recurred: 1, recurrencePercent: 100, timeToResolve: { resolutions: 0 } });
  t.like(rule(e, "memory-limits"), {
    opened: 0, exempted: 1,
    resolved: { total: 2, byKubePolicyFix: 1, otherwise: 1 },
    timeToResolve: { resolutions: 2, medianHours: 84, p90Hours: 93.6 },
  });
  t.like(rule(e, "replicas-minimum"), { opened: 0, recurred: 0, resolved: { total: 1 }, timeToResolve: { resolutions: 1, medianHours: 24 } });
  t.like(rule(e, "run-as-non-root"), { activeInPeriod: 0, resolved: { total: 0 }, timeToResolve: { resolutions: 0 } });
  t.deepEqual(
    e!.ranking.neverFired.map((r) => r.ruleId),
    ["host-network", "host-pid", "liveness-probe", "run-as-non-root", "seccomp-profile"],
  );
  t.deepEqual(e!.ranking.highRecurrence, [{ ruleId: "privileged-container", recurred: 1, recurrencePercent: 100 }]);
});

test("namespace and category filters", (t) => {
  const file = historyFile();
  const shop = computePolicyEffectiveness(store(file), { cluster: CLUSTER, now: NOW, namespace: "shop", rules: RULES });
  t.deepEqual(shop!.scope, { cluster: CLUSTER, namespace: "shop", scannedNamespaces: null });
  t.like(rule(shop, "privileged-container"), { openNow: 1, opened: 2, recurred: 1, activeInPeriod: 2 });
  t.deepEqual(rule(shop, "privileged-container").mostAffected.namespaces, [{ namespace: "shop", findings: 2 }]);
  t.like(rule(shop, "cpu-limits"), { openNow: 0, opened: 1, resolved: { total: 1, otherwise: 1 } });
  t.like(rule(shop, "memory-limits"), { opened: 1, exempted: 0, resolved: { total: 1, byKubePolicyFix: 1, otherwise: 0 }, timeToResolve: { resolutions: 1, medianHours: 96 } });
  t.deepEqual(shop!.ranking.neverFired.map((r) => r.ruleId), ["host-network", "liveness-probe", "replicas-minimum", "seccomp-profile"]);

  const security = computePolicyEffectiveness(store(file), { cluster: CLUSTER, now: NOW, category: "security", rules: RULES });
  t.deepEqual(security!.rules.map((r) => r.ruleId), ["host-network", "host-pid", "privileged-container", "run-as-non-root", "seccomp-profile"]);
  t.deepEqual(security!.ranking.neverFired.map((r) => r.ruleId), ["seccomp-profile"]);
  t.deepEqual(security!.ranking.highRecurrence.map((r) => r.ruleId), ["privileged-container"]);
  t.deepEqual(security!.mostAffectedWorkloads.map((w) => [w.namespace, w.name, w.findings]), [
    ["shop", "api", 4],
    ["payments", "ledger", 2],
  ]);
});

test("no data: empty database, unknown namespace, other cluster, no scan in the period", (t) => {
  const empty = new ScanStore(openDatabase(path.join(dir, `empty-${counter++}.db`)));
  t.is(computePolicyEffectiveness(empty, { cluster: CLUSTER, now: NOW, rules: RULES }), null);
  const file = historyFile();
  t.is(computePolicyEffectiveness(store(file), { cluster: CLUSTER, now: NOW, namespace: "nowhere", rules: RULES }), null);
  t.is(computePolicyEffectiveness(store(file), { cluster: "other", now: NOW, rules: RULES }), null);
  t.is(computePolicyEffectiveness(store(file), { cluster: CLUSTER, now: NOW + 30 * DAY, days: 7, rules: RULES }), null);
});

test("the tool: offered in read-only mode, numbers and no data, bad arguments named", async (t) => {
  t.true(toolsFor({ readOnly: true }).some((tool) => tool.name === "analyze_policy_effectiveness"));
  const bundle = await PolicyBundle.load();
  const file = historyFile(Date.now());
  const runtime = new Runtime({}, bundle, await MemorySource.demo(), { databasePath: file });
  const ctx = { runtime, actor: "test" };
  const result = await analyzePolicyEffectiveness.run({ category: "performance" }, ctx);
  const e = (result.structured as { effectiveness: PolicyEffectiveness }).effectiveness;
  t.like(rule(e, "memory-limits"), { resolved: { total: 2, byKubePolicyFix: 1, otherwise: 1 }, exempted: 1 });
  t.true(e.rules.every((r) => r.category === "performance"));
  // The real catalogue: enabled performance rules with nothing in the period are listed, fired ones are not.
  t.true(e.ranking.neverFired.length > 0);
  t.false(e.ranking.neverFired.some((r) => r.ruleId === "memory-limits" || r.ruleId === "cpu-limits"));
  t.regex(result.text, /memory-limits {2}0 {2}2 {2}2\(1\/1\) {2}1 {2}0 {2}84 {2}93\.6/);

  const none = await analyzePolicyEffectiveness.run({ namespace: "default", days: 1 }, ctx);
  t.is((none.structured as { effectiveness: unknown }).effectiveness, null);
  t.regex(none.text, /No stored scan of namespace default on demo-cluster in the last 1 days/);

  for (const [args, where] of [
    [{ days: 0 }, "days"],
    [{ days: "7" }, "days"],
    [{ category: "speed" }, "category"],
    [{ namespace: "" }, "namespace"],
    [{ since: 3 }, "(arguments)"],
  ] as const) {
    const error = await t.throwsAsync(analyzePolicyEffectiveness.run(args, ctx));
    t.is((error as { details?: { where: string }[] }).details?.[0]?.where, where, JSON.stringify(args));
  }
});

test("the CLI: text and JSON, no data, bad input refused naming the option", async (t) => {
  const file = historyFile(Date.now());
  const env = { LOG_LEVEL: "silent" };
  const json = await runCli(["effectiveness", "--db", file, "--format", "json", "--namespace", "payments"], { from: "src", env });
  t.is(json.code, 0, json.stderr);
  const out = JSON.parse(json.stdout) as { namespace: string; days: number; effectiveness: PolicyEffectiveness };
  t.is(out.days, 30);
  t.is(out.namespace, "payments");
  t.like(rule(out.effectiveness, "memory-limits"), { opened: 1, exempted: 1, resolved: { total: 1, byKubePolicyFix: 0, otherwise: 1 }, timeToResolve: { medianHours: 72 } });
  t.like(rule(out.effectiveness, "replicas-minimum"), { opened: 2, recurred: 1, timeToResolve: { resolutions: 2, medianHours: 24 } });
  t.false(out.effectiveness.rules.some((r) => r.ruleId === "run-as-non-root" && r.activeInPeriod > 0));

  const text = await runCli(["effectiveness", "--db", file, "--days", "30", "--category", "security"], { from: "src", env });
  t.is(text.code, 0, text.stderr);
  t.regex(text.stdout, /Policy effectiveness of the whole cluster on demo-cluster, category security: last 30 days/);
  t.regex(text.stdout, /privileged-container {2}2 {2}3 {2}0\(0\/0\) {2}0 {2}1 {2}48 {2}48 {2}shop \(2\)/);
  t.regex(text.stdout, /High recurrence: privileged-container \(1\)/);
  t.notRegex(text.stdout, /memory-limits/);

  const empty = await runCli(["effectiveness", "--db", path.join(dir, `none-${counter++}.db`)], { from: "src", env });
  t.is(empty.code, 0, empty.stderr);
  t.regex(empty.stdout, /No stored scan of the whole cluster/);

  for (const [args, option] of [
    [["--days", "0"], "--days"],
    [["--days", "x"], "--days"],
    [["--namespace", "Bad_NS"], "--namespace"],
  ] as const) {
    const bad = await runCli(["effectiveness", "--db", file, ...args], { from: "src", env });
    t.is(bad.code, 2, args.join(" "));
    t.true(bad.stderr.includes(`${option}:`), bad.stderr);
  }
  const badCategory = await runCli(["effectiveness", "--db", file, "--category", "speed"], { from: "src", env });
  t.is(badCategory.code, 2);
  t.regex(badCategory.stderr, /--category/);
});
