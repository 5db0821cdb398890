// Covers src/scans/scores.ts: the scores a scan stores are the compliance report's numbers, computed in
// one pass. For the eval fixtures and the bundled demo (violations, warnings, exempt and not-evaluated
// findings, an excluded namespace) the overall, per-category and per-framework scores of the whole scope
// and of every namespace equal those of buildComplianceReport on the same results. Real components: the
// compiled policy bundle and the evaluator; the manifests are the fixture files and the demo.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import type { PolicyConfig } from "../../src/config/types.js";
import { DEMO_DIR } from "../../src/kube/memory-source.js";
import { loadManifests } from "../../src/manifests/load.js";
import { offlineInputs } from "../../src/manifests/offline-context.js";
import { PolicyBundle } from "../../src/policy/bundle.js";
import { PolicyEvaluator, type WorkloadResult } from "../../src/policy/evaluator.js";
import { buildComplianceReport } from "../../src/report/compliance.js";
import { scanScores } from "../../src/scans/scores.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

async function compare(t: import("ava").ExecutionContext, dirs: string[], config: PolicyConfig) {
  const bundle = await PolicyBundle.load();
  const evaluator = new PolicyEvaluator(bundle, config);
  const loaded = await loadManifests(dirs);
  const results: WorkloadResult[] = offlineInputs(loaded.documents).inputs.map(({ input }) => evaluator.evaluate(input));
  const catalogue = evaluator.catalogue();
  const frameworks = [...new Set(catalogue.filter((r) => r.enabled).flatMap((r) => Object.keys(r.frameworks)))].sort();
  const scored = scanScores(results, catalogue);
  const expectFor = (subset: WorkloadResult[], namespace: string) => {
    const report = buildComplianceReport({
      results: subset,
      catalogue,
      config: { ...config, organization: { ...config.organization, compliance: frameworks } },
      cluster: "test",
      namespaces: [],
      warnings: [],
    });
    const actual = scored.scores.filter((s) => s.namespace === namespace);
    t.is(actual.find((s) => s.dimension === "overall")!.percent, report.compliance.percent, `overall ${namespace || "(whole)"}`);
    for (const category of new Set(report.rules.map((r) => r.category))) {
      const rules = report.rules.filter((r) => r.category === category);
      const passed = rules.filter((r) => r.status === "passed").length;
      const failed = rules.filter((r) => r.status === "failed").length;
      const s = actual.find((x) => x.dimension === "category" && x.key === category)!;
      t.deepEqual([s.passed, s.failed], [passed, failed], `${category} ${namespace || "(whole)"}`);
    }
    for (const framework of report.frameworks) {
      const s = actual.find((x) => x.dimension === "framework" && x.key === framework.framework)!;
      t.is(s.percent, framework.percent, `${framework.framework} ${namespace || "(whole)"}`);
    }
    return report;
  };
  const whole = expectFor(results, "");
  t.is(scored.percent, whole.compliance.percent);
  t.deepEqual(scored.workloads, { total: results.length, ...whole.workloads });
  const namespaces = [...new Set(results.map((r) => r.resource.namespace ?? "default"))];
  t.true(namespaces.length > 1);
  for (const ns of namespaces) expectFor(results.filter((r) => (r.resource.namespace ?? "default") === ns), ns);
  return results;
}

test("eval fixtures with an exemption and an excluded namespace: the same numbers as the report", async (t) => {
  const config: PolicyConfig = {
    ...(JSON.parse(readFileSync(path.join(ROOT, "test/fixtures/eval/config.json"), "utf8")) as PolicyConfig),
    exemptions: [{ rules: ["image-pull-policy", "privileged-container"], namespace: "shop", reason: "test" }],
    excludedNamespaces: ["default"],
  };
  const results = await compare(t, [path.join(ROOT, "test/fixtures/eval/manifests")], config);
  const outcomes = new Set(results.flatMap((r) => r.findings.map((f) => f.outcome)));
  for (const outcome of ["violation", "exempt", "not-evaluated"]) t.true(outcomes.has(outcome as never), `the fixtures produce ${outcome} findings`);
  t.true(results.some((r) => r.skipped), "a workload in the excluded namespace");
});

test("the demo cluster under an advisory configuration: the same numbers as the report", async (t) => {
  const results = await compare(t, [DEMO_DIR], { global: { enforcement: "advisory" }, organization: { compliance: ["SOC2"] } });
  t.true(results.some((r) => r.findings.some((f) => f.outcome === "warning")));
});
