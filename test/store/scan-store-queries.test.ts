// Covers the read queries src/store/scan-store.ts offers the dashboard and /metrics: the newest
// succeeded scan per series (per cluster or all), one scan's scores and counts, open findings grouped
// and per workload, the filtered and paged finding list (an empty list filter keeps nothing; resolved
// intervals only when asked, after the open ones), and per-name scan statistics.
// Real components: SQLite on a temporary file, written through ScanStore's own API. Times are fixed.
import { rmSync } from "node:fs";
import path from "node:path";
import test from "ava";
import { openDatabase } from "../../src/store/db.js";
import { ScanStore, type FindingInput } from "../../src/store/scan-store.js";
import { tempDir } from "../http/dashboard/fixture.js";

const dir = tempDir("kube-policy-scan-queries-");
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.parse("2026-03-01T02:00:00Z");
const H = 3_600_000;

function f(namespace: string, name: string, ruleId: string, severity: string, category = "security"): FindingInput {
  return { ruleId, severity, category, outcome: "violation", apiVersion: "apps/v1", kind: "Deployment", namespace, name, pointer: `/x/${ruleId}`, message: `${ruleId} on ${name}` };
}

function scan(store: ScanStore, at: number, cluster: string, scope: string, findings: FindingInput[], name = `n-${scope}`) {
  const s = store.begin({ name, trigger: "manual", cluster, scope, ruleSetHash: "h", startedAt: at });
  const namespaces = [...new Set(findings.map((x) => x.namespace))].map((namespace) => ({ namespace, workloads: 2, failed: 1 }));
  return store.complete(s.id, {
    finishedAt: at + 1000,
    workloads: { total: 4, evaluated: 4, passed: 2, failed: 2, skipped: 0 },
    compliancePercent: 50,
    warnings: [],
    findings,
    namespaces,
    scores: [{ namespace: "", dimension: "overall", key: "", percent: 50, passed: 1, failed: 1 }],
    classify: () => "fixed",
  });
}

function fresh(): ScanStore {
  return new ScanStore(openDatabase(path.join(dir, `${Math.random().toString(36).slice(2)}.db`)), { clock: () => T0 + 100 * H });
}

test("latestSucceededPerSeries: one scan per (cluster, scope), newest first, failed ones ignored", (t) => {
  const store = fresh();
  scan(store, T0, "a", "*", [f("x", "w", "r1", "high")]);
  const a2 = scan(store, T0 + H, "a", "*", []);
  const ax = scan(store, T0 + 2 * H, "a", "x", [f("x", "w", "r1", "high")]);
  const b = scan(store, T0 + 3 * H, "b", "*", []);
  const failed = store.begin({ name: "n-*", trigger: "manual", cluster: "a", scope: "*", ruleSetHash: "h", startedAt: T0 + 4 * H });
  store.fail(failed.id, "boom");
  t.deepEqual(store.latestSucceededPerSeries().map((s) => s.id), [b.id, ax.id, a2.id]);
  t.deepEqual(store.latestSucceededPerSeries("a").map((s) => s.id), [ax.id, a2.id]);
  t.deepEqual(store.latestSucceededPerSeries("c"), []);
});

