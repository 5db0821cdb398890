// Workloads and their context facts from a live cluster. A whole-cluster request lists each resource
// type once across all namespaces (paginated), so the number of API requests does not grow with the
// number of namespaces; one workload costs one get plus one list per fact of its namespace.
import { ForbiddenError, NotFoundError, type AppError, type ErrorDetail } from "../errors.js";
import { KubeClient, resourceName, type ResourceType } from "./client.js";
import type { KubeconfigLocation } from "./kubeconfig.js";
import type { Collection, CollectOptions, CollectedWorkload, WorkloadKind, WorkloadRef, WorkloadSource } from "./source.js";
import { WORKLOAD_KINDS } from "./source.js";

type KubeObject = Record<string, unknown> & {
  kind?: string;
  apiVersion?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; controller?: boolean }[];
    managedFields?: unknown;
  };
};

export const WORKLOAD_TYPES: Record<WorkloadKind, ResourceType & { apiVersion: string }> = {
  Deployment: { group: "apps", version: "v1", plural: "deployments", namespaced: true, apiVersion: "apps/v1" },
  StatefulSet: { group: "apps", version: "v1", plural: "statefulsets", namespaced: true, apiVersion: "apps/v1" },
  DaemonSet: { group: "apps", version: "v1", plural: "daemonsets", namespaced: true, apiVersion: "apps/v1" },
  ReplicaSet: { group: "apps", version: "v1", plural: "replicasets", namespaced: true, apiVersion: "apps/v1" },
  Job: { group: "batch", version: "v1", plural: "jobs", namespaced: true, apiVersion: "batch/v1" },
  CronJob: { group: "batch", version: "v1", plural: "cronjobs", namespaced: true, apiVersion: "batch/v1" },
  Pod: { group: "", version: "v1", plural: "pods", namespaced: true, apiVersion: "v1" },
};

/** The facts rules read from a workload's namespace; `optional` APIs may not be installed. */
export const FACT_TYPES: Record<string, ResourceType & { optional?: "empty" | "unknown" }> = {
  networkPolicies: { group: "networking.k8s.io", version: "v1", plural: "networkpolicies", namespaced: true },
  podDisruptionBudgets: { group: "policy", version: "v1", plural: "poddisruptionbudgets", namespaced: true },
  horizontalPodAutoscalers: { group: "autoscaling", version: "v2", plural: "horizontalpodautoscalers", namespaced: true },
  resourceQuotas: { group: "", version: "v1", plural: "resourcequotas", namespaced: true },
  persistentVolumeClaims: { group: "", version: "v1", plural: "persistentvolumeclaims", namespaced: true },
  services: { group: "", version: "v1", plural: "services", namespaced: true },
  // Without the Prometheus Operator CRD no ServiceMonitor can exist: an empty list.
  serviceMonitors: { group: "monitoring.coreos.com", version: "v1", plural: "servicemonitors", namespaced: true, optional: "empty" },
  // Without trivy-operator nobody scans images: the facts are unknown and the rule is not evaluated.
  vulnerabilityReports: { group: "aquasecurity.github.io", version: "v1alpha1", plural: "vulnerabilityreports", namespaced: true, optional: "unknown" },
};

const STORAGE_CLASSES: ResourceType = { group: "storage.k8s.io", version: "v1", plural: "storageclasses", namespaced: false };
const NAMESPACES: ResourceType = { group: "", version: "v1", plural: "namespaces", namespaced: false };

/** Objects owned by a controller are evaluated through their controller (a Deployment, not its pods). */
function ownedByController(object: KubeObject): boolean {
  return (object.metadata?.ownerReferences ?? []).some((o) => o.controller);
}

