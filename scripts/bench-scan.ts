// Benchmark of scans and trends: (1) a whole-cluster scan of 5,000 Deployments on a real kube-apiserver
// (the test harness), stored in SQLite, in a fresh child process so its peak RSS is the scan's own;
// (2) a trend query over 90 days of daily scans of that size, the history generated through the store
// API with churn (fixes, new and removed workloads every day). Records the numbers in BENCHMARKS.md.
//   npm run build && npx tsx scripts/bench-scan.ts [--namespaces 25] [--per-namespace 200] [--days 90] [--no-write] [--skip-history]
import { seedBenchCluster } from "./lib/workloads.js";
import { writeBenchmarkSection } from "./lib/benchmarks-md.js";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startCluster } from "../test/harness/cluster.js";
import { ClusterSource } from "../src/kube/cluster-source.js";
import { KubeClient } from "../src/kube/client.js";
import type { WorkloadSource } from "../src/kube/source.js";
import { PolicyBundle } from "../src/policy/bundle.js";
import { Runtime } from "../src/runtime.js";
import { runScan } from "../src/scans/scan.js";
import { computeTrend } from "../src/scans/trends.js";
import { openDatabase } from "../src/store/db.js";
import { ScanStore } from "../src/store/scan-store.js";
import { fleetFromStore, generateHistory } from "./bench-scan-history.js";
import { PACKAGE_ROOT } from "../src/paths.js";

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);

// ---- child mode: one scan, timed by phase ----
if (args[0] === "--child") {
  const [, kubeconfig, db] = args as [string, string, string];
  const bundle = await PolicyBundle.load();
  const cluster = ClusterSource.connect({ kind: "file", path: kubeconfig });
  let collectMs = 0;
  // Delegates to the real ClusterSource, timing its collect() (the API lists and the facts).
  const source: WorkloadSource = {
    description: cluster.description,
    clusterName: cluster.clusterName,
    writable: cluster.writable,
    getWorkload: (ref) => cluster.getWorkload(ref),
    collect: async (options) => {
      const t = performance.now();
      const result = await cluster.collect(options);
      collectMs = performance.now() - t;
      return result;
    },
  };
  const runtime = new Runtime({ organization: { compliance: ["SOC2", "ISO27001", "CIS"] } }, bundle, source, { databasePath: db });
  let lastProgress = 0;
  const started = performance.now();
  const scan = await runScan(runtime, { name: "bench" }, { progress: () => void (lastProgress = performance.now()) });
  const totalMs = performance.now() - started;
  const evaluateMs = lastProgress - started - collectMs;
  process.stdout.write(
    JSON.stringify({
      seconds: totalMs / 1000,
      collectMs,
      evaluateMs,
      storeMs: totalMs - collectMs - evaluateMs,
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
      workloads: scan.workloads.evaluated,
      findings: scan.findings.open,
      requests: cluster.client.requests,
      compliance: scan.compliancePercent,
    }),
  );
  await runtime.close();
  process.exit(0);
}

const namespaces = option("--namespaces", 25);
const perNamespace = option("--per-namespace", 200);
const days = option("--days", 90);
const write = !args.includes("--no-write");
const skipHistory = args.includes("--skip-history");


interface ScanNumbers {
  seconds: number;
  collectMs: number;
  evaluateMs: number;
  storeMs: number;
  maxRssMiB: number;
  workloads: number;
  findings: number;
  requests: number;
  compliance: number | null;
}

/** `kube-policy scan` as a user runs it (the compiled CLI), with its peak RSS read by a preload. */
function cliScan(kubeconfig: string, db: string): Promise<{ durationMs: number; wallSeconds: number; maxRssMiB: number; open: number; evaluated: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(
      process.execPath,
      ["--import", path.join(PACKAGE_ROOT, "scripts/print-max-rss.mjs"), path.join(PACKAGE_ROOT, "bin/kube-policy.js"), "scan", "--kubeconfig", kubeconfig, "--db", db, "--format", "json"],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LOG_LEVEL: "warn" } },
    );
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
    child.on("error", reject);
    child.on("close", (code) => {
      const rss = /max-rss-kib (\d+)/.exec(err);
      if (code !== 0 || !rss) return reject(new Error(`kube-policy scan exited ${code}: ${err}`));
      const scan = JSON.parse(out) as { durationMs: number; findings: { open: number }; workloads: { evaluated: number } };
      resolve({ durationMs: scan.durationMs, wallSeconds: (performance.now() - started) / 1000, maxRssMiB: Number(rss[1]) / 1024, open: scan.findings.open, evaluated: scan.workloads.evaluated });
    });
  });
}

