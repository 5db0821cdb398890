// Benchmark: a compliance report over 2,000 Deployments in 20 namespaces on a real kube-apiserver
// (built by scripts/install-kube.sh, started by the test harness). Measures wall time, API requests
// and peak RSS of the report itself, and records them in BENCHMARKS.md.
//   npx tsx scripts/bench-report.ts [--namespaces 20] [--per-namespace 100] [--no-write]
import os from "node:os";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { startCluster } from "../test/harness/cluster.js";
import { ClusterSource } from "../src/kube/cluster-source.js";
import { KubeClient } from "../src/kube/client.js";
import { Runtime } from "../src/runtime.js";
import { PolicyBundle } from "../src/policy/bundle.js";
import { generateComplianceReport } from "../src/tools/report.js";
import { PACKAGE_ROOT } from "../src/paths.js";

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const namespaces = option("--namespaces", 20);
const perNamespace = option("--per-namespace", 100);
const write = !args.includes("--no-write");

function deployment(namespace: string, i: number) {
  const labels = { app: `app-${i}` };
  const hardened = i % 3 === 0;
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: `app-${i}`,
      namespace,
      labels: { ...labels, ...(hardened ? { "app.kubernetes.io/name": `app-${i}`, "app.kubernetes.io/version": "1.0.0", "app.kubernetes.io/component": "api", team: "t", "cost-center": "c", "data-classification": "internal" } : {}) },
    },
    spec: {
      replicas: 1 + (i % 3),
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: "app",
              image: hardened ? "registry.example.com/app:1.2.3" : "nginx:latest",
              resources: hardened ? { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "100m", memory: "128Mi" } } : undefined,
              securityContext: hardened ? { allowPrivilegeEscalation: false, runAsNonRoot: true, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } } : i % 10 === 1 ? { privileged: true } : undefined,
            },
          ],
        },
      },
    },
  };
}

const cluster = await startCluster({ log: (m) => process.stderr.write(`cluster: ${m}\n`) });
try {
  const admin = KubeClient.load({ kind: "file", path: cluster.adminKubeconfig });
  const t0 = performance.now();
  const nsType = { group: "", version: "v1", plural: "namespaces", namespaced: false };
  const deployType = { group: "apps", version: "v1", plural: "deployments", namespaced: true };
  for (let n = 0; n < namespaces; n++) {
    await admin.request(KubeClient.path(nsType), { method: "POST", body: { apiVersion: "v1", kind: "Namespace", metadata: { name: `team-${n}` } }, what: { verb: "create", resource: "namespaces" } });
  }
  const jobs: (readonly [string, number])[] = [];
  for (let n = 0; n < namespaces; n++) for (let i = 0; i < perNamespace; i++) jobs.push([`team-${n}`, i] as const);
  const worker = async () => {
    for (let job = jobs.pop(); job; job = jobs.pop()) {
      const [ns, i] = job;
      await admin.request(KubeClient.path(deployType, ns), { method: "POST", body: deployment(ns, i), what: { verb: "create", resource: "deployments", namespace: ns } });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  process.stderr.write(`created ${namespaces * perNamespace} deployments in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

  const bundle = await PolicyBundle.load();
  const source = ClusterSource.connect({ kind: "file", path: cluster.adminKubeconfig });
  const runtime = new Runtime({ organization: { compliance: ["SOC2", "ISO27001"] } }, bundle, source);
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let peakRss = rssBefore;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  const started = performance.now();
  const result = await generateComplianceReport.run({}, { runtime, actor: "bench" });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const report = result.structured as { workloads: { evaluated: number }; compliance: { percent: number } };
  const requests = source.client.requests;
  const out = {
    deployments: namespaces * perNamespace,
    namespaces,
    workloadsEvaluated: report.workloads.evaluated,
    seconds,
    apiRequests: requests,
    requestsPerNamespace: requests / namespaces,
    peakRssMiB: peakRss / 1048576,
    compliancePercent: report.compliance.percent,
  };
  console.log(JSON.stringify(out, null, 2));
  if (write) {
    const file = path.join(PACKAGE_ROOT, "BENCHMARKS.md");
    const existing = await readFile(file, "utf8").catch(() => "# Benchmarks\n");
    const section = [
      "## bench-report: compliance report on a real kube-apiserver",
      "",
      `Run \`npx tsx scripts/bench-report.ts\` (${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0]?.model ?? "unknown CPU"}, ${os.cpus().length} cores, Node ${process.version}).`,
      `kube-apiserver v1.34.4 + etcd v3.6.16 on 127.0.0.1 (the test harness), ${out.deployments.toLocaleString("en")} Deployments in ${namespaces} namespaces (a third hardened, the rest with typical violations); \`generate_compliance_report\` for the whole cluster, in process, all ${bundle.catalogue.length} rules.`,
      "",
      "| metric | value | target |",
      "|---|---|---|",
      `| wall time | ${seconds.toFixed(2)} s | < 5 s |`,
      `| API requests | ${requests} (${out.requestsPerNamespace.toFixed(2)} per namespace) | < 10 per namespace |`,
      `| peak RSS | ${out.peakRssMiB.toFixed(0)} MiB | |`,
      `| workloads evaluated | ${out.workloadsEvaluated} | |`,
      "",
    ].join("\n");
    const marker = /## bench-report: compliance report on a real kube-apiserver\n[\s\S]*?(?=\n## |$)/;
    const next = marker.test(existing) ? existing.replace(marker, section.trimEnd() + "\n") : `${existing.trimEnd()}\n\n${section}`;
    await writeFile(file, next.endsWith("\n") ? next : `${next}\n`);
  }
} finally {
  await cluster.stop();
}
