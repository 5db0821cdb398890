// The history generator of scripts/bench-scan.ts: daily scans written through ScanStore as runScan
// would write them, starting from a real scan's open findings, with churn every day (fixes, removed and
// new workloads). Seeded, so every run writes the same history.
import type { PolicyBundle } from "../src/policy/bundle.js";
import type { FindingInput, ScanStore, ScoreInput } from "../src/store/scan-store.js";

export interface FleetWorkload {
  namespace: string;
  name: string;
  findings: Omit<FindingInput, "namespace" | "name">[];
}

/** A seeded pseudo-random generator (mulberry32). */
export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** The open findings of the latest scan in a history database, grouped by workload. */
export function fleetFromStore(store: ScanStore): FleetWorkload[] {
  const byWorkload = new Map<string, FleetWorkload>();
  for (const row of store.db
    .prepare("SELECT rule_id, severity, category, outcome, api_version, kind, namespace, name, pointer, message FROM findings WHERE resolved_at IS NULL")
    .all() as { rule_id: string; severity: string; category: string; outcome: "violation" | "warning"; api_version: string; kind: string; namespace: string; name: string; pointer: string; message: string }[]) {
    const key = `${row.namespace}/${row.name}`;
    const w = byWorkload.get(key) ?? byWorkload.set(key, { namespace: row.namespace, name: row.name, findings: [] }).get(key)!;
    w.findings.push({ ruleId: row.rule_id, severity: row.severity, category: row.category, outcome: row.outcome, apiVersion: row.api_version, kind: row.kind, pointer: row.pointer, message: row.message });
  }
  return [...byWorkload.values()];
}

/**
 * `days` daily scans ending at `now`. Each day about 2% of the workloads get a fix (two of their
 * findings go), 0.5% are deleted and as many new ones are deployed (a copy of a random workload's
 * findings under a new name); scores per namespace, category and framework follow the open findings.
 */
export function generateHistory(
  store: ScanStore,
  bundle: PolicyBundle,
  base: FleetWorkload[],
  options: { days: number; now: number; cluster: string },
): { perScanMs: number[]; findingsPerScan: number[] } {
  const rand = random(42);
  const frameworks = [...new Set(bundle.catalogue.flatMap((r) => Object.keys(r.frameworks)))];
  const categories = [...new Set(bundle.catalogue.map((r) => r.category))];
  let fleet = base.map((w) => ({ ...w, findings: [...w.findings] }));
  const size = fleet.length;
  let serial = 0;
  const perScanMs: number[] = [];
  const findingsPerScan: number[] = [];
  for (let day = options.days - 1; day >= 0; day--) {
    const at = options.now - day * 86_400_000;
    const findings: FindingInput[] = fleet.flatMap((w) => w.findings.map((f) => ({ ...f, namespace: w.namespace, name: w.name })));
    const failingRules = new Set(findings.map((f) => f.ruleId));
    const overall = Math.round(((bundle.catalogue.length - failingRules.size) / bundle.catalogue.length) * 100);
    const share = Math.round(100 - (findings.length / (fleet.length * bundle.catalogue.length)) * 100);
    const percent = Math.max(overall, share - 40);
    const scores: ScoreInput[] = [];
    const scoreSet = (namespace: string, value: number) => {
      scores.push({ namespace, dimension: "overall", key: "", percent: value, passed: value, failed: 100 - value });
      for (const c of categories) scores.push({ namespace, dimension: "category", key: c, percent: Math.min(100, value + Math.floor(rand() * 10)), passed: 5, failed: 5 });
      for (const f of frameworks) scores.push({ namespace, dimension: "framework", key: f, percent: Math.min(100, value + Math.floor(rand() * 10)), passed: 5, failed: 5 });
    };
    scoreSet("", percent);
    const byNamespace = new Map<string, number>();
    for (const w of fleet) byNamespace.set(w.namespace, (byNamespace.get(w.namespace) ?? 0) + 1);
    for (const ns of byNamespace.keys()) scoreSet(ns, Math.min(100, Math.max(0, percent - 5 + Math.floor(rand() * 10))));
    const names = new Set(fleet.map((w) => `${w.namespace}/${w.name}`));
    const t = performance.now();
    const scan = store.begin({ name: "nightly", trigger: "schedule", cluster: options.cluster, scope: "*", ruleSetHash: "history", startedAt: at });
    store.complete(scan.id, {
      finishedAt: at + 8_000,
      workloads: { total: fleet.length, evaluated: fleet.length, passed: 0, failed: fleet.length, skipped: 0 },
      compliancePercent: percent,
      warnings: [],
      findings,
      namespaces: [...byNamespace].map(([namespace, workloads]) => ({ namespace, workloads, failed: workloads })),
      scores,
      classify: (row) => (names.has(`${row.namespace}/${row.name}`) ? "fixed" : "workload-removed"),
    });
    perScanMs.push(performance.now() - t);
    findingsPerScan.push(findings.length);
    for (const w of fleet) if (rand() < 0.02 && w.findings.length > 0) w.findings.splice(0, Math.min(2, w.findings.length));
    fleet = fleet.filter(() => rand() >= 0.005);
    while (fleet.length < size) {
      const model = fleet[Math.floor(rand() * fleet.length)]!;
      fleet.push({ namespace: model.namespace, name: `new-${serial++}`, findings: [...model.findings] });
    }
  }
  return { perScanMs, findingsPerScan };
}
