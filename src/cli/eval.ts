// kube-policy eval: offline evaluation of manifests.
import { loadManifests } from "../manifests/load.js";
import { offlineInputs } from "../manifests/offline-context.js";
import { loadPolicySetup } from "../policy/setup.js";
import { PolicyEvaluator } from "../policy/evaluator.js";
import { buildReport, renderText } from "../report/evaluation.js";

export async function evalCommand(options: { filename: string[]; config?: string; format: "text" | "json" }): Promise<number> {
  const { config, bundle } = await loadPolicySetup(options.config);
  const loaded = await loadManifests(options.filename);
  const { inputs, skipped } = offlineInputs(loaded.documents);
  const evaluator = new PolicyEvaluator(bundle, config);
  const results = inputs.map(({ input, source }) => ({ ...evaluator.evaluate(input), source }));
  const report = buildReport(results, {
    skipped: skipped.map((s) => ({ ...s, reason: `${s.kind} is not a workload and not a fact any rule reads` })),
    errors: loaded.errors,
  });
  if (options.format === "json") process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(renderText(report, results));
  if (loaded.errors.length > 0) {
    process.stderr.write(
      `kube-policy: ${loaded.errors.length} document(s) could not be evaluated:\n${loaded.errors.map((e) => `  - ${e.where}: ${e.message}`).join("\n")}\n`,
    );
    return 2;
  }
  if (results.length === 0) process.stderr.write("kube-policy: no workloads found in the input\n");
  return report.passed ? 0 : 1;
}
