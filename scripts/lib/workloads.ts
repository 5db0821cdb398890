// The Deployments the cluster benchmarks create: a third hardened, the rest with typical violations
// (latest tag, no resources, one in ten privileged), so reports and scans have realistic work to do.
import { KubeClient } from "../../src/kube/client.js";

export function benchDeployment(namespace: string, i: number) {
  const labels = { app: `app-${i}` };
  const hardened = i % 3 === 0;
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: `app-${i}`,
      namespace,
      labels: { ...labels, ...(hardened ? { "app.kubernetes.io/name": `app-${i}`, "app.kubernetes.io/version": "1.0.0", "app.kubernetes.io/component": "api", team: "t", "cost-center": "c", "data-classification": "internal" } : {}) },
    },
    spec: {
      replicas: 1 + (i % 3),
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: "app",
              image: hardened ? "registry.example.com/app:1.2.3" : "nginx:latest",
              resources: hardened ? { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "100m", memory: "128Mi" } } : undefined,
              securityContext: hardened ? { allowPrivilegeEscalation: false, runAsNonRoot: true, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } } : i % 10 === 1 ? { privileged: true } : undefined,
            },
          ],
        },
      },
    },
  };
}

/**
 * Creates namespaces team-0..team-(namespaces-1) with perNamespace generated Deployments each through
 * the admin client (16 requests in flight); returns the count and the seconds it took.
 */
export async function seedBenchCluster(admin: KubeClient, namespaces: number, perNamespace: number): Promise<{ total: number; seconds: number }> {
  const t0 = performance.now();
  const nsType = { group: "", version: "v1", plural: "namespaces", namespaced: false };
  const deployType = { group: "apps", version: "v1", plural: "deployments", namespaced: true };
  for (let n = 0; n < namespaces; n++) {
    await admin.request(KubeClient.path(nsType), { method: "POST", body: { apiVersion: "v1", kind: "Namespace", metadata: { name: `team-${n}` } }, what: { verb: "create", resource: "namespaces" } });
  }
  const jobs: (readonly [string, number])[] = [];
  for (let n = 0; n < namespaces; n++) for (let i = 0; i < perNamespace; i++) jobs.push([`team-${n}`, i] as const);
  const worker = async () => {
    for (let job = jobs.pop(); job; job = jobs.pop()) {
      const [ns, i] = job;
      await admin.request(KubeClient.path(deployType, ns), { method: "POST", body: benchDeployment(ns, i), what: { verb: "create", resource: "deployments", namespace: ns } });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return { total: namespaces * perNamespace, seconds: (performance.now() - t0) / 1000 };
}
