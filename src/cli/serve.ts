// kube-policy serve: MCP over stdio (default), or HTTP (REST tools + MCP at /mcp) with --http.
// Without cluster credentials it serves the bundled demo manifests, so a first run shows real findings.
import { existsSync } from "node:fs";
import { watchRules } from "../policy/custom/watch.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { startHttpServer, tokensFromEnv } from "../http/server.js";
import { findKubeconfig } from "../kube/kubeconfig.js";
import { MemorySource } from "../kube/memory-source.js";
import type { WorkloadSource } from "../kube/source.js";
import { logger } from "../logger.js";
import { createMcpServer } from "../mcp/server.js";
import { Runtime } from "../runtime.js";
import { startScheduler } from "../scans/scheduler.js";
import { applyNotificationRetention, notifierFor } from "../notify/notifier.js";
import { startAdmissionFromCli } from "./serve-admission.js";

export interface ServeOptions {
  http?: string;
  host?: string;
  config?: string;
  kubeconfig?: string;
  context?: string;
  filename?: string[];
  demo?: boolean;
  readOnly?: boolean;
  /** --admission PORT: the validating admission webhook over HTTPS (see serve-admission.ts). */
  admission?: string;
  admissionHost?: string;
  admissionCert?: string;
  admissionKey?: string;
  admissionReloadInterval?: string;
  admissionClientCa?: string;
  admissionClientCn?: string;
  /** false with --no-watch: do not recompile rules when the configuration changes. */
  watch?: boolean;
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
  // The configured scans run on their schedules while the server is up (none configured: null).
  const scans = startScheduler(runtime, { logger });
  // Notification history retention (storage.retentionDays): at start, and after each scan.
  try {
    const removed = applyNotificationRetention(runtime);
    if (removed && removed.notifications + removed.events > 0) logger.info(removed, "notification history retention: old finished notifications removed");
  } catch (error) {
    logger.warn({ err: (error as Error).message }, "notification history retention failed; it runs again after the next scan");
  }
  // Notifications: unfinished messages of a stopped process are resumed; the digest schedule and the stale-data timer run while the server is up.
  const notifier = runtime.config.notifications ? notifierFor(runtime) : undefined;
  notifier?.start();
  // A configuration file (not a preset) is watched: rule changes recompile and swap in the background.
  const configFile = runtime.options.configSource;
  const ruleWatcher = configFile && existsSync(configFile) && options.watch !== false ? watchRules(runtime, configFile, { log: logger }) : undefined;
  process.once("exit", () => ruleWatcher?.close());
  const stopWatching = () => ruleWatcher?.close();

  const admission = options.admission === undefined ? undefined : await startAdmissionFromCli(runtime, { ...options, admission: options.admission });
  // A webhook-only server (in a pod, stdin closed) must not stop when stdin ends.
  if (options.http === undefined && admission === undefined) {
    const server = createMcpServer(runtime, { actorPrefix: "mcp-stdio" });
    await server.connect(new StdioServerTransport());
    await new Promise<void>((resolve) => {
      process.stdin.on("close", resolve);
      process.stdin.on("end", resolve);
    });
    await server.close();
    stopWatching();
    await scans?.scheduler.stop();
    await notifier?.stop();
    return 0;
  }
  let running: { close(): Promise<void> } | undefined;
  if (options.http !== undefined) {
    const port = Number(options.http);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--http needs a port number (got ${JSON.stringify(options.http)})`);
    const rest = await startHttpServer(runtime, { host: options.host, port }, { tokens: tokensFromEnv(), logger });
    running = rest;
    logger.info({ url: rest.url }, `listening: POST ${rest.url}/tools/<tool>, MCP at ${rest.url}/mcp`);
    process.stderr.write(`kube-policy: serving ${source.description} on ${rest.url} (REST: POST /tools/<name>, MCP: /mcp)\n`);
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  // Open file watches would keep the process alive after the servers close.
  stopWatching();
  await running?.close();
  await admission?.close();
  await scans?.scheduler.stop();
  await notifier?.stop();
  await source.close?.();
  return 0;
}
