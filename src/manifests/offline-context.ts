// Offline evaluation: the context facts of each workload are the other documents given. A
// NetworkPolicy, PDB, HPA or ResourceQuota in the same input (and namespace) counts; none given means
// none exists. VulnerabilityReports count only when some are given (else: no scanner, not evaluated).
import { WORKLOAD_KINDS } from "../kube/source.js";
import type { PolicyInput } from "../policy/engine.js";
import type { KubeObject, SourceDocument } from "./load.js";

/** The workload kinds (kube/source.ts) as a set, for the per-document test below and the evaluator. */
export const WORKLOAD_KIND_SET: ReadonlySet<string> = new Set(WORKLOAD_KINDS);

/** Context key of each kind that rules read, and whether it is namespaced. */
export const CONTEXT_KINDS: Record<string, { key: string; namespaced: boolean }> = {
  NetworkPolicy: { key: "networkPolicies", namespaced: true },
  PodDisruptionBudget: { key: "podDisruptionBudgets", namespaced: true },
  HorizontalPodAutoscaler: { key: "horizontalPodAutoscalers", namespaced: true },
  ResourceQuota: { key: "resourceQuotas", namespaced: true },
  PersistentVolumeClaim: { key: "persistentVolumeClaims", namespaced: true },
  Service: { key: "services", namespaced: true },
  ServiceMonitor: { key: "serviceMonitors", namespaced: true },
  VulnerabilityReport: { key: "vulnerabilityReports", namespaced: true },
  StorageClass: { key: "storageClasses", namespaced: false },
};

export interface OfflineInputs {
  inputs: { input: PolicyInput; source: string }[];
  /** Documents that are neither workloads nor context facts, e.g. ConfigMaps and CRDs. */
  skipped: { source: string; kind: string; name: string }[];
}

// A document without a namespace lands in the namespace kubectl applies it to; like the rules and the
// exemptions, offline evaluation takes that to be "default", so such documents share facts.
const namespaceOf = (object: KubeObject) => object.metadata?.namespace || "default";

export function offlineInputs(documents: SourceDocument[]): OfflineInputs {
  const byNamespace = new Map<string, Record<string, KubeObject[]>>();
  const clusterScoped: Record<string, KubeObject[]> = {};
  const namespaces = new Map<string, KubeObject>();
  let scannerPresent = false;
  const workloads: SourceDocument[] = [];
  const skipped: OfflineInputs["skipped"] = [];
  for (const doc of documents) {
    const { kind } = doc.object;
    if (WORKLOAD_KIND_SET.has(kind)) {
      workloads.push(doc);
      continue;
    }
    if (kind === "Namespace") {
      namespaces.set(doc.object.metadata?.name ?? "", doc.object);
      continue;
    }
    const context = CONTEXT_KINDS[kind];
    if (!context) {
      skipped.push({ source: doc.source, kind, name: doc.object.metadata?.name ?? "" });
      continue;
    }
    if (kind === "VulnerabilityReport") scannerPresent = true;
    const bucket = context.namespaced
      ? byNamespace.get(namespaceOf(doc.object)) ?? byNamespace.set(namespaceOf(doc.object), {}).get(namespaceOf(doc.object))!
      : clusterScoped;
    (bucket[context.key] ??= []).push(doc.object);
  }
  const inputs = workloads.map((doc) => {
    const namespace = namespaceOf(doc.object);
    const facts = byNamespace.get(namespace) ?? {};
    const context: Record<string, unknown> = {};
    for (const { key, namespaced } of Object.values(CONTEXT_KINDS)) {
      if (key === "vulnerabilityReports" && !scannerPresent) continue;
      context[key] = (namespaced ? facts[key] : clusterScoped[key]) ?? [];
    }
    const ns = namespaces.get(namespace);
    if (ns) context.namespace = ns;
    return { input: { object: doc.object, context }, source: doc.source };
  });
  return { inputs, skipped };
}