/** Drops what rules never read and what makes inputs large: managed fields, last-applied copies, status. */
function slim(object: KubeObject, kind: WorkloadKind): KubeObject {
  const { managedFields: _managed, ...metadata } = object.metadata ?? {};
  const annotations = metadata.annotations ? { ...metadata.annotations } : undefined;
  if (annotations) delete annotations["kubectl.kubernetes.io/last-applied-configuration"];
  const { status: _status, ...rest } = object;
  return { ...rest, apiVersion: WORKLOAD_TYPES[kind].apiVersion, kind, metadata: { ...metadata, ...(annotations ? { annotations } : {}) } };
}

const namespaceOf = (o: KubeObject) => o.metadata?.namespace ?? "default";

export class ClusterSource implements WorkloadSource {
  readonly writable = true;
  readonly description: string;
  readonly clusterName: string;

  constructor(readonly client: KubeClient) {
    this.description = `cluster ${client.server} (context ${client.contextName})`;
    this.clusterName = client.contextName;
  }

  static connect(location: KubeconfigLocation): ClusterSource {
    return new ClusterSource(KubeClient.load(location));
  }

  async close(): Promise<void> {
    this.client.close();
  }

  async getWorkload(ref: WorkloadRef): Promise<CollectedWorkload & { warnings: ErrorDetail[] }> {
    const type = WORKLOAD_TYPES[ref.kind];
    let object: KubeObject;
    try {
      object = await this.client.get<KubeObject>(type, ref.namespace, ref.name);
    } catch (error) {
      if (error instanceof NotFoundError) {
        throw new NotFoundError(`${ref.kind} ${JSON.stringify(ref.name)} not found in namespace ${JSON.stringify(ref.namespace)}`);
      }
      throw error;
    }
    const facts = await this.namespaceFacts([ref.namespace]);
    return {
      input: { object: slim(object, ref.kind), context: facts.contextFor(ref.namespace) },
      source: KubeClient.path(type, ref.namespace, ref.name),
      warnings: facts.warnings,
    };
  }

  /** The context facts of one namespace, uncached: an admission review carries the object but not its facts. */
  async contextFor(namespace: string): Promise<{ context: Record<string, unknown>; warnings: ErrorDetail[] }> {
    const facts = await this.namespaceFacts([namespace]);
    return { context: facts.contextFor(namespace), warnings: facts.warnings };
  }

  async collect(options: CollectOptions): Promise<Collection> {
    const allowed = options.namespaceAllowed ?? (() => true);
    const warnings: ErrorDetail[] = [];
    const lists = await Promise.all(
      WORKLOAD_KINDS.map(async (kind) => {
        try {
          return { kind, items: await this.client.list<KubeObject>(WORKLOAD_TYPES[kind], options.namespace) };
        } catch (error) {
          if (error instanceof ForbiddenError) {
            warnings.push({ where: `${resourceName(WORKLOAD_TYPES[kind])}`, message: `${error.message}; these workloads were not evaluated` });
            return { kind, items: [] as KubeObject[] };
          }
          throw error;
        }
      }),
    );
    const workloads = lists.flatMap(({ kind, items }) =>
      items.filter((o) => !ownedByController(o) && allowed(namespaceOf(o))).map((o) => ({ kind, object: o })),
    );
    const namespaces = [...new Set(workloads.map((w) => namespaceOf(w.object)))].sort();
    if (options.namespace && !namespaces.includes(options.namespace) && allowed(options.namespace)) namespaces.push(options.namespace);
    const facts = await this.namespaceFacts(options.namespace ? [options.namespace] : namespaces, options.namespace === undefined);
    warnings.push(...facts.warnings);
    const collected = workloads.map(({ kind, object }, i) => {
      options.onProgress?.(i + 1, workloads.length, `${kind} ${namespaceOf(object)}/${object.metadata?.name ?? ""}`);
      return {
        input: { object: slim(object, kind), context: facts.contextFor(namespaceOf(object)) },
        source: KubeClient.path(WORKLOAD_TYPES[kind], namespaceOf(object), object.metadata?.name),
      };
    });
    return { workloads: collected, namespaces, warnings };
  }

