// Benchmark of policy effectiveness (src/scans/effectiveness.ts): 90 daily whole-cluster scans of about
// 100,000 open findings (10,000 workloads × 10 rules, with daily churn: fixes, removed and new workloads),
// written through ScanStore by scripts/bench-scan-history.ts's generator into a SQLite file; then
// computePolicyEffectiveness over 30 and 90 days for the cluster and one namespace, cold and warm.
//   npx tsx scripts/bench-effectiveness.ts [workloads=10000]
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PolicyBundle } from "../src/policy/bundle.js";
import { computePolicyEffectiveness } from "../src/scans/effectiveness.js";
import { openDatabase } from "../src/store/db.js";
import { ScanStore } from "../src/store/scan-store.js";
import { generateHistory, random, type FleetWorkload } from "./bench-scan-history.js";

const workloads = Number(process.argv[2] ?? 10_000);
const dir = mkdtempSync(path.join(tmpdir(), "kube-policy-bench-effectiveness-"));
try {
  const bundle = await PolicyBundle.load();
  const rand = random(7);
  const rules = bundle.catalogue;
  const fleet: FleetWorkload[] = Array.from({ length: workloads }, (_, i) => ({
    namespace: `ns-${i % 50}`,
    name: `app-${i}`,
    findings: Array.from({ length: 10 }, (_, k) => rules[(i + k * 5 + Math.floor(rand() * 3)) % rules.length]!)
      .filter((r, k, all) => all.findIndex((x) => x.id === r.id) === k)
      .map((r) => ({ ruleId: r.id, severity: r.severity, category: r.category, outcome: "violation" as const, apiVersion: "apps/v1", kind: "Deployment", pointer: `/spec/${r.id}`, message: r.id })),
  }));
  const now = Date.UTC(2026, 5, 1);
  // BENCH_EFFECTIVENESS_DB=file keeps the history there and reuses it on the next run.
  const keep = process.env.BENCH_EFFECTIVENESS_DB;
  const file = keep ?? path.join(dir, "history.db");
  const reuse = keep !== undefined && existsSync(keep);
  const writer = new ScanStore(openDatabase(file));
  const started = Date.now();
  const findingsPerScan = reuse ? [NaN] : generateHistory(writer, bundle, fleet, { days: 90, now, cluster: "bench" }).findingsPerScan;
  const writeMs = Date.now() - started;
  const rows = (writer.db.prepare("SELECT COUNT(*) AS n FROM findings").get() as { n: number }).n;
  writer.db.close();

  const ruleInfo = rules.map((r) => ({ id: r.id, category: r.category, severity: r.severity, enabled: true }));
  const time = (label: string, args: { namespace?: string; days: number }) => {
    const reader = new ScanStore(openDatabase(file)); // a fresh connection: the first query is cold
    const ms: number[] = [];
    let rulesOut = 0;
    for (let i = 0; i < 4; i++) {
      const t0 = process.hrtime.bigint();
      const e = computePolicyEffectiveness(reader, { cluster: "bench", now: now + 60_000, rules: ruleInfo, ...args });
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
      rulesOut = e?.rules.length ?? -1;
    }
    reader.db.close();
    const warm = [...ms.slice(1)].sort((a, b) => a - b)[1]!;
    console.log(`${label}: cold ${ms[0]!.toFixed(0)} ms, warm ${warm.toFixed(0)} ms (${rulesOut} rules)`);
  };
  console.log(`history: 90 scans, ${findingsPerScan.at(-1)} open findings in the last, ${rows} finding rows, written in ${(writeMs / 1000).toFixed(1)} s`);
  time("whole cluster, 30 days", { days: 30 });
  time("whole cluster, 90 days", { days: 90 });
  time("namespace ns-7, 30 days", { namespace: "ns-7", days: 30 });
  time("category security, 30 days", { days: 30, category: "security" } as { days: number });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
