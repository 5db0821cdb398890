// Covers src/scans/scan.ts and the trend on a real cluster: two scans with a fix in between (the admin
// patches the Deployment, deletes another) → the trend shows the resolved violations, how each was
// resolved, and the score rise, through the store, get_compliance_trends and the compliance report;
// a scan with a user who may list only Deployments keeps the findings it could not judge open; a scan
// during an API outage (a closed port) and one by a user with no permissions are stored as failed
// with their reason; SIGKILL in the middle of a scan (a child process) and in the middle of the result
// transaction (a child storing scans in a loop) leaves the database readable, earlier scans intact, and
// the interrupted scan marked failed at the next start.
// Real components: kube-apiserver + etcd (test/harness/cluster.ts), service-account tokens from the
// TokenRequest API, SQLite files in a temporary directory, the compiled policy bundle, child processes
// killed with SIGKILL. Nothing is stubbed.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { z } from "zod";
import { AppsV1Api, BatchV1Api, CoreV1Api, KubeConfig, RbacAuthorizationV1Api, type V1Deployment } from "@kubernetes/client-node";
import { startCluster, type Cluster } from "../harness/cluster.js";
import { ClusterSource, WORKLOAD_TYPES } from "../../src/kube/cluster-source.js";
import { resourceName } from "../../src/kube/client.js";
import { WORKLOAD_KINDS } from "../../src/kube/source.js";
import { PolicyBundle } from "../../src/policy/bundle.js";
import { Runtime } from "../../src/runtime.js";
import { ScanFailedError, WORKLOAD_LIST_NAMES, runScan, scanStoreFor } from "../../src/scans/scan.js";
import { computeTrend } from "../../src/scans/trends.js";
import { openDatabase } from "../../src/store/db.js";
import { generateComplianceReport } from "../../src/tools/report.js";
import { getComplianceTrends, listScans } from "../../src/tools/scans.js";
import { complianceReportOutput } from "../../src/tools/schemas.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), "kube-policy-cluster-scans-"));
const NS = "shop";
let cluster: Cluster | undefined;
let bundle: PolicyBundle;

test.before(async () => {
  [cluster, bundle] = await Promise.all([startCluster(), PolicyBundle.load()]);
  const kc = admin();
  const core = kc.makeApiClient(CoreV1Api);
  for (const name of [NS, "sigkill"]) await core.createNamespace({ body: { apiVersion: "v1", kind: "Namespace", metadata: { name } } });
  const apps = kc.makeApiClient(AppsV1Api);
  await apps.createNamespacedDeployment({ namespace: NS, body: deployment(NS, "api", { privileged: true, image: "nginx:latest" }) });
  await apps.createNamespacedDeployment({ namespace: NS, body: deployment(NS, "web", { privileged: true, image: "nginx:latest" }) });
  await kc.makeApiClient(BatchV1Api).createNamespacedCronJob({
    namespace: NS,
    body: {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "report", namespace: NS },
      spec: {
        schedule: "0 2 * * *",
        jobTemplate: { spec: { template: { spec: { restartPolicy: "OnFailure", hostNetwork: true, containers: [{ name: "report", image: "busybox:1.36" }] } } } },
      },
    },
  });
  for (let i = 0; i < 3; i++) await apps.createNamespacedDeployment({ namespace: "sigkill", body: deployment("sigkill", `app-${i}`, { privileged: false, image: "nginx:1.27.3" }) });
});

test.after.always(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function clusterOrFail(): Cluster {
  if (!cluster) throw new Error("the cluster did not start (see test.before)");
  return cluster;
}

function admin(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(clusterOrFail().adminKubeconfig);
  return kc;
}

function deployment(namespace: string, name: string, options: { privileged: boolean; image: string }): V1Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name, image: options.image, securityContext: { privileged: options.privileged } }] },
      },
    },
  };
}

function runtimeFor(kubeconfig: string, db: string): Runtime {
  return new Runtime({ organization: { compliance: ["SOC2", "CIS"] } }, bundle, ClusterSource.connect({ kind: "file", path: kubeconfig }), { databasePath: db });
}

