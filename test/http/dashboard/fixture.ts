// Shared by the dashboard and /metrics tests: a scan history written through the real ScanStore and
// FixStore APIs into a temporary SQLite file (no cluster: the store is what the pages read), and a
// server on it. Four whole-cluster scans a day apart with rising scores, then a failed one; two
// namespaces; a workload with a hostile name; an applied fix that was rolled back and a fix waiting
// for an approval. EXPECTED holds the numbers the pages must show.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startHttpServer, type RunningServer } from "../../../src/http/server.js";
import { MemorySource } from "../../../src/kube/memory-source.js";
import { Runtime } from "../../../src/runtime.js";
import { openDatabase } from "../../../src/store/db.js";
import { FixStore } from "../../../src/store/fix-store.js";
import { ScanStore, type FindingInput, type ScoreInput } from "../../../src/store/scan-store.js";

export const CLUSTER = "demo-cluster"; // MemorySource.demo()'s name: the runtime's cluster
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const HOSTILE_NAME = "<script>alert(1)</script>";
export const HOSTILE_MESSAGE = 'label "owner" is missing <img src=x onerror=alert(2)>';

type Sev = "critical" | "high" | "medium" | "low";

function finding(namespace: string, kind: string, name: string, ruleId: string, severity: Sev, category: string, pointer: string, message?: string): FindingInput {
  return {
    ruleId,
    severity,
    category,
    outcome: "violation",
    apiVersion: kind === "StatefulSet" || kind === "Deployment" ? "apps/v1" : "v1",
    kind,
    namespace,
    name,
    pointer,
    message: message ?? `${ruleId} on ${name}`,
  };
}

const C0 = "/spec/template/spec/containers/0";
/** Open after the latest scan: 9 findings, 2 critical, 2 high, 4 medium, 1 low. */
const LATEST: FindingInput[] = [
  finding("shop", "Deployment", "api", "privileged-container", "critical", "security", `${C0}/securityContext/privileged`),
  finding("shop", "Deployment", "api", "run-as-non-root", "high", "security", `${C0}/securityContext/runAsNonRoot`),
  finding("shop", "Deployment", "api", "cpu-limits", "medium", "performance", `${C0}/resources/limits/cpu`),
  finding("shop", "Deployment", "web", "image-tag-latest", "medium", "compliance", `${C0}/image`),
  finding("shop", "Deployment", "web", "cpu-limits", "medium", "performance", `${C0}/resources/limits/cpu`),
  finding("shop", "Deployment", HOSTILE_NAME, "required-labels", "low", "operations", "/metadata/labels", HOSTILE_MESSAGE),
  finding("payments", "StatefulSet", "ledger", "privileged-container", "critical", "security", `${C0}/securityContext/privileged`),
  finding("payments", "StatefulSet", "ledger", "host-network", "high", "security", "/spec/template/spec/hostNetwork"),
  finding("payments", "Deployment", "gateway", "cpu-limits", "medium", "performance", `${C0}/resources/limits/cpu`),
];
const EXTRA_1 = finding("shop", "Deployment", "api", "host-pid", "high", "security", "/spec/template/spec/hostPID");
const EXTRA_2 = finding("payments", "Deployment", "gateway", "memory-limits", "high", "performance", `${C0}/resources/limits/memory`);

export const EXPECTED = {
  scores: [60, 65, 70, 80],
  latestScore: 80,
  open: 9,
  bySeverity: { critical: 2, high: 2, medium: 4, low: 1 },
  workloads: 6,
  workloadsFailed: 6,
  namespaceScores: { shop: 75, payments: 70 },
  categoryScores: { security: 85.7, compliance: 87.5, performance: 81.8, cost: 100, operations: 90 },
  frameworkScores: { CIS: 75, SOC2: 82.4 },
  failedReason: "cluster unreachable: connect ECONNREFUSED 127.0.0.1:6443",
  /** Filters and the rows they must leave. */
  filters: { "severity=medium": 4, "namespace=shop&category=performance": 2, "framework=CIS": 4, "rule=cpu-limits": 3 },
};

function scores(overall: number): ScoreInput[] {
  const s: ScoreInput[] = [
    { namespace: "", dimension: "overall", key: "", percent: overall, passed: 40, failed: 10 },
    { namespace: "shop", dimension: "overall", key: "", percent: overall - 5, passed: 30, failed: 10 },
    { namespace: "payments", dimension: "overall", key: "", percent: overall - 10, passed: 28, failed: 12 },
  ];
  const categories: [string, number, number, number][] = [
    ["security", EXPECTED.categoryScores.security, 18, 3],
    ["compliance", EXPECTED.categoryScores.compliance, 7, 1],
    ["performance", EXPECTED.categoryScores.performance, 9, 2],
    ["cost", EXPECTED.categoryScores.cost, 5, 0],
    ["operations", EXPECTED.categoryScores.operations, 9, 1],
  ];
  for (const [key, percent, passed, failed] of categories) s.push({ namespace: "", dimension: "category", key, percent: percent - (80 - overall), passed, failed });
  s.push({ namespace: "", dimension: "framework", key: "CIS", percent: EXPECTED.frameworkScores.CIS - (80 - overall), passed: 15, failed: 5 });
  s.push({ namespace: "", dimension: "framework", key: "SOC2", percent: EXPECTED.frameworkScores.SOC2 - (80 - overall), passed: 28, failed: 6 });
  return s;
}

