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
  "Use evaluate_deployment_policies or evaluate_workload for one workload, evaluate_manifest for YAML not yet deployed, " +
  "generate_compliance_report for a namespace or the cluster, and list_policy_rules to explain a rule id.";

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