/** A kubeconfig for a new service account bound to exactly `rules` (none: no permission at all), with the admin's context name. */
async function serviceAccountKubeconfig(name: string, rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[]): Promise<string> {
  const kc = admin();
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespacedServiceAccount({ namespace: NS, body: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: NS } } });
  if (rules.length > 0) {
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createClusterRole({ body: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name }, rules } });
    await rbac.createClusterRoleBinding({
      body: {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
        subjects: [{ kind: "ServiceAccount", name, namespace: NS }],
      },
    });
  }
  const token = (
    await core.createNamespacedServiceAccountToken({
      name,
      namespace: NS,
      body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { audiences: [], expirationSeconds: 3600 } },
    })
  ).status?.token;
  if (!token) throw new Error(`no token for ${name}`);
  const c = clusterOrFail();
  const file = path.join(dir, `${name}.kubeconfig`);
  const context = admin().getCurrentContext();
  writeFileSync(
    file,
    [
      "apiVersion: v1",
      "kind: Config",
      `clusters: [{name: test, cluster: {server: "${c.server}", certificate-authority-data: ${Buffer.from(readFileSync(c.caPath)).toString("base64")}}}]`,
      `users: [{name: ${name}, user: {token: ${token}}}]`,
      `contexts: [{name: "${context}", context: {cluster: test, user: ${name}}}]`,
      `current-context: "${context}"`,
      "",
    ].join("\n"),
  );
  return file;
}

test("the names of forbidden workload lists that scans recognise are the ones ClusterSource reports", (t) => {
  for (const kind of WORKLOAD_KINDS) t.is(WORKLOAD_LIST_NAMES[kind], resourceName(WORKLOAD_TYPES[kind]), kind);
});

test.serial("two scans with a fix in between: the trend shows the resolved violations and the score rise", async (t) => {
  const db = path.join(dir, "fix.db");
  const runtime = runtimeFor(clusterOrFail().adminKubeconfig, db);
  const progress: [number, number][] = [];
  const first = await runScan(runtime, { name: "shop-nightly", namespaces: [NS] }, { progress: (done, total) => void progress.push([done, total]) });
  t.is(first.status, "succeeded");
  t.deepEqual(first.namespaces, [NS]);
  t.is(first.ruleSetHash, bundle.hash);
  t.is(first.workloads.evaluated, 3);
  t.deepEqual(progress.at(-1), [3, 3]);
  t.is(first.findings.new, first.findings.open);

  // The fix, as an operator would make it: the admin patches api (not privileged, a pinned image) and deletes web.
  const apps = admin().makeApiClient(AppsV1Api);
  await apps.replaceNamespacedDeployment({ name: "api", namespace: NS, body: deployment(NS, "api", { privileged: false, image: "registry.example.com/shop/api:1.4.2" }) });
  await apps.deleteNamespacedDeployment({ name: "web", namespace: NS });

  const second = await runScan(runtime, { name: "shop-nightly", namespaces: [NS] });
  t.is(second.status, "succeeded");
  t.is(second.workloads.evaluated, 2);
  t.true(second.findings.resolved > 0);
  t.is(second.findings.new, 0);
  t.is(second.findings.open, first.findings.open - second.findings.resolved);

  const trend = computeTrend(scanStoreFor(runtime), { cluster: runtime.source.clusterName, namespace: NS })!;
  t.deepEqual(trend.score.points.map((p) => p.scanId), [first.id, second.id]);
  t.true(trend.score.latest! > trend.score.first!, `score rose: ${trend.score.first} → ${trend.score.latest}`);
  t.is(trend.score.change, trend.score.latest! - trend.score.first!);
  const since = trend.sincePrevious!;
  t.is(since.previousScanId, first.id);
  t.is(since.resolved, second.findings.resolved);
  t.is(since.stillOpen, second.findings.open);
  const resolved = since.resolvedFindings.map((f) => `${f.ruleId} ${f.resource.name} ${f.resolution}`);
  t.true(resolved.includes("privileged-container api fixed"), resolved.join("\n"));
  t.true(resolved.includes("privileged-container web workload-removed"), resolved.join("\n"));
  const security = trend.categories.find((c) => c.key === "security")!;
  t.true(security.latest! > security.first!);
  const critical = trend.timeToResolve.bySeverity.find((s) => s.severity === "critical")!;
  t.true(critical.resolved >= 2);
  t.true(critical.medianHours !== null && critical.medianHours >= 0);

  // The lifecycle row of the fixed violation: first seen by the first scan, resolved by the second.
  const row = scanStoreFor(runtime)
    .db.prepare("SELECT first_seen_scan, last_seen_scan, resolved_scan, resolution FROM findings WHERE rule_id = 'privileged-container' AND name = 'api'")
    .get();
  t.deepEqual(row, { first_seen_scan: first.id, last_seen_scan: first.id, resolved_scan: second.id, resolution: "fixed" });

  // The same through the doors: get_compliance_trends and the compliance report's trend section.
  const viaTool = await getComplianceTrends.run({ namespace: NS }, { runtime, actor: "test" });
  const structured = viaTool.structured as { trend: typeof trend };
  t.deepEqual(structured.trend.sincePrevious?.resolvedFindings, since.resolvedFindings);
  t.regex(viaTool.text, /Since the previous scan .*: 0 new, \d+ resolved/);
  const report = await generateComplianceReport.run({ namespace: NS }, { runtime, actor: "test" });
  t.true(z.object(complianceReportOutput).safeParse(report.structured).success, "the report with its trend matches the output schema");
  t.is((report.structured as { trend: typeof trend }).trend.sincePrevious?.resolved, second.findings.resolved);
  t.regex(report.text, /Trend Analysis \(last 30 days, 2 scan\(s\)\):\n- Compliance: \d+% → \d+% \(\+\d+ points\)/);
  const listed = (await listScans.run({ limit: 5 }, { runtime, actor: "test" })).structured as { scans: { id: number }[] };
  t.deepEqual(listed.scans.slice(0, 2).map((s) => s.id), [second.id, first.id]);

  // A user who may list Deployments only: the CronJob's findings (not listed) and the rules that lack
  // facts are not judged, so nothing is resolved by this scan.
  const openCronJob = () =>
    (scanStoreFor(runtime).db.prepare("SELECT COUNT(*) AS n FROM findings WHERE kind = 'CronJob' AND resolved_at IS NULL").get() as { n: number }).n;
  const cronJobFindings = openCronJob();
  t.true(cronJobFindings > 0);
  const narrow = runtimeFor(await serviceAccountKubeconfig("deployment-reader", [{ apiGroups: ["apps"], resources: ["deployments"], verbs: ["list", "get"] }]), db);
  t.is(narrow.source.clusterName, runtime.source.clusterName, "same context name: the same series");
  const third = await runScan(narrow, { name: "shop-nightly", namespaces: [NS] });
  t.is(third.status, "succeeded");
  t.is(third.findings.resolved, 0);
  t.true(third.warnings.some((w) => w.where === "cronjobs.batch" && /forbidden/.test(w.message)));
  t.is(openCronJob(), cronJobFindings);
  await narrow.close();
  await runtime.close();
});

