// A scan history and a fix history for Auto-Fix Efficiency, written through the real ScanStore and
// FixStore into a SQLite file: five whole-cluster scans of "demo-cluster" (MemorySource.demo()'s name)
// a day apart, and the fixes kube-policy applied between them. Every finding's story is below, with
// the number each one adds to EXPECTED.
//
//   S1 -5d   S2 -4d   S3 -3d   S4 -2d   S5 -1d       (scans start then and finish 90 s later)
//   A  shop/api run-as-non-root       open S1-S2, fix at -3.5d (lists it), resolved S3       → auto-remediated
//   B  shop/web cpu-limits            open S1-S2, resolved S3; a fix at -4.8d (S2 still saw B)
//                                     rolled back at -3.2d (the rollback lists cpu-limits and is
//                                     no fix), a fix at -3.5d lists another rule (cpu-requests),
//                                     a fix at -2.5d lists it but comes after S3 saw it resolved → resolved otherwise (fixed)
//   C  shop/api privileged-container  open S1-S2, approved fix at -3.4d, resolved S3, the fix
//                                     rolled back at -2.5d, open again S4-S5                  → still open
//   D  payments/ledger host-network   open S1, approved fix at -4.5d, resolved S2, rolled back
//                                     at -1.5d but stays resolved                             → resolved otherwise (fixed)
//   E  payments/gateway memory-limits open S1-S3, exempted at S4                              → resolved otherwise (exempted)
//   F  shop/api host-pid              fix at -4.5d, yet S2 still saw it; resolved S3          → resolved otherwise (fixed)
//   G  shop/web memory-limits         open S1-S4, fix at -1.5d, resolved S5                   → auto-remediated
//   H  payments/gateway replicas-minimum  open S1, fix at -4.5d, resolved S2, back at S3,
//                                     resolved by hand at S4 (counted once, as it ended)       → resolved otherwise (fixed)
//   O1 shop/web image-tag-latest (no fix), O2 payments/gateway cpu-limits (medium risk),
//   O3 shop/api cpu-requests (low risk), O4 payments/ledger privileged-container (high risk)  → still open
import { openDatabase } from "../../src/store/db.js";
import { FixStore } from "../../src/store/fix-store.js";
import { ScanStore, type FindingInput, type OpenFindingRow, type Resolution } from "../../src/store/scan-store.js";

export const CLUSTER = "demo-cluster";
export const DAY = 86_400_000;

type Sev = "critical" | "high" | "medium" | "low";

function f(namespace: string, kind: string, name: string, ruleId: string, severity: Sev, category: string): FindingInput {
  return {
    ruleId,
    severity,
    category,
    outcome: "violation",
    apiVersion: "apps/v1",
    kind,
    namespace,
    name,
    pointer: `/spec/template/spec/${ruleId}`,
    message: `${ruleId} on ${name}`,
  };
}

const A = f("shop", "Deployment", "api", "run-as-non-root", "high", "security");
const B = f("shop", "Deployment", "web", "cpu-limits", "medium", "performance");
const C = f("shop", "Deployment", "api", "privileged-container", "critical", "security");
const D = f("payments", "StatefulSet", "ledger", "host-network", "high", "security");
const E = f("payments", "Deployment", "gateway", "memory-limits", "high", "performance");
const F = f("shop", "Deployment", "api", "host-pid", "high", "security");
const G = f("shop", "Deployment", "web", "memory-limits", "high", "performance");
const H = f("payments", "Deployment", "gateway", "replicas-minimum", "medium", "performance");
const OPEN = [
  f("shop", "Deployment", "web", "image-tag-latest", "medium", "compliance"),
  f("payments", "Deployment", "gateway", "cpu-limits", "medium", "performance"),
  f("shop", "Deployment", "api", "cpu-requests", "medium", "performance"),
  f("payments", "StatefulSet", "ledger", "privileged-container", "critical", "security"),
];

const SCANS: { daysAgo: number; findings: FindingInput[]; exempted?: FindingInput[] }[] = [
  { daysAgo: 5, findings: [A, B, C, D, E, F, G, H, ...OPEN] },
  { daysAgo: 4, findings: [A, B, C, E, F, G, ...OPEN] },
  { daysAgo: 3, findings: [E, G, H, ...OPEN] },
  { daysAgo: 2, findings: [C, G, ...OPEN], exempted: [E] },
  { daysAgo: 1, findings: [C, ...OPEN] },
];

