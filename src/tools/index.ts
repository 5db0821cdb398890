// Every tool the server offers, in one list the adapters loop over.
import { evaluateDeploymentPolicies, evaluateManifest, evaluateWorkload } from "./evaluation.js";
import { generateComplianceReport } from "./report.js";
import { listPolicyRules } from "./rules.js";
import type { Tool } from "./types.js";

export const ALL_TOOLS: Tool[] = [evaluateDeploymentPolicies, generateComplianceReport, listPolicyRules, evaluateWorkload, evaluateManifest];

/** The tools a server exposes: write tools are hidden in read-only mode. */
export function toolsFor(options: { readOnly?: boolean }): Tool[] {
  return ALL_TOOLS.filter((tool) => !(options.readOnly && tool.writes));
}
