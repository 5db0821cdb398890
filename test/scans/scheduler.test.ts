// Covers src/scans/scheduler.ts: node-cron really triggers configured scans (an every-second schedule,
// bounded waits) and stops when told; a run still busy when the next one is due is refused (node-cron
// overlap, and the store across callers: a manual run of the same scan gets 409); invalid schedules are
// refused before anything starts; on start, scans a dead process left running are reported interrupted
// and runs missed while no process was up are stored as a failed "missed" scan, once; `kube-policy serve`
// with scans in its configuration runs them. Real components: node-cron, SQLite on temporary files, the
// compiled policy bundle, the bundled demo manifests as the workload source (a wrapper that delays
// collect() stands in for a slow cluster in the overlap test), the compiled CLI for serve (dist/, built
// by `npm test` before ava).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { ConfigError } from "../../src/errors.js";
import type { PolicyConfig } from "../../src/config/types.js";
import { MemorySource } from "../../src/kube/memory-source.js";
import type { WorkloadSource } from "../../src/kube/source.js";
import { PolicyBundle } from "../../src/policy/bundle.js";
import { Runtime } from "../../src/runtime.js";
import { runScan, scanStoreFor } from "../../src/scans/scan.js";
import { ScanScheduler, startScheduler } from "../../src/scans/scheduler.js";
import { openDatabase } from "../../src/store/db.js";
import { ScanBusyError, ScanStore, defaultOwner } from "../../src/store/scan-store.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), "kube-policy-scheduler-"));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const dbFile = () => path.join(dir, `history-${counter++}.db`);

// Loaded once, awaited inside the tests (ava wants tests declared synchronously).
const loading = Promise.all([PolicyBundle.load(), MemorySource.demo()]);
let bundle: PolicyBundle;
let demo: MemorySource;
test.before(async () => {
  [bundle, demo] = await loading;
});

function runtimeWith(config: PolicyConfig, source: WorkloadSource = demo, databasePath = dbFile()): Runtime {
  return new Runtime(config, bundle, source, { databasePath });
}

/** The demo, answering collect() only after `ms`: a slow cluster. */
function slowSource(ms: number): WorkloadSource {
  return {
    description: "demo manifests, slowly",
    clusterName: demo.clusterName,
    writable: false,
    collect: async (options) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return demo.collect(options);
    },
    getWorkload: (ref) => demo.getWorkload(ref),
  };
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test("an every-second schedule runs scans until the scheduler stops", async (t) => {
  const runtime = runtimeWith({ scans: [{ name: "tick", cron: "* * * * * *" }] });
  const events: string[] = [];
  const started = startScheduler(runtime, { onRun: (e) => events.push(e.scan?.status ?? `error:${e.error?.message}`) });
  t.truthy(started);
  const store = scanStoreFor(runtime);
  try {
    await until("two scheduled scans", () => store.list({ name: "tick", status: "succeeded" }).length >= 2, 10_000);
  } finally {
    await started!.scheduler.stop();
  }
  const scans = store.list({ name: "tick" });
  t.true(scans.every((s) => s.trigger === "schedule"));
  t.true(scans.every((s) => s.workloads.evaluated === 4), "the demo's four workloads each time");
  t.true(events.filter((e) => e === "succeeded").length >= 2);
  const count = store.list({ name: "tick", limit: 100 }).length;
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  t.is(store.list({ name: "tick", limit: 100 }).length, count, "no scan after stop()");
  await runtime.close();
});

test("no configured scans: no scheduler", (t) => {
  t.is(startScheduler(runtimeWith({})), null);
});

test("a scan still running when its next run is due is not started twice; a manual run of it is refused", async (t) => {
  const runtime = runtimeWith({ scans: [{ name: "slow", cron: "* * * * * *" }] }, slowSource(2_500));
  const refused: string[] = [];
  const { scheduler } = startScheduler(runtime, { onRun: (e) => e.error && !e.scan && refused.push(e.error.message) })!;
  const store = scanStoreFor(runtime);
  try {
    await until("the slow scan to start", () => store.list({ name: "slow", status: "running" }).length === 1, 5_000);
    const manual = await t.throwsAsync(runScan(runtime, { name: "slow" }), { instanceOf: ScanBusyError });
    t.is(manual.status, 409);
    await until("a refused overlapping run", () => refused.length > 0, 5_000);
    await until("the slow scan to finish", () => store.list({ name: "slow", status: "succeeded" }).length >= 1, 8_000);
  } finally {
    await scheduler.stop();
  }
  const scans = store.list({ name: "slow", limit: 100 }).reverse();
  t.true(scans.length >= 1);
  for (let i = 1; i < scans.length; i++) {
    t.true(Date.parse(scans[i]!.startedAt) >= Date.parse(scans[i - 1]!.finishedAt ?? scans[i - 1]!.startedAt), "runs never overlap");
  }
  t.true(refused.length > 0);
  await runtime.close();
});