test.serial("a scan during an API outage is stored as failed with its reason", async (t) => {
  const db = path.join(dir, "outage.db");
  const closed = await new Promise<number>((resolve) => {
    import("node:net").then((net) => {
      const server = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as import("node:net").AddressInfo;
        server.close(() => resolve(port));
      });
    });
  });
  const kubeconfig = path.join(dir, "closed-port.kubeconfig");
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters: [{name: gone, cluster: {server: "https://127.0.0.1:${closed}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: gone, context: {cluster: gone, user: u}}]\ncurrent-context: gone\n`,
  );
  const runtime = runtimeFor(kubeconfig, db);
  const error = await t.throwsAsync(runScan(runtime, { name: "outage" }), { instanceOf: ScanFailedError });
  t.is(error.status, 503);
  t.is(error.code, "cluster_unavailable");
  t.regex(error.message, /^scan \d+ \(outage\) failed and is stored as failed: cluster unreachable at https:\/\/127\.0\.0\.1:\d+/);
  const stored = scanStoreFor(runtime).get(error.scan.id)!;
  t.is(stored.status, "failed");
  t.is(stored.errorCode, "cluster_unavailable");
  t.regex(stored.reason!, /cluster unreachable at https:\/\/127\.0\.0\.1:\d+: cannot list .* ECONNREFUSED/);
  t.not(stored.durationMs, null);
  await runtime.close();
});

