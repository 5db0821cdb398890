// Shared by the integration tests: the objects they create on the real test cluster (valid for the
// apiserver, which validates and defaults them), narrower users made with the TokenRequest API, and
// small HTTP / MCP client helpers. Nothing here stubs a product component.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  NetworkingV1Api,
  PolicyV1Api,
  RbacAuthorizationV1Api,
  type V1CronJob,
  type V1Deployment,
  type V1PolicyRule,
  type V1StatefulSet,
} from "@kubernetes/client-node";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { toolsFor } from "../../src/tools/index.js";
import type { Cluster } from "../harness/cluster.js";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export const PRODUCTION = "production";
export const STAGING = "staging";
/** Compliant: every enabled rule of the default configuration passes (facts in its namespace included). */
export const COMPLIANT = "web-app";
/** Violating: privileged container, image with the latest tag. */
export const VIOLATING = "app";
/** A StatefulSet in production, for evaluate_workload. */
export const STATEFULSET = "ledger";
/** A CronJob in staging, for evaluate_workload with another kind. */
export const CRONJOB = "nightly-report";

/** The product document's five tools: every server offers them, read-only, in every mode. */
export const PRODUCT_TOOLS = ["evaluate_deployment_policies", "evaluate_manifest", "evaluate_workload", "generate_compliance_report", "list_policy_rules"];

/** What a server should list: the tool registry of src/tools (write tools hidden in read-only mode). */
export function registeredTools(readOnly = false): { name: string; writes: boolean }[] {
  return toolsFor({ readOnly }).map((tool) => ({ name: tool.name, writes: tool.writes }));
}

/** bin/kube-policy.js runs dist/: refuse to test a missing or stale build. */
export function assertDistFresh(): void {
  const rebuild = "run `npx tsc -p tsconfig.json` (npm test does) before these tests";
  if (!existsSync(join(ROOT, "dist/cli/main.js"))) throw new Error(`dist/ is not built: ${rebuild}`);
  const src = join(ROOT, "src");
  for (const entry of readdirSync(src, { recursive: true }) as string[]) {
    if (!entry.endsWith(".ts") || entry.endsWith(".d.ts")) continue;
    const compiled = join(ROOT, "dist", entry.replace(/\.ts$/, ".js"));
    if (existsSync(compiled) && statSync(compiled).mtimeMs < statSync(join(src, entry)).mtimeMs) {
      throw new Error(`dist/ is older than src/${entry}: ${rebuild}`);
    }
  }
}

export function kubeconfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

/** The hardened web-app of config/examples/demo/production.yaml. */
export function compliantDeployment(namespace: string, name = COMPLIANT): V1Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name,
      namespace,
      labels: {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/version": "2.4.1",
        "app.kubernetes.io/component": "frontend",
        "data-classification": "internal",
        team: "web",
        "cost-center": "cc-1042",
      },
      annotations: { owner: "web-team@example.com", runbook: `https://runbooks.example.com/${namespace}/${name}` },
    },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: "web" } },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
      template: {
        metadata: { labels: { app: "web" }, annotations: { "prometheus.io/scrape": "true" } },
        spec: {
          serviceAccountName: "web",
          automountServiceAccountToken: false,
          priorityClassName: "business-critical",
          securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 100, podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { app: "web" } } } },
              ],
            },
          },
          containers: [
            {
              name: "web",
              image: "registry.example.com/shop/web:2.4.1@sha256:0f3e3a7c1c0b8f1f4e0e6d3a2b1c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c",
              imagePullPolicy: "IfNotPresent",
              ports: [{ containerPort: 8080 }],
              resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "250m", memory: "256Mi" } },
              livenessProbe: { httpGet: { path: "/healthz", port: 8080 } },
              readinessProbe: { httpGet: { path: "/ready", port: 8080 } },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
            },
          ],
        },
      },
    },
  };
}

/** Privileged, nginx:latest, nothing else set. */
export function violatingDeployment(namespace: string, name = VIOLATING): V1Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace, labels: { "app.kubernetes.io/name": name } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name, image: "nginx:latest", securityContext: { privileged: true } }] },
      },
    },
  };
}

/** A StatefulSet with a hostPath volume and no resources. */
export function statefulSet(namespace: string, name = STATEFULSET): V1StatefulSet {
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name, namespace, labels: { "app.kubernetes.io/name": name } },
    spec: {
      serviceName: name,
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          volumes: [{ name: "data", hostPath: { path: "/var/lib/ledger" } }],
          containers: [{ name, image: "postgres:16.4", volumeMounts: [{ name: "data", mountPath: "/var/lib/postgresql/data" }] }],
        },
      },
    },
  };
}

/** The demo's nightly-report: hostNetwork and the container runtime socket. */
export function cronJob(namespace: string, name = CRONJOB): V1CronJob {
  return {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name, namespace },
    spec: {
      schedule: "0 2 * * *",
      jobTemplate: {
        spec: {
          template: {
            spec: {
              restartPolicy: "OnFailure",
              hostNetwork: true,
              volumes: [{ name: "docker", hostPath: { path: "/var/run/docker.sock" } }],
              containers: [
                {
                  name: "report",
                  image: "busybox:1.36",
                  command: ["sh", "-c", "echo report"],
                  volumeMounts: [{ name: "docker", mountPath: "/var/run/docker.sock" }],
                },
              ],
            },
          },
        },
      },
    },
  };
}

/**
 * production: the compliant web-app with its PodDisruptionBudget, a default-deny NetworkPolicy and a
 * ResourceQuota, and the StatefulSet; staging: the violating Deployment and the CronJob.
 */