/** Over the last 30 days (the default period), whole cluster, with `global.autoFix: true`. */
export const EXPECTED = {
  violations: 12,
  autoRemediated: 2,
  resolvedOtherwise: 5,
  resolvedOtherwiseBy: { fixed: 4, exempted: 1, excluded: 0, "workload-removed": 0, "rule-disabled": 0 },
  stillOpen: 5,
  percent: 16.7,
  ratio: 0.1667,
  ofResolvedPercent: 28.6,
  fixes: { applied: 9, rolledBack: 3 },
  headroom: { open: 5, autoFixable: 2, needsApproval: 2, manual: 1, percent: 40 },
};

const key = (r: Pick<FindingInput, "ruleId" | "namespace" | "kind" | "name">) => `${r.ruleId} ${r.namespace}/${r.kind}/${r.name}`;

/** Writes the history into `file` (created); `now` anchors every time. `rollbacks: false` leaves the three rollbacks out. */
export function writeAutoFixHistory(file: string, now: number, options: { rollbacks?: boolean } = {}): void {
  const db = openDatabase(file);
  const store = new ScanStore(db, { clock: () => now });
  let at = now;
  const fixes = new FixStore(db, () => new Date(at));
  const change = (daysAgo: number, action: "fix" | "approve", w: FindingInput, ruleIds: string[]) => {
    at = now - daysAgo * DAY;
    return fixes.recordChange({
      actor: "http:ci",
      action,
      namespace: w.namespace,
      kind: w.kind,
      name: w.name,
      ruleIds,
      patch: [{ op: "test", path: "/metadata/resourceVersion", value: "1" }],
      diff: "",
      before: {},
      after: {},
      resourceVersionBefore: "1",
      resourceVersionAfter: "2",
      generationAfter: 2,
      pendingId: null,
      rollbackOf: null,
    });
  };
  const rollback = (daysAgo: number, of: { id: string; namespace: string; kind: string; name: string; ruleIds: string[] }) => {
    at = now - daysAgo * DAY;
    fixes.recordChange({
      actor: "http:ci",
      action: "rollback",
      namespace: of.namespace,
      kind: of.kind,
      name: of.name,
      ruleIds: of.ruleIds,
      patch: [],
      diff: "",
      before: {},
      after: {},
      resourceVersionBefore: "2",
      resourceVersionAfter: "3",
      generationAfter: 3,
      pendingId: null,
      rollbackOf: of.id,
    });
  };

  const earlyFixOfB = change(4.8, "fix", B, ["cpu-limits"]);
  const fixOfD = change(4.5, "approve", D, ["host-network"]);
  change(4.5, "fix", F, ["host-pid"]);
  change(4.5, "fix", H, ["replicas-minimum"]);
  change(3.5, "fix", A, ["run-as-non-root", "seccomp-profile"]);
  change(3.5, "fix", B, ["cpu-requests"]);
  const fixOfC = change(3.4, "approve", C, ["privileged-container"]);
  change(2.5, "fix", B, ["cpu-limits"]);
  change(1.5, "fix", G, ["memory-limits"]);
  if (options.rollbacks !== false) {
    rollback(3.2, earlyFixOfB);
    rollback(2.5, fixOfC);
    rollback(1.5, fixOfD);
  }

  for (const s of SCANS) {
    const startedAt = now - s.daysAgo * DAY;
    const scan = store.begin({ name: "nightly", trigger: "schedule", cluster: CLUSTER, scope: "*", ruleSetHash: "test", startedAt });
    const exempted = new Set((s.exempted ?? []).map(key));
    store.complete(scan.id, {
      finishedAt: startedAt + 90_000,
      workloads: { total: 5, evaluated: 5, passed: 0, failed: 5, skipped: 0 },
      compliancePercent: 70,
      warnings: [],
      findings: s.findings,
      namespaces: [
        { namespace: "shop", workloads: 2, failed: 2 },
        { namespace: "payments", workloads: 2, failed: 2 },
      ],
      scores: [{ namespace: "", dimension: "overall", key: "", percent: 70, passed: 7, failed: 3 }],
      classify: (row: OpenFindingRow): Resolution => (exempted.has(key(row)) ? "exempted" : "fixed"),
    });
  }
  db.close();
}