function childScan(kubeconfig: string, db: string): Promise<ScanNumbers> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--child", kubeconfig, db], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(JSON.parse(out) as ScanNumbers) : reject(new Error(`scan child exited ${code}: ${out}`))));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

type CliNumbers = Awaited<ReturnType<typeof cliScan>>;

/** (2) 90 days of daily scans of the scanned size, starting from the real scan's open findings, then the trend queries and the report. */
async function history(scanDb: string, scans: { cliFirst: CliNumbers; cliSecond: CliNumbers; firstScan: ScanNumbers; secondScan: ScanNumbers; total: number }): Promise<void> {
  const { cliFirst, cliSecond, firstScan, secondScan, total } = scans;
  const bundle = await PolicyBundle.load();
  const scanned = new ScanStore(openDatabase(scanDb));
  const fleet = fleetFromStore(scanned);
  scanned.db.close();
  const historyDb = path.join(tmp, "history.db");
  const store = new ScanStore(openDatabase(historyDb));
  const now = Date.now();
  const tg = performance.now();
  const { perScanMs, findingsPerScan } = generateHistory(store, bundle, fleet, { days, now, cluster: "bench" });
  const generateSeconds = (performance.now() - tg) / 1000;
  const dbMiB = (store.db.prepare("SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()").get() as { bytes: number }).bytes / 1048576;
  const findingRows = (store.db.prepare("SELECT COUNT(*) AS n FROM findings").get() as { n: number }).n;
  store.db.close();
  // A fresh connection, as a server answering get_compliance_trends would have: the first query is cold.
  const reader = new ScanStore(openDatabase(historyDb));
  const timings: number[] = [];
  let trendScans = 0;
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    const trend = computeTrend(reader, { cluster: "bench", days, now: now + 60_000 });
    timings.push(performance.now() - t);
    trendScans = trend?.scans.succeeded ?? 0;
  }
  const nsTimings: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    computeTrend(reader, { cluster: "bench", namespace: "team-3", days, now: now + 60_000 });
    nsTimings.push(performance.now() - t);
  }
  reader.db.close();

  const out = {
    trendColdMs: timings[0]!,
    trendWarmMs: median(timings.slice(1)),
    namespaceTrendMs: median(nsTimings),
    trendScans,
    historyFindingRows: findingRows,
    historyMiB: dbMiB,
    generateSeconds,
    storeScanMedianMs: median(perScanMs),
    findingsPerScanMin: Math.min(...findingsPerScan),
    findingsPerScanMax: Math.max(...findingsPerScan),
  };
  console.log(JSON.stringify({ cliFirst, cliSecond, firstScan, secondScan, ...out }, null, 2));
  if (!write) return;
  const phase = (s: ScanNumbers) =>
    `API lists ${(s.collectMs / 1000).toFixed(2)} s (${s.requests} requests), evaluation ${(s.evaluateMs / 1000).toFixed(2)} s, scores and storing ${(s.storeMs / 1000).toFixed(2)} s`;
  const section = [
    "## bench-scan: scans and trends on a real kube-apiserver",
    "",
    `Run \`npm run build && npx tsx scripts/bench-scan.ts\` (${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0]?.model ?? "unknown CPU"}, ${os.cpus().length} cores, Node ${process.version}; load average ${loadAtStart} when it started, ${os.loadavg()[0]!.toFixed(1)} at the end: other work on the machine slows every number).`,
    `kube-apiserver v1.34.4 + etcd v3.6.16 on 127.0.0.1 (the test harness), ${total.toLocaleString("en")} Deployments in ${namespaces} namespaces (a third hardened, the rest with typical violations), all ${bundle.catalogue.length} rules.`,
    "The scan is `kube-policy scan --kubeconfig ... --db ...` of the whole cluster, the compiled CLI in its own process (its peak RSS is Node, the Kubernetes client, the wasm engine, the lists, the results and SQLite), stored with scores per namespace, category and framework; the phases come from the same scan run in process with a timing wrapper around the source.",
    `The history is ${days} daily scans of that size written through \`ScanStore\`, starting from the real scan's open findings (${out.findingsPerScanMin.toLocaleString("en")}-${out.findingsPerScanMax.toLocaleString("en")} open per scan); each day 2% of the workloads get fixes and 0.5% are replaced by new ones. Then \`computeTrend\` (what get_compliance_trends and the report's trend section run) over ${days} days on a fresh connection.`,
    "",
    "| metric | value | target |",
    "|---|---|---|",
    `| \`kube-policy scan\` of ${cliFirst.evaluated.toLocaleString("en")} workloads, empty history | ${(cliFirst.durationMs / 1000).toFixed(2)} s (process ${cliFirst.wallSeconds.toFixed(2)} s) | < 10 s |`,
    `| the same scan again (diffed against the first) | ${(cliSecond.durationMs / 1000).toFixed(2)} s (process ${cliSecond.wallSeconds.toFixed(2)} s) | < 10 s |`,
    `| peak RSS of the \`kube-policy scan\` process | ${Math.max(cliFirst.maxRssMiB, cliSecond.maxRssMiB).toFixed(0)} MiB (${cliFirst.maxRssMiB.toFixed(0)} and ${cliSecond.maxRssMiB.toFixed(0)}) | < 400 MB |`,
    `| where the time goes, first scan | ${phase(firstScan)} | |`,
    `| where the time goes, again | ${phase(secondScan)} | |`,
    `| open findings stored per scan | ${cliFirst.open.toLocaleString("en")} | |`,
    `| trend query, ${days} days (${out.trendScans} scans), whole cluster | ${out.trendColdMs.toFixed(0)} ms cold, ${out.trendWarmMs.toFixed(0)} ms warm | < 200 ms |`,
    `| trend query, ${days} days, one namespace | ${out.namespaceTrendMs.toFixed(0)} ms | < 200 ms |`,
    `| history after ${days} days | ${out.historyMiB.toFixed(0)} MiB, ${out.historyFindingRows.toLocaleString("en")} finding intervals | |`,
    `| storing one day's result (one transaction) | ${out.storeScanMedianMs.toFixed(0)} ms median | |`,
    "",
  ].join("\n");
  await writeBenchmarkSection(section);
}

