// Benchmark: evaluate 10,000 generated workloads against the whole catalogue in one process.
// Prints workloads/s, p50/p99 per workload and peak RSS, and records them in BENCHMARKS.md.
//   npx tsx scripts/bench-eval.ts [--count 10000] [--no-write]
import { writeBenchmarkSection } from "./lib/benchmarks-md.js";
import os from "node:os";
import { PolicyBundle } from "../src/policy/bundle.js";
import { PolicyEvaluator } from "../src/policy/evaluator.js";

const args = process.argv.slice(2);
const count = Number(args[args.indexOf("--count") + 1]) || 10_000;
const write = !args.includes("--no-write");

/** A deterministic pseudo-random generator, so every run evaluates the same workloads. */
function prng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

const KINDS = ["Deployment", "Deployment", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"];

function generate(i: number, random: () => number) {
  const kind = KINDS[i % KINDS.length]!;
  const hardened = random() < 0.4;
  const containers = Array.from({ length: 1 + Math.floor(random() * 3) }, (_, c) => ({
    name: `c${c}`,
    image: hardened ? `registry.example.com/team/app${c}:1.${c}.${i % 10}@sha256:${"ab".repeat(32)}` : random() < 0.5 ? "nginx:latest" : `nginx:1.25.${c}`,
    ...(hardened || random() < 0.5
      ? { resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: random() < 0.9 ? "500m" : "4", memory: "512Mi" } } }
      : {}),
    ...(hardened || random() < 0.3
      ? { securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] } } }
      : random() < 0.1
        ? { securityContext: { privileged: true } }
        : {}),
    ...(hardened ? { livenessProbe: { httpGet: { path: "/", port: 8080 } }, readinessProbe: { httpGet: { path: "/", port: 8080 } } } : {}),
    env: Array.from({ length: Math.floor(random() * 6) }, (_, e) => ({ name: e === 0 && !hardened ? "API_TOKEN" : `VAR_${e}`, value: `value-${e}` })),
    ports: [{ containerPort: 8080 }],
  }));
  const podSpec = {
    ...(hardened ? { automountServiceAccountToken: false, serviceAccountName: "app", securityContext: { seccompProfile: { type: "RuntimeDefault" } } } : {}),
    containers,
  };
  const template = { metadata: { labels: { app: `app-${i}` }, annotations: hardened ? { "prometheus.io/scrape": "true" } : {} }, spec: podSpec };
  const spec =
    kind === "Pod"
      ? podSpec
      : kind === "CronJob"
        ? { schedule: "0 * * * *", jobTemplate: { spec: { template } } }
        : kind === "Job" || kind === "DaemonSet"
          ? { selector: { matchLabels: { app: `app-${i}` } }, template }
          : { replicas: 1 + Math.floor(random() * 4), selector: { matchLabels: { app: `app-${i}` } }, template };
  const namespace = `team-${i % 20}`;
  return {
    object: {
      apiVersion: kind === "Pod" ? "v1" : kind === "Job" || kind === "CronJob" ? "batch/v1" : "apps/v1",
      kind,
      metadata: {
        name: `app-${i}`,
        namespace,
        labels: hardened
          ? { "app.kubernetes.io/name": `app-${i}`, "app.kubernetes.io/version": "1.0.0", "app.kubernetes.io/component": "api", team: "a", "cost-center": "cc1", "data-classification": "internal" }
          : { app: `app-${i}` },
        annotations: hardened ? { owner: "team-a", runbook: "https://runbooks/app" } : {},
      },
      spec,
    },
    context: {
      networkPolicies: i % 3 === 0 ? [] : [{ metadata: { name: "deny", namespace }, spec: { podSelector: {} } }],
      podDisruptionBudgets: [],
      horizontalPodAutoscalers: [],
      resourceQuotas: i % 2 === 0 ? [{ metadata: { name: "q", namespace } }] : [],
      persistentVolumeClaims: [],
      storageClasses: [],
      services: [],
      serviceMonitors: [],
    },
  };
}

const random = prng(42);
const inputs = Array.from({ length: count }, (_, i) => generate(i, random));
const bundle = await PolicyBundle.load();
const evaluator = new PolicyEvaluator(bundle, { organization: { environment: "production" }, settings: { allowedRegistries: ["registry.example.com"] } });

let peakRss = process.memoryUsage().rss;
for (let i = 0; i < Math.min(500, count); i++) evaluator.evaluate(inputs[i]!); // warm-up (JIT, wasm tier-up)
const timings = new Float64Array(count);
let findings = 0;
const started = performance.now();
for (let i = 0; i < count; i++) {
  const t = performance.now();
  findings += evaluator.evaluate(inputs[i]!).findings.length;
  timings[i] = performance.now() - t;
  if (i % 500 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
}
const elapsed = (performance.now() - started) / 1000;
peakRss = Math.max(peakRss, process.memoryUsage().rss);
const sorted = Array.from(timings).sort((a, b) => a - b);
const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const result = {
  workloads: count,
  rules: bundle.catalogue.length,
  findings,
  seconds: elapsed,
  perSecond: count / elapsed,
  p50ms: pct(50),
  p99ms: pct(99),
  peakRssMiB: peakRss / 1048576,
};
console.log(JSON.stringify(result, null, 2));

if (write) {
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const section = [
    "## bench-eval: offline evaluation throughput",
    "",
    `Run \`npx tsx scripts/bench-eval.ts\` (${new Date().toISOString().slice(0, 10)}, ${cpu}, ${os.cpus().length} cores, Node ${process.version}, one thread).`,
    `${count.toLocaleString("en")} generated workloads (Deployments, StatefulSets, DaemonSets, Jobs, CronJobs, Pods; 40% hardened, the rest with typical violations) against all ${result.rules} built-in rules, production config, through the full evaluator (engine + enforcement).`,
    "",
    "| metric | value | target |",
    "|---|---|---|",
    `| workloads/s | ${Math.round(result.perSecond).toLocaleString("en")} | ≥ 5,000 |`,
    `| p50 per workload | ${result.p50ms.toFixed(3)} ms | |`,
    `| p99 per workload | ${result.p99ms.toFixed(3)} ms | |`,
    `| peak RSS | ${result.peakRssMiB.toFixed(0)} MiB | < 300 MiB |`,
    `| findings produced | ${findings.toLocaleString("en")} | |`,
    "",
  ].join("\n");
  await writeBenchmarkSection(section);
  console.log("wrote BENCHMARKS.md");
}
