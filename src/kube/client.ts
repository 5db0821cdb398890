// A small Kubernetes REST client on top of @kubernetes/client-node's KubeConfig (which does the
// kubeconfig parsing, contexts, exec plugins, in-cluster tokens and TLS). Every call is counted, lists
// are paginated, and failures become errors that name the verb, resource and namespace.
import { createHash } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { KubeConfig } from "@kubernetes/client-node";
import { ForbiddenError, NotFoundError, UnavailableError, AppError, ConfigError } from "../errors.js";
import type { KubeconfigLocation } from "./kubeconfig.js";

export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
}

export class ConflictError extends AppError {
  static override code = "conflict";
  static override status = 409;
}

/** The API server refused a request as invalid (HTTP 422 / 400): validation, admission, a malformed patch. */
export class RejectedError extends AppError {
  static override code = "rejected_by_api_server";
  static override status = 422;
}

export class UnauthorizedClusterError extends AppError {
  static override code = "cluster_unauthorized";
  static override status = 502;
}

export interface RequestOptions {
  method?: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  contentType?: string;
  /** For messages: "list deployments in namespace shop". */
  what: { verb: string; resource: string; namespace?: string; name?: string };
}

export class KubeClient {
  /** API requests made so far (benchmarks and tests read it). */
  requests = 0;
  /** TLS connections opened so far: with keep-alive far fewer than requests. */
  connections = 0;
  readonly server: string;
  /**
   * Keep-alive agents by TLS material. client-node's applyToHTTPSOptions makes a new agent for every
   * request: a TLS handshake and a new secure context (all CA certificates parsed again) each time,
   * 10-20 ms of blocked event loop per request, which the admission webhook's latency felt. Credentials
   * that rotate (exec plugins, in-cluster tokens) change the key, so they still take effect.
   */
  private readonly agents = new Map<string, http.Agent>();