test("invalid schedules are refused with their JSON paths before anything is scheduled", (t) => {
  const runtime = runtimeWith({ scans: [{ name: "bad", cron: "every day" }, { name: "tz", cron: "0 2 * * *", timezone: "Nowhere/Land" }] });
  const scheduler = new ScanScheduler(runtime);
  const error = t.throws(() => scheduler.start(), { instanceOf: ConfigError });
  t.deepEqual(error.details.map((d) => d.where), ["/scans/0/cron", "/scans/1/timezone"]);
  t.deepEqual(scheduler.nextRuns(), []);
});

test("on start: a scan a killed process left running is reported interrupted, missed runs are stored once", async (t) => {
  const file = dbFile();
  const now = Date.parse("2026-03-04T12:00:00Z");
  // History written before this "process" started: a nightly scan three and a half days ago, and a scan
  // whose process died (a pid that certainly exited).
  const before = new ScanStore(openDatabase(file));
  const last = before.begin({ name: "nightly", trigger: "schedule", cluster: demo.clusterName, scope: "*", ruleSetHash: bundle.hash, startedAt: Date.parse("2026-03-01T02:00:00Z") });
  before.fail(last.id, "ended for the test");
  before.db.prepare("UPDATE scans SET finished_at = ?, heartbeat_at = ? WHERE id = ?").run(Date.parse("2026-03-01T02:05:00Z"), Date.parse("2026-03-01T02:05:00Z"), last.id);
  const deadPid = Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout);
  const orphan = new ScanStore(before.db, { owner: `${defaultOwner().split(":")[0]}:${deadPid}` }).begin({
    name: "weekly",
    trigger: "schedule",
    cluster: demo.clusterName,
    scope: "*",
    ruleSetHash: bundle.hash,
  });
  before.db.close();

  const runtime = runtimeWith({ scans: [{ name: "nightly", cron: "0 2 * * *", timezone: "UTC" }] }, demo, file);
  const scheduler = new ScanScheduler(runtime, { now: () => now });
  const started = scheduler.start();
  await scheduler.stop();
  t.deepEqual(started.interrupted.map((s) => [s.id, s.status, s.errorCode]), [[orphan.id, "failed", "interrupted"]]);
  t.is(started.missed.length, 1);
  const missed = started.missed[0]!;
  t.is(missed.name, "nightly");
  t.is(missed.trigger, "missed");
  t.is(missed.status, "failed");
  t.regex(missed.reason!, /^missed 3 scheduled run\(s\) from 2026-03-02T02:00:00\.000Z on/);

  const restarted = new ScanScheduler(runtime, { now: () => now + 60_000 });
  const again = restarted.start();
  await restarted.stop();
  t.deepEqual(again.missed, [], "the gap is reported once");
  t.deepEqual(again.interrupted, []);
  await runtime.close();
});

test("kube-policy serve runs the configured scans on their schedule", async (t) => {
  const history = dbFile();
  const config = path.join(dir, "serve-config.json");
  writeFileSync(config, JSON.stringify({ scans: [{ name: "serve-tick", cron: "* * * * * *" }], storage: { path: history } }));
  const child = spawn(process.execPath, ["bin/kube-policy.js", "serve", "--http", "0", "--demo", "--config", config, "--no-watch"], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: "warn" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  try {
    await until(
      "a scheduled scan stored by serve",
      () => {
        if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode}: ${stderr}`);
        try {
          const db = openDatabase(history);
          const n = (db.prepare("SELECT COUNT(*) AS n FROM scans WHERE name = 'serve-tick' AND status = 'succeeded' AND trigger = 'schedule'").get() as { n: number }).n;
          db.close();
          return n >= 1;
        } catch {
          return false; // not created yet
        }
      },
      20_000,
    );
  } finally {
    child.kill("SIGTERM");
  }
  // SIGTERM stops the scheduler with the server; a process still alive after 10 s failed to stop.
  const code = await Promise.race([exited, new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), 10_000))]);
  if (code === "hung") child.kill("SIGKILL");
  t.is(code, 0, stderr);
});

test("a scan applies storage.retentionDays: older scans go, the new one and its history stay", async (t) => {
  const runtime = runtimeWith({ storage: { retentionDays: 7 } });
  const store = scanStoreFor(runtime);
  const old = store.begin({ name: "old", trigger: "manual", cluster: demo.clusterName, scope: "*", ruleSetHash: bundle.hash, startedAt: Date.now() - 30 * 86_400_000 });
  store.fail(old.id, "old failure");
  const recent = store.begin({ name: "recent", trigger: "manual", cluster: demo.clusterName, scope: "*", ruleSetHash: bundle.hash, startedAt: Date.now() - 2 * 86_400_000 });
  store.fail(recent.id, "recent failure");
  const scan = await runScan(runtime, {});
  t.deepEqual(store.list({ limit: 10 }).map((s) => s.id).sort(), [recent.id, scan.id].sort());
  t.is(store.get(old.id), null);
  await runtime.close();
});
