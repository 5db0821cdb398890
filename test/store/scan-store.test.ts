// Covers src/store/scan-store.ts and migration 001: the scan row's life (running → succeeded / failed),
// the findings' lifecycle across scans (new, still open, resolved with a reason, kept when not judged,
// reopened), one transaction per scan, overlapping runs refused across connections, interrupted scans
// recovered (owner process gone, or heartbeat stale), retention, missed-run records, and the trend
// computed from them (scans/trends.ts). Real components: SQLite on a temporary file; a short-lived
// child process provides a pid that is certainly dead. Times are fixed numbers, not the wall clock.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import { openDatabase } from "../../src/store/db.js";
import { ScanBusyError, ScanStore, defaultOwner, type FindingInput, type ScanResultInput } from "../../src/store/scan-store.js";
import { computeTrend } from "../../src/scans/trends.js";

const dir = mkdtempSync(path.join(tmpdir(), "kube-policy-scans-"));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const freshFile = () => path.join(dir, `scans-${counter++}.db`);

const DAY = 86_400_000;
const T0 = Date.parse("2026-03-01T02:00:00Z");

function finding(ruleId: string, name: string, extra: Partial<FindingInput> = {}): FindingInput {
  return {
    ruleId,
    severity: "high",
    category: "security",
    outcome: "violation",
    apiVersion: "apps/v1",
    kind: "Deployment",
    namespace: "shop",
    name,
    pointer: `/spec/template/spec/containers/0/${ruleId}`,
    message: `${ruleId} on ${name}`,
    ...extra,
  };
}

function result(findings: FindingInput[], overrides: Partial<ScanResultInput> = {}): ScanResultInput {
  return {
    workloads: { total: 3, evaluated: 3, passed: 1, failed: 2, skipped: 0 },
    compliancePercent: 50,
    warnings: [],
    findings,
    namespaces: [{ namespace: "shop", workloads: 3, failed: 2 }],
    scores: [
      { namespace: "", dimension: "overall", key: "", percent: 50, passed: 5, failed: 5 },
      { namespace: "shop", dimension: "overall", key: "", percent: 50, passed: 5, failed: 5 },
      { namespace: "", dimension: "category", key: "security", percent: 40, passed: 2, failed: 3 },
      { namespace: "", dimension: "framework", key: "SOC2", percent: 60, passed: 3, failed: 2 },
    ],
    classify: () => "fixed",
    ...overrides,
  };
}

function scanAt(store: ScanStore, at: number, findings: FindingInput[], overrides: Partial<ScanResultInput> = {}, scope = "*") {
  const scan = store.begin({ name: `nightly-${scope}`, trigger: "schedule", cluster: "prod", scope, ruleSetHash: "abc", startedAt: at });
  return store.complete(scan.id, result(findings, { finishedAt: at + 60_000, ...overrides }));
}

const rows = (store: ScanStore) =>
  store.db.prepare("SELECT rule_id, name, first_seen_scan, last_seen_scan, resolved_scan, resolution FROM findings ORDER BY id").all() as {
    rule_id: string;
    name: string;
    first_seen_scan: number;
    last_seen_scan: number | null;
    resolved_scan: number | null;
    resolution: string | null;
  }[];

test("migration 001 creates the scan tables and their trend indexes", (t) => {
  const db = openDatabase(freshFile());
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name);
  for (const name of ["scans", "scan_scores", "scan_counts", "findings"]) t.true(tables.includes(name), name);
  const indexes = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").all() as { name: string }[]).map((r) => r.name);
  for (const name of ["findings_open", "findings_resolved", "scans_series", "scan_scores_namespace"]) t.true(indexes.includes(name), name);
  t.deepEqual(db.prepare("SELECT name FROM schema_migrations WHERE version = 1").get(), { name: "scans" });
  db.close();
});

