// Shared by the remediation tests on the real API server: workloads that violate the policies (valid for
// the apiserver, which validates and defaults them), an admin client that sets up and inspects objects
// apart from the client under test (whose requests are counted), and runtimes with a temporary SQLite
// store. Nothing here stands in for a product component.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { PolicyConfig } from "../../src/config/types.js";
import { KubeClient, RejectedError } from "../../src/kube/client.js";
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

  async namespace(name: string, labels?: Record<string, string>): Promise<void> {
    await this.client.request("/api/v1/namespaces", {
      method: "POST",
      body: { apiVersion: "v1", kind: "Namespace", metadata: { name, ...(labels ? { labels } : {}) } },
      what: { verb: "create", resource: "namespaces" },
    });
  }

  /**
   * The organisation's admission policy of GUARANTEED_CPU (a ValidatingAdmissionPolicy and its Deny
   * binding) for the namespaces labelled GUARANTEED_CPU_LABEL, effective when this returns: the API server
   * loads policies asynchronously, so a violating Deployment is dry-run created until it is refused
   * (within `timeoutMs`). Returns how long that took.
   */
  async enforceGuaranteedCpu(namespace: string, timeoutMs = 10_000): Promise<number> {
    const base = "/apis/admissionregistration.k8s.io/v1";
    await this.client.request(`${base}/validatingadmissionpolicies`, {
      method: "POST",
      body: GUARANTEED_CPU.policy,
      what: { verb: "create", resource: "validatingadmissionpolicies.admissionregistration.k8s.io" },
    });
    await this.client.request(`${base}/validatingadmissionpolicybindings`, {
      method: "POST",
      body: GUARANTEED_CPU.binding,
      what: { verb: "create", resource: "validatingadmissionpolicybindings.admissionregistration.k8s.io" },
    });
    const probe = violatingDeployment(namespace, "guaranteed-cpu-probe") as { spec: { template: { spec: { containers: Record<string, unknown>[] } } } };
    probe.spec.template.spec.containers = [{ name: "app", image: "registry.example.com/web:1.4.2", resources: { requests: { cpu: "100m" } } }];
    const started = Date.now();
    for (;;) {
      let outcome: string;
      try {
        await this.client.request(KubeClient.path(WORKLOAD_TYPES.Deployment, namespace), {
          method: "POST",
          query: { dryRun: "All" },
          body: probe,
          what: { verb: "create (server-side dry run)", resource: "deployments.apps", namespace },
        });
        outcome = "admitted";
      } catch (error) {
        outcome = (error as Error).message;
        if (error instanceof RejectedError && outcome.includes(GUARANTEED_CPU.denied)) return Date.now() - started;
      }
      if (Date.now() - started > timeoutMs) throw new Error(`the ${GUARANTEED_CPU.name} admission policy is not effective after ${timeoutMs} ms: a violating Deployment was ${outcome}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
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

/**
 * An organisation policy the built-in fixes can break, enforced by the API server itself (admission, in
 * dry runs too): Guaranteed QoS for CPU, so a container that requests CPU must set a CPU limit equal to
 * its request. A container with a CPU limit and no request is admitted; the cpu-requests fix (the default
 * 100m request on a container without limits) is not.
 */
export const GUARANTEED_CPU = (() => {
  const name = "guaranteed-cpu";
  const label = { "policy.example.com/guaranteed-cpu": "enforced" };
  const message = "Guaranteed QoS: a container that sets a CPU request must set a CPU limit equal to it";
  return {
    name,
    label,
    message,
    /** What the API server answers a request the policy refuses. */
    denied: `ValidatingAdmissionPolicy '${name}' with binding '${name}' denied request: ${message}`,
    policy: {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicy",
      metadata: { name },
      spec: {
        failurePolicy: "Fail",
        matchConstraints: { resourceRules: [{ apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["deployments"] }] },
        validations: [
          {
            expression:
              "object.spec.template.spec.containers.all(c, !has(c.resources) || !has(c.resources.requests) || !('cpu' in c.resources.requests) || " +
              "(has(c.resources.limits) && 'cpu' in c.resources.limits && quantity(string(c.resources.requests['cpu'])).compareTo(quantity(string(c.resources.limits['cpu']))) == 0))",
            message,
          },
        ],
      },
    },
    binding: {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name },
      spec: { policyName: name, validationActions: ["Deny"], matchResources: { namespaceSelector: { matchLabels: label } } },
    },
  };
})();

/**
 * violatingDeployment whose "sidecar" sets a CPU limit and no request instead of a request alone, so
 * GUARANTEED_CPU admits it; "app" still has no resources (cpu-requests and cpu-limits fix it).
 */
export function cpuLimitOnlyDeployment(namespace: string, name: string): Record<string, unknown> {
  const object = violatingDeployment(namespace, name) as { spec: { template: { spec: { containers: Record<string, unknown>[] } } } };
  object.spec.template.spec.containers[1]!.resources = { limits: { cpu: "50m" } };
  return object as unknown as Record<string, unknown>;
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
