// kube-policy rules: the catalogue, as the configuration sees it.
import { loadPolicySetup } from "../policy/setup.js";
import { PolicyEvaluator } from "../policy/evaluator.js";

export async function rulesCommand(options: { category?: string; config?: string; format: "text" | "json" }): Promise<number> {
  const { config, bundle } = await loadPolicySetup(options.config);
  const rules = new PolicyEvaluator(bundle, config)
    .catalogue()
    .filter((r) => !options.category || r.category === options.category);
  if (options.format === "json") {
    process.stdout.write(`${JSON.stringify({ rules }, null, 2)}\n`);
    return 0;
  }
  const width = Math.max(...rules.map((r) => r.id.length), 4);
  process.stdout.write(`${"ID".padEnd(width)}  CATEGORY     SEVERITY  ENFORCEMENT  FIX     FRAMEWORKS\n`);
  for (const r of rules) {
    process.stdout.write(
      `${r.id.padEnd(width)}  ${r.category.padEnd(11)}  ${r.effectiveSeverity.padEnd(8)}  ${r.enforcement.padEnd(11)}  ${(r.fixRisk ?? "-").padEnd(6)}  ${Object.keys(r.frameworks).join(",")}\n`,
    );
  }
  process.stdout.write(`\n${rules.length} rule(s), ${rules.filter((r) => r.enabled).length} enabled\n`);
  return 0;
}