  /**
   * The context facts of some namespaces, each type listed once: across all namespaces when asked
   * (whole-cluster reports), else per namespace. A forbidden list leaves that fact unknown (its rules
   * are not evaluated) and is reported with verb, resource and namespace.
   */
  private async namespaceFacts(namespaces: string[], clusterWide = false) {
    const warnings: ErrorDetail[] = [];
    const byNamespace = new Map<string, Record<string, KubeObject[]>>();
    const unknown = new Map<string, Set<string>>(); // fact key → namespaces where it is unknown ("*" = all)
    const markUnknown = (key: string, ns: string) => unknown.set(key, (unknown.get(key) ?? new Set()).add(ns));
    const note = (error: unknown, key: string) => {
      const e = error as AppError;
      warnings.push({ where: key, message: `${e.message}; rules that need ${key} are reported as not evaluated` });
    };

    const jobs: Promise<void>[] = [];
    for (const [key, type] of Object.entries(FACT_TYPES)) {
      const scopes = clusterWide ? [undefined] : namespaces;
      for (const scope of scopes) {
        jobs.push(
          this.client.list<KubeObject>(type, scope).then(
            (items) => {
              for (const ns of scope ? [scope] : namespaces) {
                const bucket = byNamespace.get(ns) ?? byNamespace.set(ns, {}).get(ns)!;
                bucket[key] ??= [];
              }
              for (const item of items) {
                const ns = namespaceOf(item);
                const bucket = byNamespace.get(ns) ?? byNamespace.set(ns, {}).get(ns)!;
                (bucket[key] ??= []).push(item);
              }
            },
            (error: unknown) => {
              if (error instanceof NotFoundError && type.optional === "empty") {
                for (const ns of scope ? [scope] : namespaces) {
                  const bucket = byNamespace.get(ns) ?? byNamespace.set(ns, {}).get(ns)!;
                  bucket[key] = [];
                }
                return;
              }
              if (error instanceof NotFoundError && type.optional === "unknown") {
                markUnknown(key, scope ?? "*");
                return;
              }
              if (error instanceof ForbiddenError) {
                markUnknown(key, scope ?? "*");
                note(error, key);
                return;
              }
              throw error;
            },
          ),
        );
      }
    }
    let storageClasses: KubeObject[] | undefined;
    jobs.push(
      this.client.list<KubeObject>(STORAGE_CLASSES).then(
        (items) => {
          storageClasses = items;
        },
        (error: unknown) => {
          if (error instanceof ForbiddenError) note(error, "storageClasses");
          else throw error;
        },
      ),
    );
    const namespaceObjects = new Map<string, KubeObject>();
    const loadNamespaces = clusterWide
      ? this.client.list<KubeObject>(NAMESPACES).then((items) => items.forEach((n) => namespaceObjects.set(n.metadata?.name ?? "", n)))
      : Promise.all(namespaces.map((ns) => this.client.get<KubeObject>(NAMESPACES, undefined, ns).then((n) => namespaceObjects.set(ns, n))));
    jobs.push(
      loadNamespaces.then(
        () => undefined,
        (error: unknown) => {
          if (error instanceof ForbiddenError || error instanceof NotFoundError) note(error, "namespace");
          else throw error;
        },
      ),
    );
    await Promise.all(jobs);

    return {
      warnings,
      contextFor(namespace: string): Record<string, unknown> {
        const context: Record<string, unknown> = {};
        const bucket = byNamespace.get(namespace) ?? {};
        for (const key of Object.keys(FACT_TYPES)) {
          const missing = unknown.get(key);
          if (missing && (missing.has("*") || missing.has(namespace))) continue;
          context[key] = bucket[key] ?? [];
        }
        if (storageClasses) context.storageClasses = storageClasses;
        const ns = namespaceObjects.get(namespace);
        if (ns) context.namespace = ns;
        return context;
      },
    };
  }
}