test("findings open, stay open, resolve with the classifier's reason and reopen as a new interval", (t) => {
  const store = new ScanStore(openDatabase(freshFile()));
  const s1 = scanAt(store, T0, [finding("privileged-container", "api"), finding("latest-tag", "api"), finding("latest-tag", "web")]);
  t.is(s1.status, "succeeded");
  t.deepEqual(s1.findings, { open: 3, new: 3, resolved: 0 });
  t.is(s1.durationMs, 60_000);

  const s2 = scanAt(store, T0 + DAY, [finding("latest-tag", "api"), finding("latest-tag", "web"), finding("run-as-root", "web")], {
    classify: (row) => (row.ruleId === "privileged-container" ? "fixed" : "workload-removed"),
  });
  t.deepEqual(s2.findings, { open: 3, new: 1, resolved: 1 });
  const after2 = rows(store);
  const privileged = after2.find((r) => r.rule_id === "privileged-container")!;
  t.is(privileged.resolved_scan, s2.id);
  t.is(privileged.resolution, "fixed");
  t.is(privileged.last_seen_scan, s1.id, "a resolved finding was last seen by the scan before");
  t.is(after2.find((r) => r.rule_id === "latest-tag" && r.name === "api")!.last_seen_scan, null, "seen by the latest scan");
  t.is(after2.find((r) => r.rule_id === "run-as-root")!.first_seen_scan, s2.id);

  const s3 = scanAt(store, T0 + 2 * DAY, [finding("privileged-container", "api"), finding("latest-tag", "api"), finding("latest-tag", "web"), finding("run-as-root", "web")]);
  t.deepEqual(s3.findings, { open: 4, new: 1, resolved: 0 });
  const intervals = rows(store).filter((r) => r.rule_id === "privileged-container");
  t.is(intervals.length, 2, "the finding came back: a second interval, the first stays resolved");
  t.is(intervals[0]!.resolved_scan, s2.id);
  t.is(intervals[1]!.first_seen_scan, s3.id);
  t.is(intervals[1]!.resolved_scan, null);
});

test("a finding the scan could not judge stays open and keeps its last-seen scan until seen again", (t) => {
  const store = new ScanStore(openDatabase(freshFile()));
  const s1 = scanAt(store, T0, [finding("privileged-container", "api"), finding("network-policy", "api")]);
  const s2 = scanAt(store, T0 + DAY, [finding("privileged-container", "api")], { classify: () => "keep" });
  t.deepEqual(s2.findings, { open: 2, new: 0, resolved: 0 });
  const kept = () => rows(store).find((r) => r.rule_id === "network-policy")!;
  t.is(kept().resolved_scan, null);
  t.is(kept().last_seen_scan, s1.id);
  t.is(rows(store).find((r) => r.rule_id === "privileged-container")!.last_seen_scan, null, "seen by the latest scan");
  scanAt(store, T0 + 2 * DAY, [finding("privileged-container", "api")], { classify: () => "keep" });
  t.is(kept().last_seen_scan, s1.id, "still the scan that last saw it");
  const s4 = scanAt(store, T0 + 3 * DAY, [finding("privileged-container", "api")], { classify: () => "fixed" });
  t.deepEqual([kept().resolved_scan, kept().last_seen_scan], [s4.id, s1.id], "resolved, last seen by the first scan");
  scanAt(store, T0 + 4 * DAY, [finding("privileged-container", "api"), finding("latest-tag", "api")], { classify: () => "keep" });
  const s6 = scanAt(store, T0 + 5 * DAY, [finding("privileged-container", "api")], { classify: () => "keep" });
  scanAt(store, T0 + 6 * DAY, [finding("privileged-container", "api"), finding("latest-tag", "api")]);
  const latestTag = rows(store).find((r) => r.rule_id === "latest-tag")!;
  t.is(latestTag.last_seen_scan, null, "kept by one scan, seen again by the next: back to seen-by-the-latest");
  t.not(latestTag.first_seen_scan, s6.id);
});

test("the same field reported twice by one rule is one finding", (t) => {
  const store = new ScanStore(openDatabase(freshFile()));
  const s1 = scanAt(store, T0, [finding("latest-tag", "api"), finding("latest-tag", "api", { message: "said twice" })]);
  t.is(s1.findings.open, 1);
  t.is(rows(store).length, 1);
});

test("a scan's result is one transaction: a failure half-way leaves nothing of it", (t) => {
  const store = new ScanStore(openDatabase(freshFile()));
  scanAt(store, T0, [finding("privileged-container", "api"), finding("latest-tag", "api")]);
  const before = JSON.stringify(rows(store));
  const scan = store.begin({ name: "nightly-*", trigger: "schedule", cluster: "prod", scope: "*", ruleSetHash: "abc", startedAt: T0 + DAY });
  const error = t.throws(() =>
    store.complete(
      scan.id,
      result([finding("run-as-root", "web")], {
        classify: (row) => {
          if (row.ruleId === "latest-tag") throw new Error("classifier broke on the second row");
          return "fixed";
        },
      }),
    ),
  );
  t.regex(error.message, /classifier broke/);
  t.is(JSON.stringify(rows(store)), before, "no finding inserted, resolved or touched");
  t.is(store.get(scan.id)!.status, "running");
  t.is((store.db.prepare("SELECT COUNT(*) AS n FROM scan_scores WHERE scan_id = ?").get(scan.id) as { n: number }).n, 0);
  t.is(store.fail(scan.id, "classifier broke", "internal_error").status, "failed");
});

