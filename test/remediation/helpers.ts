// Shared by the remediation tests on the real API server: workloads that violate the policies (valid for
// the apiserver, which validates and defaults them), an admin client that sets up and inspects objects
// apart from the client under test (whose requests are counted), and runtimes with a temporary SQLite
// store. Nothing here stands in for a product component.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { PolicyConfig } from "../../src/config/types.js";
import { KubeClient } from "../../src/kube/client.js";
import { ClusterSource, WORKLOAD_TYPES } from "../../src/kube/cluster-source.js";
import type { WorkloadKind } from "../../src/kube/source.js";
import { PolicyBundle } from "../../src/policy/bundle.js";
import { Runtime } from "../../src/runtime.js";

export type KubeObject = Record<string, unknown> & {
  metadata: { name: string; namespace: string; resourceVersion: string; generation: number; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, unknown> & { template: { spec: Record<string, unknown> & { containers: Record<string, unknown>[] } } };
  status?: Record<string, unknown>;
};

/** Auto-fix on for every category (high-risk fixes still need an approval, as always). */
export const AUTO_FIX: PolicyConfig = { global: { autoFix: true } };

const bundle = await PolicyBundle.load();

export function fixtureDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), "kube-policy-remediation-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export class Admin {
  readonly client: KubeClient;

  constructor(kubeconfigPath: string) {
    this.client = KubeClient.load({ kind: "file", path: kubeconfigPath });
  }

  async namespace(name: string): Promise<void> {
    await this.client.request("/api/v1/namespaces", {
      method: "POST",
      body: { apiVersion: "v1", kind: "Namespace", metadata: { name } },
      what: { verb: "create", resource: "namespaces" },
    });
  }

  async create(object: Record<string, unknown>): Promise<KubeObject> {
    const kind = object.kind as WorkloadKind;
    const namespace = (object.metadata as { namespace: string }).namespace;
    return this.client.request<KubeObject>(KubeClient.path(WORKLOAD_TYPES[kind], namespace), {
      method: "POST",
      body: object,
      what: { verb: "create", resource: WORKLOAD_TYPES[kind].plural, namespace },
    });
  }

  get(kind: WorkloadKind, namespace: string, name: string): Promise<KubeObject> {
    return this.client.get<KubeObject>(WORKLOAD_TYPES[kind], namespace, name);
  }

  /** A JSON merge patch, as `kubectl patch --type merge` sends: another writer's edit. */
  mergePatch(kind: WorkloadKind, namespace: string, name: string, patch: Record<string, unknown>): Promise<KubeObject> {
    return this.client.request<KubeObject>(KubeClient.path(WORKLOAD_TYPES[kind], namespace, name), {
      method: "PATCH",
      contentType: "application/merge-patch+json",
      body: patch,
      what: { verb: "patch", resource: WORKLOAD_TYPES[kind].plural, namespace, name },
    });
  }
}

/** A runtime on the cluster through its own (counted) client, with a store in `dir` (a new one unless `database` names it). */
export function clusterRuntime(kubeconfigPath: string, dir: string, config: PolicyConfig = AUTO_FIX, options: { readOnly?: boolean; database?: string } = {}) {
  const source = new ClusterSource(KubeClient.load({ kind: "file", path: kubeconfigPath }));
  const databasePath = path.join(dir, options.database ?? `${Math.random().toString(36).slice(2)}.db`);
  const runtime = new Runtime(config, bundle, source, { databasePath, readOnly: options.readOnly });
  return { runtime, source, client: source.client };
}

const POD_LABELS = { app: "web" };
const LABELS = { "app.kubernetes.io/name": "web", "app.kubernetes.io/version": "1.4.2", "app.kubernetes.io/component": "frontend", team: "web" };

/**
 * Violates many rules: "app" runs privileged (a high-risk fix, so it waits for an approval) with no
 * resources, "sidecar" has no securityContext at all; two replicas without anti-affinity.
 */
export function violatingDeployment(namespace: string, name: string): Record<string, unknown> {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace, labels: LABELS, annotations: { owner: "web-team@example.com" } },
    spec: {
      replicas: 2,
      selector: { matchLabels: POD_LABELS },
      template: {
        metadata: { labels: POD_LABELS, annotations: { "prometheus.io/scrape": "true" } },
        spec: {
          containers: [
            { name: "app", image: "registry.example.com/web:1.4.2", ports: [{ containerPort: 8080 }], securityContext: { capabilities: { add: ["NET_ADMIN"] } } },
            { name: "sidecar", image: "registry.example.com/proxy:2.0.1", resources: { requests: { cpu: "50m" } } },
          ],
        },
      },
    },
  };
}

/** The pod template of every workload kind below, with the same problems. */
function podTemplate(extra: Record<string, unknown> = {}) {
  return {
    metadata: { labels: POD_LABELS },
    spec: { ...extra, containers: [{ name: "app", image: "registry.example.com/web:1.4.2" }] },
  };
}

export function statefulSet(namespace: string, name: string): Record<string, unknown> {
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name, namespace, labels: LABELS },
    spec: { replicas: 2, serviceName: name, selector: { matchLabels: POD_LABELS }, template: podTemplate() },
  };
}

export function daemonSet(namespace: string, name: string): Record<string, unknown> {
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name, namespace, labels: LABELS },
    spec: { selector: { matchLabels: POD_LABELS }, template: podTemplate({ hostPID: true }) },
  };
}

export function cronJob(namespace: string, name: string): Record<string, unknown> {
  return {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name, namespace, labels: LABELS },
    spec: { schedule: "0 3 * * *", jobTemplate: { spec: { template: { ...podTemplate(), spec: { ...podTemplate().spec, restartPolicy: "OnFailure" } } } } },
  };
}

/** A Windows pod: the API server forbids Linux-only security fields on it, which several rules' fixes set. */
export function windowsDeployment(namespace: string, name: string): Record<string, unknown> {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace, labels: LABELS },
    spec: { replicas: 2, selector: { matchLabels: POD_LABELS }, template: podTemplate({ os: { name: "windows" } }) },
  };
}

/** Everything but the bookkeeping a write changes (resourceVersion, generation, managed fields) and status. */
export function content(object: KubeObject): Record<string, unknown> {
  const { status: _status, ...rest } = structuredClone(object);
  const { resourceVersion: _rv, generation: _generation, managedFields: _managed, ...metadata } = rest.metadata as Record<string, unknown>;
  return { ...rest, metadata };
}