test("findFindings filters by lists, workload and page; open before resolved, most severe first", (t) => {
  const store = fresh();
  scan(store, T0, "a", "*", [f("x", "api", "r1", "low"), f("x", "api", "r2", "critical"), f("y", "web", "r3", "high", "cost"), f("x", "web", "r4", "medium")]);
  scan(store, T0 + H, "a", "*", [f("x", "api", "r1", "low"), f("x", "api", "r2", "critical"), f("y", "web", "r3", "high", "cost")]);
  const series = { cluster: "a", scope: "*" };
  const all = store.findFindings(series, {}, { limit: 10, offset: 0 });
  t.is(all.total, 3);
  t.deepEqual(all.rows.map((r) => r.ruleId), ["r2", "r3", "r1"]);
  t.deepEqual(store.findFindings(series, { namespaces: [] }, { limit: 10, offset: 0 }).total, 0, "an empty list keeps none");
  t.deepEqual(store.findFindings(series, { namespaces: ["x"], severities: ["low", "critical"] }, { limit: 10, offset: 0 }).rows.map((r) => r.ruleId), ["r2", "r1"]);
  t.deepEqual(store.findFindings(series, { categories: ["cost"] }, { limit: 10, offset: 0 }).rows.map((r) => r.ruleId), ["r3"]);
  t.deepEqual(store.findFindings(series, { ruleIds: ["r1", "r3"] }, { limit: 1, offset: 1 }), { total: 2, rows: [store.findFindings(series, { ruleIds: ["r1"] }, { limit: 1, offset: 0 }).rows[0]!] });
  const web = store.findFindings(series, { workload: { kind: "Deployment", namespace: "x", name: "web" }, includeResolved: true }, { limit: 10, offset: 0 });
  t.deepEqual(web.rows.map((r) => [r.ruleId, r.resolution]), [["r4", "fixed"]], "resolved history only when asked");
  t.is(store.findFindings(series, { workload: { kind: "Deployment", namespace: "x", name: "web" } }, { limit: 10, offset: 0 }).total, 0);
});

test("openFindingGroups and openByWorkload count the open findings of a series", (t) => {
  const store = fresh();
  scan(store, T0, "a", "*", [f("x", "api", "r1", "low"), f("x", "api", "r2", "critical"), f("x", "web", "r1", "low"), f("y", "web", "r1", "low")]);
  const series = { cluster: "a", scope: "*" };
  const groups = store.openFindingGroups(series).sort((p, q) => `${p.namespace}${p.ruleId}`.localeCompare(`${q.namespace}${q.ruleId}`));
  t.deepEqual(groups, [
    { namespace: "x", ruleId: "r1", severity: "low", category: "security", open: 2, workloads: 2 },
    { namespace: "x", ruleId: "r2", severity: "critical", category: "security", open: 1, workloads: 1 },
    { namespace: "y", ruleId: "r1", severity: "low", category: "security", open: 1, workloads: 1 },
  ]);
  t.deepEqual(store.openFindingGroups(series, { namespaces: ["y"] }).length, 1);
  const top = store.openByWorkload(series, {}, 2);
  t.deepEqual(top.map((w) => [w.namespace, w.name, w.open, w.bySeverity.critical]), [["x", "api", 2, 1], ["x", "web", 1, 0]]);
});

test("scoresOfScan, countsOfScan and scanNameStats", (t) => {
  const store = fresh();
  const s1 = scan(store, T0, "a", "*", [f("x", "api", "r1", "high")], "nightly");
  t.deepEqual(store.scoresOfScan(s1.id), [{ namespace: "", dimension: "overall", key: "", percent: 50, passed: 1, failed: 1 }]);
  t.deepEqual(
    store.countsOfScan(s1.id).map((c) => [c.namespace, c.open, c.bySeverity.high, c.workloads]),
    [["", 1, 1, 4], ["x", 1, 1, 2]],
  );
  const failed = store.begin({ name: "nightly", trigger: "manual", cluster: "a", scope: "*", ruleSetHash: "h", startedAt: T0 + H });
  store.fail(failed.id, "boom");
  store.begin({ name: "other", trigger: "manual", cluster: "a", scope: "x", ruleSetHash: "h", startedAt: T0 + 2 * H });
  const stats = store.scanNameStats();
  t.deepEqual(
    stats.map((s) => [s.name, s.succeeded, s.failed, s.running, s.lastSuccessAt, s.lastFailureAt, s.lastFinished?.id ?? null]),
    [
      ["nightly", 1, 1, 0, T0 + 1000, T0 + 100 * H, failed.id],
      ["other", 0, 0, 1, null, null, null],
    ],
  );
});