const loadAtStart = os.loadavg()[0]!.toFixed(1);
if (!existsSync(path.join(PACKAGE_ROOT, "dist/cli/scan.js"))) {
  process.stderr.write("bench-scan runs the compiled CLI: run `npm run build` first\n");
  process.exit(2);
}
const tmp = mkdtempSync(path.join(os.tmpdir(), "kube-policy-bench-scan-"));
const cluster = await startCluster({ log: (m) => process.stderr.write(`cluster: ${m}\n`) });
try {
  const admin = KubeClient.load({ kind: "file", path: cluster.adminKubeconfig });
  const seeded = await seedBenchCluster(admin, namespaces, perNamespace);
  const total = seeded.total;
  process.stderr.write(`created ${total} deployments in ${seeded.seconds.toFixed(1)} s\n`);

  // (1) `kube-policy scan`, twice: into an empty history, then diffing against the first; then the same
  // scan in process, timed by phase.
  const scanDb = path.join(tmp, "scan.db");
  const cliFirst = await cliScan(cluster.adminKubeconfig, scanDb);
  const cliSecond = await cliScan(cluster.adminKubeconfig, scanDb);
  const firstScan = await childScan(cluster.adminKubeconfig, scanDb);
  const secondScan = await childScan(cluster.adminKubeconfig, scanDb);
  process.stderr.write(`cli: ${JSON.stringify(cliFirst)}\ncli again: ${JSON.stringify(cliSecond)}\nphases: ${JSON.stringify(firstScan)}\n${JSON.stringify(secondScan)}\n`);

  if (skipHistory) {
    console.log(JSON.stringify({ cliFirst, cliSecond, firstScan, secondScan }, null, 2));
  } else {
    await history(scanDb, { cliFirst, cliSecond, firstScan, secondScan, total });
  }
} finally {
  await cluster.stop();
  rmSync(tmp, { recursive: true, force: true });
}
