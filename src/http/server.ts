// The HTTP adapter (koa): POST /tools/<name> runs a tool with its JSON arguments and returns the
// tool's structured result, MCP over Streamable HTTP at /mcp, GET /tools and /healthz.
// Listens on 127.0.0.1 unless told otherwise; anywhere else it requires a bearer token.
import { timingSafeEqual } from "node:crypto";
import http from "node:http";
import Koa from "koa";
import Router from "@koa/router";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";
import { zodToJsonSchema } from "zod-to-json-schema";
import { AppError, InvalidInputError, NotFoundError, toAppError } from "../errors.js";
import { createMcpServer } from "../mcp/server.js";
import type { Runtime } from "../runtime.js";
import { toolsFor } from "../tools/index.js";
import { complianceReportRoute } from "./reports.js";
import { dashboardAuth, mountDashboard } from "./dashboard/index.js";
import { metricsRoute } from "./metrics.js";
import { VERSION } from "../version.js";
import { listen as listenOn } from "./listen.js";

export class UnauthorizedError extends AppError {
  static override code = "unauthorized";
  static override status = 401;
}

export class PayloadTooLargeError extends AppError {
  static override code = "payload_too_large";
  static override status = 413;
}

export interface HttpOptions {
  /** Bearer tokens by name (the name is recorded as the actor). Empty: no authentication (loopback only). */
  tokens?: Map<string, string>;
  /** Largest request body accepted, in bytes. */
  bodyLimit?: number;
  logger?: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/** Tokens from KUBE_POLICY_TOKEN (named "default") and KUBE_POLICY_TOKENS ("name=token,name2=token2"). */
export function tokensFromEnv(env: NodeJS.ProcessEnv = process.env): Map<string, string> {
  const tokens = new Map<string, string>();
  if (env.KUBE_POLICY_TOKEN) tokens.set("default", env.KUBE_POLICY_TOKEN);
  for (const entry of (env.KUBE_POLICY_TOKENS ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
    const at = entry.indexOf("=");
    if (at <= 0 || at === entry.length - 1) throw new InvalidInputError(`KUBE_POLICY_TOKENS entries must be name=token (got an entry without '=')`);
    tokens.set(entry.slice(0, at), entry.slice(at + 1));
  }
  return tokens;
}

function matchToken(header: string | undefined, tokens: Map<string, string>): string | null {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? "");
  if (!match) return null;
  const given = Buffer.from(match[1]!.trim());
  for (const [name, token] of tokens) {
    const expected = Buffer.from(token);
    if (expected.length === given.length && timingSafeEqual(expected, given)) return name;
  }
  return null;
}

/** The request body as text, refused with 413 once it grows past `limit` bytes (nothing more is buffered). */
export async function readBodyText(req: http.IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new PayloadTooLargeError(`request body is larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function readBody(req: http.IncomingMessage, limit: number): Promise<unknown> {
  const text = (await readBodyText(req, limit)).trim();
  if (!text) return {};
  try {
    // Parsed whatever the Content-Type: `curl -d '{...}'` sends JSON as application/x-www-form-urlencoded.
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`request body is not valid JSON: ${(error as Error).message}`);
  }
}

export function createHttpApp(runtime: Runtime, options: HttpOptions = {}): Koa {
  const tokens = options.tokens ?? new Map<string, string>();
  const bodyLimit = options.bodyLimit ?? 4 * 1024 * 1024;
  const app = new Koa();
  const router = new Router();

  app.use(async (ctx, next) => {
    const started = Date.now();
    try {
      await next();
    } catch (error) {
      const appError = toAppError(error);
      ctx.status = appError.status;
      ctx.body = { error: appError.toJSON() };
      if (appError.status >= 500) options.logger?.warn({ err: appError.message, path: ctx.path }, "request failed");
    } finally {
      options.logger?.info({ method: ctx.method, path: ctx.path, status: ctx.status, ms: Date.now() - started, actor: ctx.state.actor }, "http");
    }
  });

  // Browsers sign in to the dashboard pages with a session cookie (dashboard/auth.ts); nothing else accepts it.
  app.use(dashboardAuth(tokens));
  app.use(async (ctx, next) => {
    if (ctx.path === "/healthz" || ctx.state.dashboardSession === true) return next();
    if (tokens.size === 0) {
      ctx.state.actor = "http:anonymous";
      return next();
    }
    const name = matchToken(ctx.get("authorization"), tokens);
    if (!name) {
      ctx.set("WWW-Authenticate", 'Bearer realm="kube-policy-mcp"');
      throw new UnauthorizedError("a valid bearer token is required (Authorization: Bearer <token>)");
    }
    ctx.state.actor = `http:${name}`;
    return next();
  });

  router.get("/healthz", (ctx) => {
    ctx.body = { status: "ok", version: VERSION, source: runtime.source.description, rules: runtime.evaluator.bundle.catalogue.length };
  });

  router.get("/tools", (ctx) => {
    ctx.body = {
      tools: toolsFor({ readOnly: runtime.options.readOnly }).map((tool) => ({
        name: tool.name,
        title: tool.title,
        description: tool.description,
        annotations: tool.annotations,
        inputSchema: zodToJsonSchema(z.object(tool.inputSchema).strict()),
        outputSchema: zodToJsonSchema(z.object(tool.outputSchema)),
      })),
    };
  });

  router.post("/tools/:name", async (ctx) => {
    const tool = toolsFor({ readOnly: runtime.options.readOnly }).find((t) => t.name === ctx.params.name);
    if (!tool) {
      throw new NotFoundError(
        `unknown tool ${JSON.stringify(ctx.params.name)}; available: ${toolsFor({ readOnly: runtime.options.readOnly }).map((t) => t.name).join(", ")}`,
      );
    }
    const args = await readBody(ctx.req, bodyLimit);
    if (typeof args !== "object" || args === null || Array.isArray(args)) {
      throw new InvalidInputError("request body must be a JSON object of the tool's arguments");
    }
    const result = await tool.run(args, { runtime, actor: String(ctx.state.actor) });
    ctx.body = result.structured;
  });

  router.get("/reports/compliance", complianceReportRoute(runtime));
  router.get("/metrics", metricsRoute(runtime));
  mountDashboard(router, runtime, options.logger);

  // MCP over Streamable HTTP, stateless: one server and transport per request.
  router.all("/mcp", async (ctx) => {
    if (ctx.method !== "POST") {
      ctx.status = 405;
      ctx.set("Allow", "POST");
      ctx.body = { jsonrpc: "2.0", error: { code: -32000, message: "Method not allowed: this server is stateless, use POST" }, id: null };
      return;
    }
    const body = await readBody(ctx.req, bodyLimit);
    const server = createMcpServer(runtime, { actorPrefix: String(ctx.state.actor).replace(/^http/, "mcp-http") });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: false });
    ctx.respond = false;
    ctx.res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(ctx.req, ctx.res, body);
  });

  app.use(router.routes());
  app.use(router.allowedMethods());
  app.use((ctx) => {
    if (ctx.status === 404 && !ctx.body) throw new NotFoundError(`no route for ${ctx.method} ${ctx.path}`);
  });
  return app;
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Starts the HTTP server; refuses a non-loopback address without tokens. */
export async function startHttpServer(
  runtime: Runtime,
  listen: { host?: string; port: number },
  options: HttpOptions = {},
): Promise<RunningServer> {
  const host = listen.host ?? "127.0.0.1";
  if (!LOOPBACK.has(host) && (options.tokens?.size ?? 0) === 0) {
    throw new InvalidInputError(
      `refusing to listen on ${host} without authentication: set KUBE_POLICY_TOKEN (or KUBE_POLICY_TOKENS=name=token,...) or listen on 127.0.0.1`,
    );
  }
  const app = createHttpApp(runtime, options);
  const server = http.createServer(app.callback());
  server.requestTimeout = 5 * 60 * 1000;
  return listenOn(server, host, listen.port, "http");
}