test("a running scan of the same name is refused, from this connection and from another one", (t) => {
  const file = freshFile();
  const store = new ScanStore(openDatabase(file));
  const other = new ScanStore(openDatabase(file));
  const first = store.begin({ name: "nightly", trigger: "schedule", cluster: "prod", scope: "*", ruleSetHash: "abc" });
  const again = t.throws(() => other.begin({ name: "nightly", trigger: "manual", cluster: "prod", scope: "*", ruleSetHash: "abc" }), { instanceOf: ScanBusyError });
  t.regex(again.message, new RegExp(`scan "nightly" is already running \\(scan ${first.id}`));
  t.is(again.status, 409);
  t.is(other.begin({ name: "weekly", trigger: "manual", cluster: "prod", scope: "*", ruleSetHash: "abc" }).status, "running", "another name runs");
  store.fail(first.id, "stopped by the test");
  t.is(other.begin({ name: "nightly", trigger: "manual", cluster: "prod", scope: "*", ruleSetHash: "abc" }).status, "running", "runs again once the first ended");
});

test("scans left running by a dead process or with a stale heartbeat are marked interrupted; live ones stay", (t) => {
  const file = freshFile();
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  const deadPid = Number(child.stdout);
  t.true(deadPid > 0);
  let now = T0;
  const dead = new ScanStore(openDatabase(file), { owner: `${defaultOwner().split(":")[0]}:${deadPid}`, clock: () => now });
  const live = new ScanStore(openDatabase(file), { clock: () => now });
  const killed = dead.begin({ name: "killed", trigger: "schedule", cluster: "prod", scope: "*", ruleSetHash: "abc" });
  const running = live.begin({ name: "running", trigger: "manual", cluster: "prod", scope: "*", ruleSetHash: "abc" });
  now += 5_000;
  const recovered = live.recoverInterrupted();
  t.deepEqual(recovered.map((s) => s.id), [killed.id]);
  t.is(recovered[0]!.status, "failed");
  t.is(recovered[0]!.errorCode, "interrupted");
  t.regex(recovered[0]!.reason!, /^interrupted: the process running it \(.+:\d+\) stopped before the scan finished/);
  t.is(recovered[0]!.finishedAt, new Date(T0).toISOString(), "it ended at its last heartbeat");
  t.is(live.get(running.id)!.status, "running", "a scan of a live process is left alone");

  now += 16 * 60_000; // no heartbeat for 16 minutes: abandoned, whoever the owner is
  t.deepEqual(live.recoverInterrupted().map((s) => s.id), [running.id]);
});

test("retention drops old scans with their scores and counts, and old resolved findings, but keeps open ones", (t) => {
  const store = new ScanStore(openDatabase(freshFile()));
  const old = scanAt(store, T0, [finding("privileged-container", "api"), finding("latest-tag", "api")]);
  scanAt(store, T0 + DAY, [finding("latest-tag", "api")]); // resolves privileged-container at T0 + 1 day
  const recent = scanAt(store, T0 + 40 * DAY, [finding("latest-tag", "api")]);
  const dropped = store.applyRetention(30, T0 + 41 * DAY);
  t.deepEqual(dropped, { scans: 2, findings: 1 });
  t.deepEqual(store.list().map((s) => s.id), [recent.id]);
  t.is((store.db.prepare("SELECT COUNT(*) AS n FROM scan_scores WHERE scan_id = ?").get(old.id) as { n: number }).n, 0);
  t.is((store.db.prepare("SELECT COUNT(*) AS n FROM scan_counts WHERE scan_id = ?").get(old.id) as { n: number }).n, 0);
  const left = rows(store);
  t.deepEqual(left.map((r) => r.rule_id), ["latest-tag"], "the open finding keeps its first-seen time from the dropped scan");
  t.is(left[0]!.first_seen_scan, old.id);
});

