// The MCP adapter: registers every tool of tools/ on an McpServer, with progress notifications,
// structuredContent, and errors as isError results that say what was wrong and where.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { toAppError } from "../errors.js";
import type { Runtime } from "../runtime.js";
import { toolsFor } from "../tools/index.js";
import type { ToolContext } from "../tools/types.js";
import { VERSION } from "../version.js";

export const INSTRUCTIONS =
  "kube-policy-mcp checks Kubernetes workloads against policy rules (security, compliance, performance, cost, operations). " +
  "Evaluate: evaluate_deployment_policies or evaluate_workload for one workload, evaluate_manifest for YAML not yet deployed, " +
  "generate_compliance_report for a namespace or the cluster, list_policy_rules to explain a rule id, test_policy_rule to try a custom rule. " +
  "History: run_compliance_scan stores a scan, get_compliance_trends and list_scans read the history. " +
  "Fix: auto_fix_policy_violations (dryRun: true first to preview the diff) and fix_workload apply the fixes the configuration allows; " +
  "approve_fix / reject_fix decide fixes that need an approval (list_pending_fixes), rollback_fix reverts a change (list_fix_history); " +
  "query_audit_log shows who did what. send_test_notification checks Slack or e-mail delivery.";

export function createMcpServer(runtime: Runtime, options: { actorPrefix?: string } = {}): McpServer {
  const server = new McpServer({ name: "kube-policy-mcp", version: VERSION }, { instructions: INSTRUCTIONS });
  for (const tool of toolsFor({ readOnly: runtime.options.readOnly })) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.inputSchema,
        outputSchema: tool.outputSchema,
        annotations: tool.annotations,
      },
      async (args, extra) => {
        const progressToken = extra._meta?.progressToken;
        const client = server.server.getClientVersion()?.name ?? "unknown-client";
        const ctx: ToolContext = {
          runtime,
          actor: `${options.actorPrefix ?? "mcp"}:${client}`,
          signal: extra.signal,
          progress:
            progressToken === undefined
              ? undefined
              : (done, total, message) =>
                  extra.sendNotification({
                    method: "notifications/progress",
                    params: { progressToken, progress: done, total, ...(message ? { message } : {}) },
                  }),
        };
        try {
          const result = await tool.run(args, ctx);
          return { content: [{ type: "text" as const, text: result.text }], structuredContent: result.structured };
        } catch (error) {
          const appError = toAppError(error);
          const text = appError.message.startsWith(`${appError.code}:`) || appError.message.startsWith(appError.code.replace(/_/g, " "))
            ? appError.describe()
            : `${appError.code}: ${appError.describe()}`;
          return { content: [{ type: "text" as const, text }], isError: true };
        }
      },
    );
  }
  return server;
}
