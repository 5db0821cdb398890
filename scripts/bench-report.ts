// Benchmark: a compliance report over 2,000 Deployments in 20 namespaces on a real kube-apiserver
// (built by scripts/install-kube.sh, started by the test harness). Measures wall time, API requests
// and peak RSS of the report itself, and records them in BENCHMARKS.md.
//   npx tsx scripts/bench-report.ts [--namespaces 20] [--per-namespace 100] [--no-write]
import { seedBenchCluster } from "./lib/workloads.js";
import { writeBenchmarkSection } from "./lib/benchmarks-md.js";
import os from "node:os";
import { startCluster } from "../test/harness/cluster.js";
import { ClusterSource } from "../src/kube/cluster-source.js";
import { KubeClient } from "../src/kube/client.js";
import { Runtime } from "../src/runtime.js";
import { PolicyBundle } from "../src/policy/bundle.js";
import { generateComplianceReport } from "../src/tools/report.js";

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const namespaces = option("--namespaces", 20);
const perNamespace = option("--per-namespace", 100);
const write = !args.includes("--no-write");


const cluster = await startCluster({ log: (m) => process.stderr.write(`cluster: ${m}\n`) });
try {
  const admin = KubeClient.load({ kind: "file", path: cluster.adminKubeconfig });
  const seeded = await seedBenchCluster(admin, namespaces, perNamespace);
  process.stderr.write(`created ${seeded.total} deployments in ${seeded.seconds.toFixed(1)} s\n`);

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
    await writeBenchmarkSection(section);
  }
} finally {
  await cluster.stop();
}