/** Writes the history into a new SQLite file; `now` anchors every time (the latest scan finished a day before it). */
export function writeHistory(file: string, now: number): void {
  const db = openDatabase(file);
  let clock = now;
  const store = new ScanStore(db, { clock: () => clock });
  const sets = [[...LATEST, EXTRA_1, EXTRA_2], [...LATEST, EXTRA_2], [...LATEST], [...LATEST]];
  sets.forEach((findings, i) => {
    const startedAt = now - (4 - i) * DAY;
    const scan = store.begin({ name: "nightly", trigger: "schedule", cluster: CLUSTER, scope: "*", ruleSetHash: "test", startedAt });
    store.complete(scan.id, {
      finishedAt: startedAt + 90_000,
      workloads: { total: 6, evaluated: 6, passed: 0, failed: 6, skipped: 0 },
      compliancePercent: EXPECTED.scores[i]!,
      warnings: [],
      findings,
      namespaces: [
        { namespace: "shop", workloads: 3, failed: 3 },
        { namespace: "payments", workloads: 3, failed: 3 },
      ],
      scores: scores(EXPECTED.scores[i]!),
      classify: () => "fixed",
    });
  });
  // The newest run failed: the pages keep the last good numbers and say so.
  clock = now - 12 * HOUR;
  const failed = store.begin({ name: "nightly", trigger: "schedule", cluster: CLUSTER, scope: "*", ruleSetHash: "test", startedAt: clock - 30_000 });
  store.fail(failed.id, EXPECTED.failedReason, "cluster_unavailable");

  const fixes = new FixStore(db, () => new Date(now - 2 * DAY));
  const applied = fixes.recordChange({
    actor: "http:default",
    action: "fix",
    namespace: "shop",
    kind: "Deployment",
    name: "api",
    ruleIds: ["run-as-non-root"],
    patch: [
      { op: "test", path: "/metadata/resourceVersion", value: "41" },
      { op: "add", path: `${C0}/securityContext/runAsNonRoot`, value: true },
    ],
    diff: "+ runAsNonRoot: true",
    before: { spec: {} },
    after: { spec: {} },
    resourceVersionBefore: "41",
    resourceVersionAfter: "42",
    generationAfter: 3,
    pendingId: null,
    rollbackOf: null,
  });
  fixes.recordChange({
    actor: "http:default",
    action: "rollback",
    namespace: "shop",
    kind: "Deployment",
    name: "api",
    ruleIds: ["run-as-non-root"],
    patch: [{ op: "remove", path: `${C0}/securityContext/runAsNonRoot` }],
    diff: "- runAsNonRoot: true",
    before: { spec: {} },
    after: { spec: {} },
    resourceVersionBefore: "42",
    resourceVersionAfter: "43",
    generationAfter: 4,
    pendingId: null,
    rollbackOf: applied.id,
  });
  fixes.propose({
    actor: "mcp:claude",
    namespace: "payments",
    kind: "StatefulSet",
    name: "ledger",
    ruleId: "host-network",
    severity: "high",
    category: "security",
    risk: "high",
    reason: "high-risk fixes always need an approval",
    patch: [{ op: "replace", path: "/spec/template/spec/hostNetwork", value: false }],
    findings: [{ message: "host-network on ledger", path: "spec.template.spec.hostNetwork" }],
    diff: "- hostNetwork: true\n+ hostNetwork: false",
    resourceVersion: "7",
    generation: 2,
  });
  db.close();
}

export interface Served {
  url: string;
  runtime: Runtime;
  close(): Promise<void>;
}

/** A server (the real koa app) on a runtime whose store is `file`; `tokens` turns authentication on. */
export async function serve(file: string, options: { tokens?: Map<string, string>; config?: string } = {}): Promise<Served> {
  const { tokens, config } = options;
  const runtime = await Runtime.create({ config, source: await MemorySource.demo(), databasePath: file });
  const server: RunningServer = await startHttpServer(runtime, { port: 0 }, { tokens });
  return {
    url: server.url,
    runtime,
    close: async () => {
      await server.close();
      await runtime.close();
    },
  };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}
