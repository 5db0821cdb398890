// Shared by the admission tests: workloads the real API server accepts (compliant, violating), the
// AdmissionReview the API server would send for one, and HTTPS helpers that keep the response headers
// (the API server returns admission warnings as `Warning` headers). Nothing here stands in for a
// product component.
import https from "node:https";
import type { Cluster } from "../harness/cluster.js";
import { compliantDeployment as hardenedDeployment } from "../integration/helpers.js";

export type Json = Record<string, unknown>;

/** The hardened web-app of config/examples/demo/production.yaml (the integration tests' builder): no violation once its namespace has the facts below. */
export function compliantDeployment(namespace: string, name = "web-app"): Json {
  return hardenedDeployment(namespace, name) as unknown as Json;
}

/** The facts compliantDeployment needs in its namespace: a PDB, a default-deny NetworkPolicy, a ResourceQuota. */
export function compliantFacts(namespace: string): { path: string; body: Json }[] {
  return [
    {
      path: `/apis/policy/v1/namespaces/${namespace}/poddisruptionbudgets`,
      body: { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "web-app" }, spec: { minAvailable: 2, selector: { matchLabels: { app: "web" } } } },
    },
    {
      path: `/apis/networking.k8s.io/v1/namespaces/${namespace}/networkpolicies`,
      body: { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "default-deny" }, spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } },
    },
    {
      path: `/api/v1/namespaces/${namespace}/resourcequotas`,
      body: { apiVersion: "v1", kind: "ResourceQuota", metadata: { name: "quota" }, spec: { hard: { "requests.cpu": "8", "requests.memory": "16Gi" } } },
    },
  ];
}

/** Privileged, nginx:latest, little else: a critical privileged-container violation among many. */
export function violatingDeployment(namespace: string, name = "app", annotations?: Record<string, string>): Json {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace, labels: { "app.kubernetes.io/name": name }, ...(annotations ? { annotations } : {}) },
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

export const PRIVILEGED_PATH = "spec.template.spec.containers[0].securityContext.privileged";

/** What the API server sends for a create (or another operation) of `object`. */
export function admissionReview(object: Json | null, options: { uid?: string; operation?: string; dryRun?: boolean; group?: string; version?: string; kind?: string } = {}): Json {
  const metadata = (object?.metadata ?? {}) as { name?: string; namespace?: string };
  const apiVersion = String(object?.apiVersion ?? "apps/v1");
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: options.uid ?? "00000000-0000-4000-8000-000000000001",
      kind: { group: options.group ?? group, version: options.version ?? version, kind: options.kind ?? String(object?.kind ?? "Deployment") },
      resource: { group: options.group ?? group, version: options.version ?? version, resource: "deployments" },
      name: metadata.name,
      namespace: metadata.namespace,
      operation: options.operation ?? "CREATE",
      userInfo: { username: "test-user", groups: ["system:authenticated"] },
      object,
      oldObject: null,
      dryRun: options.dryRun ?? false,
      options: { apiVersion: "meta.k8s.io/v1", kind: "CreateOptions" },
    },
  };
}

export interface RawResponse {
  status: number;
  body: string;
  json: unknown;
  /** Each `Warning` header's text (the API server sends one per admission warning). */
  warnings: string[];
}

/** `299 - "text with \"quotes\""` → text with "quotes". */
function warningText(header: string): string {
  const match = /^\d{3} \S+ "((?:[^"\\]|\\.)*)"/.exec(header);
  return match ? match[1]!.replace(/\\(.)/g, "$1") : header;
}

/** One HTTPS request; `ca` pins the server's CA; `token` is sent as a bearer token. */
export function httpsRequest(url: string, options: { method?: string; body?: string | Json; ca: string; token?: string }): Promise<RawResponse> {
  const body = options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: options.method ?? "GET",
        ca: options.ca,
        headers: {
          Accept: "application/json",
          ...(body !== undefined ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) } : {}),
          ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
        },
        timeout: 30_000,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => {
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          const warnings: string[] = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2) {
            if (res.rawHeaders[i]!.toLowerCase() === "warning") warnings.push(warningText(res.rawHeaders[i + 1]!));
          }
          resolve({ status: res.statusCode ?? 0, body: text, json, warnings });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timeout: ${options.method ?? "GET"} ${url}`)));
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** A request to the test API server as the admin user (raw, so the Warning headers are kept). */
export function kube(cluster: Cluster, ca: string, method: string, path: string, body?: Json): Promise<RawResponse> {
  return httpsRequest(`${cluster.server}${path}`, { method, body, ca, token: cluster.adminToken });
}

/** A client certificate (extended key usage clientAuth, P-256) with subject CN `commonName`, signed by `ca`. */
export async function clientCertificate(ca: { cert: string; key: string }, commonName: string): Promise<{ cert: string; key: string }> {
  const { generate } = await import("selfsigned");
  const notBeforeDate = new Date(Date.now() - 60_000);
  const made = await generate([{ name: "commonName", value: commonName }], {
    keyType: "ec",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + 2 * 86_400_000),
    ca: { key: ca.key, cert: ca.cert },
    extensions: [
      { name: "basicConstraints", cA: false, critical: true },
      { name: "keyUsage", digitalSignature: true, critical: true },
      { name: "extKeyUsage", clientAuth: true },
    ],
  });
  return { cert: made.cert, key: made.private };
}

/** A CA (certificate and key) to sign client certificates with, e.g. the one the API server's client certificate chains to. */
export async function testCa(commonName: string): Promise<{ cert: string; key: string }> {
  const { generate } = await import("selfsigned");
  const notBeforeDate = new Date(Date.now() - 60_000);
  const made = await generate([{ name: "commonName", value: commonName }], {
    keyType: "ec",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + 2 * 86_400_000),
    extensions: [
      { name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { cert: made.cert, key: made.private };
}