test("missed runs are stored as a failed scan that says how many and since when; last activity follows it", (t) => {
  let now = T0 + 3 * DAY + 10 * 3_600_000;
  const store = new ScanStore(openDatabase(freshFile()), { clock: () => now });
  scanAt(store, T0, []);
  t.is(store.lastActivity("nightly-*"), T0 + 60_000);
  t.is(store.lastActivity("never"), null);
  const missed = store.recordMissed({ name: "nightly-*", cluster: "prod", scope: "*", ruleSetHash: "abc", firstMissedAt: T0 + DAY, count: 3, lastRunAt: T0 + 60_000 });
  t.is(missed.status, "failed");
  t.is(missed.trigger, "missed");
  t.is(missed.reason, "missed 3 scheduled run(s) from 2026-03-02T02:00:00.000Z on: no kube-policy process was running since the last run at 2026-03-01T02:01:00.000Z");
  t.is(store.lastActivity("nightly-*"), now);
  t.deepEqual(store.list({ status: "failed" }).map((s) => s.id), [missed.id]);
});

test("the trend: score over time, changes since the previous scan, time to resolve, per namespace series", (t) => {
  const store = new ScanStore(openDatabase(freshFile()));
  const a = finding("privileged-container", "api", { severity: "critical" });
  const b = finding("latest-tag", "api", { severity: "medium", category: "operations" });
  const c = finding("latest-tag", "web", { severity: "medium", category: "operations" });
  const score = (percent: number) => [
    { namespace: "", dimension: "overall" as const, key: "", percent, passed: percent, failed: 100 - percent },
    { namespace: "shop", dimension: "overall" as const, key: "", percent, passed: percent, failed: 100 - percent },
    { namespace: "", dimension: "category" as const, key: "security", percent: percent - 10, passed: 1, failed: 1 },
  ];
  scanAt(store, T0, [a, b, c], { scores: score(50) });
  scanAt(store, T0 + DAY, [b, c], { scores: score(60) }); // a resolved after 1 day (+ the 1-minute scans)
  const last = scanAt(store, T0 + 3 * DAY, [b], { scores: score(75) }); // c resolved after 3 days
  // A namespace-scoped series of its own: the namespace trend prefers it to the cluster-wide scans.
  scanAt(store, T0 + 2 * DAY, [b], { scores: score(90) }, "shop");

  const trend = computeTrend(store, { cluster: "prod", days: 30, now: T0 + 4 * DAY })!;
  t.truthy(trend);
  t.deepEqual(trend.score.points.map((p) => p.percent), [50, 60, 75]);
  t.is(trend.score.change, 25);
  t.is(trend.scope.scannedNamespaces, null);
  t.deepEqual(trend.score.points.map((p) => [p.open, p.new, p.resolved]), [[3, 3, 0], [2, 0, 1], [1, 0, 1]]);
  t.is(trend.sincePrevious!.scanId, last.id);
  t.is(trend.sincePrevious!.stillOpen, 1);
  t.is(trend.sincePrevious!.scoreChange, 15);
  t.deepEqual(trend.sincePrevious!.resolvedFindings.map((f) => [f.ruleId, f.resource.name, f.resolution]), [["latest-tag", "web", "fixed"]]);
  t.deepEqual(trend.categories.map((d) => [d.key, d.first, d.latest]), [["security", 40, 65]]);
  const critical = trend.timeToResolve.bySeverity.find((s) => s.severity === "critical")!;
  t.is(critical.resolved, 1);
  t.is(critical.medianHours, 24);
  const medium = trend.timeToResolve.bySeverity.find((s) => s.severity === "medium")!;
  t.deepEqual([medium.resolved, medium.medianHours, medium.open, medium.oldestOpenDays], [1, 72, 1, 4]);
  const latestTag = trend.timeToResolve.byRule.find((r) => r.ruleId === "latest-tag")!;
  t.deepEqual([latestTag.resolved, latestTag.open], [1, 1]);

  const shop = computeTrend(store, { cluster: "prod", namespace: "shop", days: 30, now: T0 + 4 * DAY })!;
  t.deepEqual(shop.scope.scannedNamespaces, ["shop"]);
  t.deepEqual(shop.score.points.map((p) => p.percent), [90]);
  t.is(shop.sincePrevious, null, "one scan: nothing to compare with");
  t.is(computeTrend(store, { cluster: "prod", namespace: "other", days: 30, now: T0 + 4 * DAY }), null);
  t.is(computeTrend(store, { cluster: "staging", days: 30, now: T0 + 4 * DAY }), null, "another cluster has no history");
  t.is(computeTrend(store, { cluster: "prod", days: 1, now: T0 + 40 * DAY }), null, "nothing in the window");
});