test.serial("a scan by a user without permissions is stored as failed: forbidden", async (t) => {
  const runtime = runtimeFor(await serviceAccountKubeconfig("nobody", []), path.join(dir, "forbidden.db"));
  const error = await t.throwsAsync(runScan(runtime, { namespaces: [NS] }), { instanceOf: ScanFailedError });
  t.is(error.status, 403);
  const stored = scanStoreFor(runtime).get(error.scan.id)!;
  t.is(stored.status, "failed");
  t.is(stored.errorCode, "forbidden");
  t.regex(stored.reason!, /^forbidden: no workload kind could be listed \(forbidden: cannot list \S+ in namespace "shop"/);
  await runtime.close();
});

function child(args: string[]): { proc: ChildProcess; lines: string[]; waitFor: (re: RegExp, timeoutMs: number) => Promise<void>; exit: Promise<NodeJS.Signals | null> } {
  const proc = spawn(process.execPath, ["--import", "tsx", "test/fixtures/scans/slow-scan.ts", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let err = "";
  proc.stdout!.setEncoding("utf8").on("data", (c: string) => lines.push(...c.split("\n").filter(Boolean)));
  proc.stderr!.setEncoding("utf8").on("data", (c: string) => (err += c));
  const exit = new Promise<NodeJS.Signals | null>((resolve) => proc.on("exit", (_code, signal) => resolve(signal)));
  const waitFor = async (re: RegExp, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!lines.some((l) => re.test(l))) {
      if (proc.exitCode !== null) throw new Error(`child exited ${proc.exitCode}: ${err}`);
      if (Date.now() > deadline) {
        proc.kill("SIGKILL");
        throw new Error(`child did not print ${re} within ${timeoutMs} ms: ${lines.join("\n")}\n${err}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  return { proc, lines, waitFor, exit };
}

test.serial("SIGKILL in the middle of a scan: earlier scans intact, the interrupted one failed at the next start", async (t) => {
  const db = path.join(dir, "sigkill.db");
  const kubeconfig = clusterOrFail().adminKubeconfig;
  const before = runtimeFor(kubeconfig, db);
  const earlier = await runScan(before, { name: "sigkill", namespaces: ["sigkill"] });
  t.is(earlier.status, "succeeded");
  await before.close();

  const c = child(["scan", db, kubeconfig, "sigkill"]);
  await c.waitFor(/^RUNNING$/, 30_000);
  c.proc.kill("SIGKILL");
  t.is(await c.exit, "SIGKILL");

  // Straight after the kill, before any "start": the file is consistent and the scan still says running.
  const raw = openDatabase(db);
  t.is(raw.pragma("integrity_check", { simple: true }), "ok");
  const rows = raw.prepare("SELECT id, status FROM scans ORDER BY id").all() as { id: number; status: string }[];
  t.is(rows.length, 2);
  t.deepEqual(rows[0], { id: earlier.id, status: "succeeded" });
  t.is(rows[1]!.status, "running");
  t.is((raw.prepare("SELECT COUNT(*) AS n FROM findings WHERE resolved_at IS NULL").get() as { n: number }).n, earlier.findings.open);
  raw.close();

  // The next start: the interrupted scan is failed, the earlier one untouched, and scanning works again.
  const after = runtimeFor(kubeconfig, db);
  const store = scanStoreFor(after);
  const interrupted = store.get(rows[1]!.id)!;
  t.is(interrupted.status, "failed");
  t.is(interrupted.errorCode, "interrupted");
  t.regex(interrupted.reason!, /^interrupted: the process running it \(.+:\d+\) stopped before the scan finished/);
  t.deepEqual(store.get(earlier.id), earlier);
  const next = await runScan(after, { name: "sigkill", namespaces: ["sigkill"] });
  t.is(next.status, "succeeded");
  t.deepEqual(next.findings, { open: earlier.findings.open, new: 0, resolved: 0 }, "the history continues from the earlier scan");
  await after.close();
});

test.serial("SIGKILL in the middle of a result transaction: every stored scan is whole", async (t) => {
  const db = path.join(dir, "write-loop.db");
  const c = child(["write-loop", db]);
  await c.waitFor(/^COMMITTED 1 /, 60_000);
  await c.waitFor(/^COMMITTED 2 /, 60_000);
  // Kill at a moment unrelated to the loop's rhythm: most likely inside the next transaction.
  await new Promise((resolve) => setTimeout(resolve, 137));
  c.proc.kill("SIGKILL");
  t.is(await c.exit, "SIGKILL");

  const raw = openDatabase(db);
  t.is(raw.pragma("integrity_check", { simple: true }), "ok");
  const scans = raw.prepare("SELECT id, status, findings_open FROM scans ORDER BY id").all() as { id: number; status: string; findings_open: number }[];
  const succeeded = scans.filter((s) => s.status === "succeeded");
  t.true(succeeded.length >= 2);
  t.true(scans.filter((s) => s.status === "running").length <= 1, "at most the scan being written when killed");
  // The open findings are exactly those of the last stored scan: no half-written result.
  const open = (raw.prepare("SELECT COUNT(*) AS n FROM findings WHERE resolved_at IS NULL").get() as { n: number }).n;
  t.is(open, succeeded.at(-1)!.findings_open);
  for (const s of succeeded) {
    const counts = raw.prepare("SELECT open FROM scan_counts WHERE scan_id = ? AND namespace = ''").get(s.id) as { open: number } | undefined;
    t.is(counts?.open, s.findings_open, `scan ${s.id} has its counts`);
  }
  raw.close();
});