export async function seedCluster(cluster: Cluster): Promise<void> {
  const kc = kubeconfig(cluster.adminKubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const policy = kc.makeApiClient(PolicyV1Api);
  const net = kc.makeApiClient(NetworkingV1Api);

  for (const name of [PRODUCTION, STAGING]) {
    await core.createNamespace({ body: { apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { team: "web" } } } });
  }
  await apps.createNamespacedDeployment({ namespace: PRODUCTION, body: compliantDeployment(PRODUCTION) });
  await policy.createNamespacedPodDisruptionBudget({
    namespace: PRODUCTION,
    body: {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: COMPLIANT, namespace: PRODUCTION },
      spec: { minAvailable: 2, selector: { matchLabels: { app: "web" } } },
    },
  });
  await net.createNamespacedNetworkPolicy({
    namespace: PRODUCTION,
    body: {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "default-deny", namespace: PRODUCTION },
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    },
  });
  await core.createNamespacedResourceQuota({
    namespace: PRODUCTION,
    body: {
      apiVersion: "v1",
      kind: "ResourceQuota",
      metadata: { name: "production-quota", namespace: PRODUCTION },
      spec: { hard: { "requests.cpu": "8", "requests.memory": "16Gi" } },
    },
  });
  await apps.createNamespacedStatefulSet({ namespace: PRODUCTION, body: statefulSet(PRODUCTION) });
  await apps.createNamespacedDeployment({ namespace: STAGING, body: violatingDeployment(STAGING) });
  await batch.createNamespacedCronJob({ namespace: STAGING, body: cronJob(STAGING) });
}

/**
 * A ServiceAccount bound (cluster-wide) to a ClusterRole with exactly `rules`, and a kubeconfig
 * holding a token for it from the TokenRequest API. Returns the kubeconfig path.
 */
export async function serviceAccountKubeconfig(
  cluster: Cluster,
  options: { name: string; namespace: string; rules: V1PolicyRule[]; dir: string },
): Promise<string> {
  const kc = kubeconfig(cluster.adminKubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  const { name, namespace, rules } = options;
  await core.createNamespacedServiceAccount({ namespace, body: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace } } });
  await rbac.createClusterRole({ body: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name }, rules } });
  await rbac.createClusterRoleBinding({
    body: {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
      subjects: [{ kind: "ServiceAccount", name, namespace }],
    },
  });
  const tokenRequest = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const token = tokenRequest.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  const ca = readFileSync(cluster.caPath).toString("base64");
  const path = join(options.dir, `${name}.kubeconfig`);
  writeFileSync(
    path,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "- name: test",
      "  cluster:",
      `    server: ${cluster.server}`,
      `    certificate-authority-data: ${ca}`,
      "users:",
      `- name: ${name}`,
      "  user:",
      `    token: ${token}`,
      "contexts:",
      `- name: ${name}`,
      "  context:",
      "    cluster: test",
      `    user: ${name}`,
      `current-context: ${name}`,
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  return path;
}

/** A kubeconfig whose server is a closed port on 127.0.0.1 (found by listening on port 0 and closing). */
export async function unreachableKubeconfig(dir: string): Promise<{ path: string; server: string }> {
  const net = await import("node:net");
  const port = await new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as import("node:net").AddressInfo;
      server.close(() => resolve(port));
    });
  });
  const server = `https://127.0.0.1:${port}`;
  const path = join(dir, "unreachable.kubeconfig");
  writeFileSync(
    path,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "- name: gone",
      "  cluster:",
      `    server: ${server}`,
      "    insecure-skip-tls-verify: true",
      "users:",
      "- name: nobody",
      "  user:",
      "    token: not-a-real-token",
      "contexts:",
      "- name: gone",
      "  context:",
      "    cluster: gone",
      "    user: nobody",
      "current-context: gone",
      "",
    ].join("\n"),
  );
  return { path, server };
}

// ---- HTTP ----

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** POSTs (or GETs) with fetch and parses a JSON body when there is one. */
export async function http(url: string, init: RequestInit = {}): Promise<HttpResponse> {
  const res = await fetch(url, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** POST /tools/<name> with the arguments as `curl -d` sends them: Content-Type application/x-www-form-urlencoded. */
export function postTool(baseUrl: string, tool: string, args: unknown, headers: Record<string, string> = {}): Promise<HttpResponse> {
  return http(`${baseUrl}/tools/${tool}`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
    body: typeof args === "string" ? args : JSON.stringify(args),
  });
}

// ---- MCP over stdio ----

export interface StdioServer {
  client: Client;
  transport: StdioClientTransport;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /** Errors the client reported (e.g. a stdout line that is not a JSON-RPC message). */
  transportErrors: Error[];
  /** Messages received from the server after initialization, in arrival order. */
  received: JSONRPCMessage[];
  close(): Promise<void>;
}

/** Spawns `node bin/kube-policy.js <args>` and connects the SDK client over stdio. */
export async function connectStdio(args: string[], env: Record<string, string> = {}): Promise<StdioServer> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ["bin/kube-policy.js", ...args],
    cwd: ROOT,
    env: { ...(process.env as Record<string, string>), LOG_LEVEL: "info", ...env },
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const transportErrors: Error[] = [];
  const received: JSONRPCMessage[] = [];
  const client = new Client({ name: "kube-policy-integration-test", version: "1.0.0" });
  client.onerror = (error) => transportErrors.push(error);
  await client.connect(transport);
  // Every message as it comes off the wire, before the SDK dispatches it.
  const dispatch = transport.onmessage;
  transport.onmessage = (message: JSONRPCMessage) => {
    received.push(message);
    dispatch?.(message);
  };
  return { client, transport, stderr: () => stderr, transportErrors, received, close: () => client.close() };
}
