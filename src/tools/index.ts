// Every tool the server offers, in one list the adapters loop over.
import { evaluateDeploymentPolicies, evaluateManifest, evaluateWorkload } from "./evaluation.js";
import { generateComplianceReport } from "./report.js";
import { listPolicyRules } from "./rules.js";
import { getComplianceTrends, listScans, runComplianceScan } from "./scans.js";
import { testPolicyRule } from "./custom.js";
import type { Tool } from "./types.js";
import { approveFixTool, autoFixPolicyViolations, fixWorkload, listFixHistory, listPendingFixes, rejectFixTool, rollbackFix } from "./remediation.js";
import { queryAuditLog } from "./audit.js";
import { listNotificationHistory, sendTestNotification } from "./notifications.js";
import { listExemptionsTool } from "./exemptions.js";
import { analyzePolicyEffectiveness } from "./effectiveness.js";

export const ALL_TOOLS: Tool[] = [evaluateDeploymentPolicies, generateComplianceReport, listPolicyRules, evaluateWorkload, evaluateManifest, testPolicyRule,
  autoFixPolicyViolations, fixWorkload, approveFixTool, rejectFixTool, listPendingFixes, rollbackFix, listFixHistory, queryAuditLog,
  runComplianceScan, getComplianceTrends, listScans, sendTestNotification, listNotificationHistory, analyzePolicyEffectiveness,
  listExemptionsTool];

/** The tools a server exposes: write tools are hidden in read-only mode. */
export function toolsFor(options: { readOnly?: boolean }): Tool[] {
  return ALL_TOOLS.filter((tool) => !(options.readOnly && tool.writes));
}