  private constructor(
    readonly kubeConfig: KubeConfig,
    readonly contextName: string,
  ) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new ConfigError(`kubeconfig context ${JSON.stringify(contextName)} has no cluster`);
    this.server = cluster.server.replace(/\/+$/, "");
  }

  static load(location: KubeconfigLocation): KubeClient {
    const kc = new KubeConfig();
    try {
      if (location.kind === "in-cluster") kc.loadFromCluster();
      else {
        kc.loadFromFile(location.path);
        if (location.context) {
          if (!kc.getContexts().some((c) => c.name === location.context)) {
            throw new ConfigError(
              `kubeconfig ${location.path} has no context ${JSON.stringify(location.context)} (contexts: ${kc.getContexts().map((c) => c.name).join(", ") || "none"})`,
            );
          }
          kc.setCurrentContext(location.context);
        }
      }
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw new ConfigError(`cannot load kubeconfig ${location.kind === "file" ? location.path : "(in-cluster)"}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return new KubeClient(kc, kc.getCurrentContext());
  }

  static path(type: ResourceType, namespace?: string, name?: string): string {
    const base = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
    const ns = type.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
    return `${base}${ns}/${type.plural}${name ? `/${encodeURIComponent(name)}` : ""}`;
  }

  async request<T>(path: string, options: RequestOptions): Promise<T> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined && v !== "") url.searchParams.set(k, String(v));
    const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const requestOptions: https.RequestOptions = {
      method: options.method ?? "GET",
      headers: {
        Accept: "application/json",
        ...(body ? { "Content-Type": options.contentType ?? "application/json", "Content-Length": body.length } : {}),
      },
      timeout: 30_000,
    };
    await this.kubeConfig.applyToHTTPSOptions(requestOptions);
    requestOptions.agent = this.agentFor(requestOptions, url.protocol);
    this.requests++;
    try {
      return await this.send<T>(url, requestOptions, body, options.what);
    } catch (error) {
      // A kept-alive connection the server closed while idle fails the next request before the server
      // read it (Node's documented race): send it once more on a new connection.
      if (error instanceof StaleConnectionError) return this.send<T>(url, requestOptions, body, options.what, false);
      throw error;
    }
  }

  /** Closes the kept-alive connections (idle ones never hold the process open). */
  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  private agentFor(options: https.RequestOptions, protocol: string): http.Agent | undefined {
    const made = options.agent;
    if (!(made instanceof http.Agent)) return undefined;
    const material = [protocol, this.kubeConfig.getCurrentCluster()?.proxyUrl ?? "", options.ca, options.cert, options.key, options.pfx, options.passphrase, options.rejectUnauthorized, options.servername];
    const key = createHash("sha256").update(JSON.stringify(material.map((m) => (Buffer.isBuffer(m) ? m.toString("base64") : (m ?? null))))).digest("hex");
    const cached = this.agents.get(key);
    if (cached) return cached;
    // A proxy agent is kept as client-node made it; a direct one is remade with keep-alive, holding
    // as many idle connections as it may open (client-go's 25 per host), so that a burst of lists
    // (a facts refresh is about ten at once) finds them open next time.
    const agent =
      made.constructor === https.Agent || made.constructor === http.Agent
        ? new (protocol === "http:" ? http.Agent : https.Agent)({ ...(made as https.Agent).options, keepAlive: true, maxSockets: 25, maxFreeSockets: 25, scheduling: "lifo", timeout: 60_000 })
        : made;
    // Rotated client certificates leave their old agent behind: keep the newest few.
    if (this.agents.size >= 4) {
      const [oldestKey, oldest] = this.agents.entries().next().value as [string, http.Agent];
      oldest.destroy();
      this.agents.delete(oldestKey);
    }
    this.agents.set(key, agent);
    return agent;
  }

  private send<T>(url: URL, requestOptions: https.RequestOptions, body: Buffer | undefined, what: RequestOptions["what"], retryStale = true): Promise<T> {
    const transport = url.protocol === "http:" ? http : https;
    return new Promise<T>((resolve, reject) => {
      const req = transport.request(url, requestOptions, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            try {
              resolve((text ? JSON.parse(text) : {}) as T);
            } catch (error) {
              reject(new UnavailableError(`the API server answered ${describe(what)} with a body that is not JSON`, { cause: error }));
            }
            return;
          }
          reject(this.statusError(status, text, what));
        });
        res.on("error", (error) => reject(this.networkError(error, what)));
      });
      req.on("socket", () => {
        if (!req.reusedSocket) this.connections++;
      });
      req.on("timeout", () => req.destroy(Object.assign(new Error("timed out after 30 s"), { code: "ETIMEDOUT" })));
      req.on("error", (error: Error & { code?: string }) => {
        if (retryStale && req.reusedSocket && error.code === "ECONNRESET") reject(new StaleConnectionError(error.message));
        else reject(this.networkError(error, what));
      });
      if (body) req.write(body);
      req.end();
    });
  }

  /** All items of a list, following `continue` tokens (500 per page). */
  async list<T = Record<string, unknown>>(type: ResourceType, namespace?: string, options: { pageSize?: number } = {}): Promise<T[]> {
    const items: T[] = [];
    let token: string | undefined;
    do {
      const page = await this.request<{ items?: T[]; metadata?: { continue?: string } }>(KubeClient.path(type, namespace), {
        query: { limit: options.pageSize ?? 500, continue: token },
        what: { verb: "list", resource: resourceName(type), namespace },
      });
      items.push(...(page.items ?? []));
      token = page.metadata?.continue || undefined;
    } while (token);
    return items;
  }

  get<T = Record<string, unknown>>(type: ResourceType, namespace: string | undefined, name: string): Promise<T> {
    return this.request<T>(KubeClient.path(type, namespace, name), { what: { verb: "get", resource: resourceName(type), namespace, name } });
  }

  private statusError(status: number, text: string, what: RequestOptions["what"]): AppError {
    let message = text.slice(0, 500);
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message;
    } catch {
      // not a Status object: keep the raw text
    }
    const action = describe(what);
    if (status === 403) return new ForbiddenError(`forbidden: cannot ${action}: ${message}`);
    if (status === 404) return new NotFoundError(`${what.name ? `${what.resource} ${JSON.stringify(what.name)}` : what.resource} not found${what.namespace ? ` in namespace ${JSON.stringify(what.namespace)}` : ""}`);
    if (status === 401) return new UnauthorizedClusterError(`the API server rejected the credentials of context ${JSON.stringify(this.contextName)} when trying to ${action}`);
    if (status === 409) return new ConflictError(`conflict: cannot ${action}: ${message}`);
    if (status === 422 || status === 400) return new RejectedError(`the API server refused to ${action}: ${message}`);
    if (status >= 500 || status === 429) return new UnavailableError(`the API server failed to ${action} (HTTP ${status}): ${message}`);
    return new AppError(`cannot ${action} (HTTP ${status}): ${message}`);
  }

  private networkError(error: Error & { code?: string }, what: RequestOptions["what"]): AppError {
    return new UnavailableError(`cluster unreachable at ${this.server}: cannot ${describe(what)}: ${error.code ?? error.message}`, { cause: error });
  }
}

/** Internal: the request met a kept-alive connection the server had closed; it is sent again. */
class StaleConnectionError extends Error {}

export function resourceName(type: ResourceType): string {
  return type.group ? `${type.plural}.${type.group}` : type.plural;
}

function describe(what: RequestOptions["what"]): string {
  return `${what.verb} ${what.resource}${what.name ? ` ${JSON.stringify(what.name)}` : ""}${what.namespace ? ` in namespace ${JSON.stringify(what.namespace)}` : what.verb === "list" ? " in all namespaces" : ""}`;
}
