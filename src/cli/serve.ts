// kube-policy serve: MCP over stdio (default), or HTTP (REST tools + MCP at /mcp) with --http.
// Without cluster credentials it serves the bundled demo manifests, so a first run shows real findings.
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { startHttpServer, tokensFromEnv } from "../http/server.js";
import { findKubeconfig } from "../kube/kubeconfig.js";
import { MemorySource } from "../kube/memory-source.js";
import type { WorkloadSource } from "../kube/source.js";
import { logger } from "../logger.js";
import { createMcpServer } from "../mcp/server.js";
import { Runtime } from "../runtime.js";

export interface ServeOptions {
  http?: string;
  host?: string;
  config?: string;
  kubeconfig?: string;
  context?: string;
  filename?: string[];
  demo?: boolean;
  readOnly?: boolean;
}

export async function openSource(options: { kubeconfig?: string; context?: string; filename?: string[]; demo?: boolean }): Promise<WorkloadSource> {
  if (options.filename && options.filename.length > 0) return MemorySource.fromFiles(options.filename);
  if (options.demo) return MemorySource.demo();
  const location = findKubeconfig({ kubeconfig: options.kubeconfig, context: options.context });
  if (!location) {
    logger.warn("no kubeconfig found (--kubeconfig, KUBECONFIG, ~/.kube/config, in-cluster): serving the bundled demo manifests");
    return MemorySource.demo();
  }
  const { ClusterSource } = await import("../kube/cluster-source.js");
  return ClusterSource.connect(location);
}

export async function serveCommand(options: ServeOptions): Promise<number> {
  const source = await openSource(options);
  const runtime = await Runtime.create({ config: options.config, source, readOnly: options.readOnly });
  logger.info({ source: source.description, config: runtime.options.configSource, readOnly: Boolean(options.readOnly) }, "policy runtime ready");

  if (options.http === undefined) {
    const server = createMcpServer(runtime, { actorPrefix: "mcp-stdio" });
    await server.connect(new StdioServerTransport());
    await new Promise<void>((resolve) => {
      process.stdin.on("close", resolve);
      process.stdin.on("end", resolve);
    });
    await server.close();
    return 0;
  }
  const port = Number(options.http);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--http needs a port number (got ${JSON.stringify(options.http)})`);
  const running = await startHttpServer(runtime, { host: options.host, port }, { tokens: tokensFromEnv(), logger });
  logger.info({ url: running.url }, `listening: POST ${running.url}/tools/<tool>, MCP at ${running.url}/mcp`);
  process.stderr.write(`kube-policy: serving ${source.description} on ${running.url} (REST: POST /tools/<name>, MCP: /mcp)\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await running.close();
  await source.close?.();
  return 0;
}
