// Benchmark: 200 custom JSON rules compiled with the built-in catalogue into one bundle, cold (fresh
// cache) and cached (a restart), and evaluation speed with them loaded. Records a BENCHMARKS.md section.
//   npx tsx scripts/bench-custom.ts [--rules 200] [--workloads 5000] [--no-write]
import { writeBenchmarkSection } from "./lib/benchmarks-md.js";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { CustomRuleJson } from "../src/config/types.js";
import { PolicyBundle } from "../src/policy/bundle.js";
import { compileCustomRules, loadCustomRules } from "../src/policy/custom/compile.js";
import { PolicyEvaluator } from "../src/policy/evaluator.js";

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const ruleCount = option("--rules", 200);
const workloads = option("--workloads", 5000);
const write = !args.includes("--no-write");

const TEMPLATES: ((i: number) => Omit<CustomRuleJson, "id" | "severity" | "category" | "actions">)[] = [
  (i) => ({ name: `registry ${i}`, conditions: [{ field: "spec.template.spec.containers[*].image", operator: "regex_match", value: i % 2 ? "\\.example\\.com/" : `^registry[0-9]+\\.example\\.com/(app|svc${i})` }] }),
  (i) => ({ name: `memory ${i}`, conditions: [{ field: "spec.template.spec.containers[*].resources.limits.memory", operator: "less_than", value: `${6 + (i % 4)}Gi` }] }),
  (i) => ({ name: `label ${i}`, conditions: [{ field: `metadata.labels["team-${i % 5}"]`, operator: "exists", value: true }] }),
  (i) => ({ name: `env ${i}`, scope: "deployment", conditions: [{ field: "metadata.labels.env", operator: "in", value: ["prod", "staging", `env-${i}`] }] }),
  (i) => ({
    name: `isolated ${i}`,
    match: { conditions: [{ field: "metadata.labels.tier", operator: "equals", value: `t${i % 3}` }] },
    conditions: [{ field: "facts.networkIsolated", operator: "equals", value: true }],
  }),
  (i) => ({ name: `replicas ${i}`, scope: "deployment", conditions: [{ field: "spec.replicas", operator: "greater_than", value: i % 3 }] }),
];

const rules: CustomRuleJson[] = Array.from({ length: ruleCount }, (_, i) => ({
  id: `org-${String(i).padStart(3, "0")}`,
  severity: (["critical", "high", "medium", "low"] as const)[i % 4]!,
  category: (["security", "compliance", "performance", "cost", "operations"] as const)[i % 5]!,
  actions: [{ type: i % 2 ? "warn" : "deny", message: `organisation rule ${i}` }],
  ...TEMPLATES[i % TEMPLATES.length]!(i),
}));

const cacheDir = await mkdtemp(path.join(os.tmpdir(), "kube-policy-bench-cache-"));
try {
  const builtIn = await PolicyBundle.load();
  const configFile = path.join(cacheDir, "rules.json");
  await writeFile(configFile, JSON.stringify({ customRules: rules }));
  let t = performance.now();
  const set = await loadCustomRules({ customRules: rules }, configFile, builtIn);
  const cold = await compileCustomRules(set, { cacheDir });
  const coldSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  const set2 = await loadCustomRules({ customRules: rules }, configFile, builtIn);
  const warm = await compileCustomRules(set2, { cacheDir });
  const cachedSeconds = (performance.now() - t) / 1000;
  if (!warm.cached || cold.cached) throw new Error("cache did not behave: cold must compile, warm must load from cache");

  const inputs = Array.from({ length: workloads }, (_, i) => ({
    object: {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: `app-${i}`, namespace: `ns-${i % 20}`, labels: { tier: `t${i % 3}`, env: i % 10 ? "prod" : "dev", "team-0": "a", "team-1": "b", "team-2": "c", "team-3": "d", "team-4": i % 10 ? "e" : "" }  },
      spec: {
        replicas: 1 + (i % 3),
        template: { metadata: { labels: { app: `app-${i}` } }, spec: { containers: [{ name: "c", image: `registry${i % 7}.example.com/app:1.0.${i % 9}`, resources: { limits: { memory: `${1 + (i % 6)}Gi`, cpu: "500m" }, requests: { memory: "512Mi", cpu: "100m" } } }] } },
      },
    },
    context: { networkPolicies: i % 10 === 0 ? [] : [{ metadata: { name: "np" }, spec: { podSelector: {} } }], podDisruptionBudgets: [], horizontalPodAutoscalers: [], resourceQuotas: [], persistentVolumeClaims: [], storageClasses: [], services: [], serviceMonitors: [] },
  }));
  const measure = (bundle: PolicyBundle) => {
    const evaluator = new PolicyEvaluator(bundle, {});
    for (let i = 0; i < 300; i++) evaluator.evaluate(inputs[i]!);
    const start = performance.now();
    let findings = 0;
    for (const input of inputs) findings += evaluator.evaluate(input).findings.length;
    return { perSecond: inputs.length / ((performance.now() - start) / 1000), findings };
  };
  const builtInOnly = measure(builtIn);
  const withCustom = measure(warm.bundle);
  const result = {
    rules: ruleCount,
    coldCompileSeconds: coldSeconds,
    cachedStartSeconds: cachedSeconds,
    workloads,
    builtInOnlyPerSecond: builtInOnly.perSecond,
    withCustomPerSecond: withCustom.perSecond,
    customFindings: withCustom.findings - builtInOnly.findings,
  };
  console.log(JSON.stringify(result, null, 2));
  if (write) {
    const section = [
      "## bench-custom: custom rules compiled into the bundle",
      "",
      `Run \`npx tsx scripts/bench-custom.ts\` (${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0]?.model ?? "unknown CPU"}, ${os.cpus().length} cores, Node ${process.version}, OPA 1.22.3).`,
      `${ruleCount} generated JSON rules (regex, quantity, label, list and NetworkPolicy-fact conditions; most pass, as organisation rules mostly do) plus the ${builtIn.catalogue.length} built-in rules; evaluation of ${workloads.toLocaleString("en")} Deployments, one thread.`,
      "",
      "| metric | value | target |",
      "|---|---|---|",
      `| cold compile (generate, opa fmt, opa check, opa build -t wasm) | ${coldSeconds.toFixed(2)} s | < 10 s |`,
      `| cached start (same rules, bundle from the content-hash cache) | ${cachedSeconds.toFixed(3)} s | < 1 s |`,
      `| evaluation, built-in rules only | ${Math.round(builtInOnly.perSecond).toLocaleString("en")} workloads/s | |`,
      `| evaluation, built-in + ${ruleCount} custom rules | ${Math.round(withCustom.perSecond).toLocaleString("en")} workloads/s | |`,
      "",
    ].join("\n");
    await writeBenchmarkSection(section);
  }
} finally {
  if (!process.env.KEEP_BENCH_CACHE) await rm(cacheDir, { recursive: true, force: true });
  else console.error(`cache kept in ${cacheDir}`);
}
