// Benchmark: evaluate 10,000 generated workloads against the whole catalogue in one process.
// Prints workloads/s, p50/p99 per workload and peak RSS (median of --rounds passes), and records them in
// BENCHMARKS.md.
//   npx tsx scripts/bench-eval.ts [--count 10000] [--rounds 3] [--no-write]
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
// Three rounds over the same workloads; the median round is reported (this VM's speed wanders by 20%).
const rounds = Number(args[args.indexOf("--rounds") + 1]) || 3;
const runs: { elapsed: number; cpuSeconds: number; timings: Float64Array }[] = [];
const perWorkload = new Float64Array(count);
let findings = 0;
for (let round = 0; round < rounds; round++) {
  const timings = new Float64Array(count);
  findings = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    const n = evaluator.evaluate(inputs[i]!).findings.length;
    timings[i] = performance.now() - t;
    perWorkload[i] = n;
    findings += n;
    if (i % 500 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  runs.push({ elapsed, cpuSeconds: (cpu.user + cpu.system) / 1e6, timings });
}
const median = [...runs].sort((a, b) => a.elapsed - b.elapsed)[Math.floor(runs.length / 2)]!;
const { elapsed, cpuSeconds, timings } = median;
// Where the time goes: a least-squares line time = fixed + perFinding × findings over every workload.
const meanN = findings / count;
const meanT = timings.reduce((a, b) => a + b, 0) / count;
let sxy = 0;
let sxx = 0;
for (let i = 0; i < count; i++) {
  sxy += (perWorkload[i]! - meanN) * (timings[i]! - meanT);
  sxx += (perWorkload[i]! - meanN) ** 2;
}
const perFindingMs = sxx > 0 ? sxy / sxx : 0;
const fixedMs = meanT - perFindingMs * meanN;
const fewest = Math.min(...perWorkload);
peakRss = Math.max(peakRss, process.memoryUsage().rss);
const sorted = Array.from(timings).sort((a, b) => a - b);
const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const result = {
  workloads: count,
  rules: bundle.catalogue.length,
  findings,
  seconds: elapsed,
  perSecond: count / elapsed,
  perCpuSecond: count / cpuSeconds,
  passes: runs.map((r) => Math.round(count / r.elapsed)),
  findingsPerWorkload: meanN,
  fixedMs,
  perFindingMs,
  p50ms: pct(50),
  p99ms: pct(99),
  peakRssMiB: peakRss / 1048576,
};
console.log(JSON.stringify(result, null, 2));

if (write) {
  const model = os.cpus()[0]?.model ?? "unknown CPU";
  const section = [
    "## bench-eval: offline evaluation throughput",
    "",
    `Run \`npx tsx scripts/bench-eval.ts\` (${new Date().toISOString().slice(0, 10)}, ${model}, ${os.cpus().length} cores, Node ${process.version}, one thread).`,
    `${count.toLocaleString("en")} generated workloads (Deployments, StatefulSets, DaemonSets, Jobs, CronJobs, Pods; 40% hardened, the rest with typical violations) against all ${result.rules} built-in rules, production config, through the full evaluator (engine + enforcement); the median of ${rounds} passes (${runs.map((r) => Math.round(count / r.elapsed).toLocaleString("en")).join(", ")} workloads/s).`,
    "",
    "| metric | value | target |",
    "|---|---|---|",
    `| workloads/s (wall clock) | ${Math.round(result.perSecond).toLocaleString("en")} | ≥ 5,000 |`,
    `| workloads per CPU-second | ${Math.round(result.perCpuSecond).toLocaleString("en")} | |`,
    `| p50 per workload | ${result.p50ms.toFixed(3)} ms | |`,
    `| p99 per workload | ${result.p99ms.toFixed(3)} ms | |`,
    `| peak RSS | ${result.peakRssMiB.toFixed(0)} MiB | < 300 MiB |`,
    `| findings produced | ${findings.toLocaleString("en")} (${meanN.toFixed(1)} per workload) | |`,
    "",
    `Where the time goes: an evaluation costs about ${(fixedMs * 1000).toFixed(0)} µs whatever it finds (the ${result.rules} rules walking the object: ≈${((fixedMs * 1000) / result.rules).toFixed(1)} µs per rule, plus writing the input into wasm memory) and ${(perFindingMs * 1000).toFixed(1)} µs per finding (its message, path and JSON Patch fix built in Rego, serialised out of wasm, parsed, and turned into a typed finding with enforcement); least-squares fit over every workload. So a workload without findings would run at about ${Math.round(1000 / fixedMs).toLocaleString("en")}/s (the fewest any generated workload had was ${fewest}: production rules such as the ResourceQuota and PodDisruptionBudget ones fire on hardened ones too), one with the mix's ${meanN.toFixed(0)} findings at ${Math.round(result.perSecond).toLocaleString("en")}/s. ${
      result.perSecond >= 5000
        ? ""
        : "The 5,000/s target is not met for this mix: what is left is OPA's WebAssembly evaluation itself (value hashing, allocation, JSON in and out: about 80% of the time is inside the module). The rules make no host calls (messages use concat, not sprintf: that was a quarter of the time), quantities and image references are parsed once per evaluation. Further steps would be evaluating a namespace's workloads in one call, or several workers for scans (one core is the target here)."
    }`,
    "",
  ].join("\n");
  await writeBenchmarkSection(section);
  console.log("wrote BENCHMARKS.md");
}
