// The Deployments the cluster benchmarks create: a third hardened, the rest with typical violations
// (latest tag, no resources, one in ten privileged), so reports and scans have realistic work to do.
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
