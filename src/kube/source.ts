// Where workloads come from: a live cluster, manifest files, or the bundled demo. Every door asks a
// WorkloadSource, so tools never care which one they talk to.
import type { ErrorDetail } from "../errors.js";
import type { PolicyInput } from "../policy/engine.js";

export const WORKLOAD_KINDS = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export interface WorkloadRef {
  namespace: string;
  kind: WorkloadKind;
  name: string;
}

export interface CollectedWorkload {
  input: PolicyInput;
  /** Where it came from: a file:line for manifests, the API path for a cluster. */
  source?: string;
}

export interface Collection {
  workloads: CollectedWorkload[];
  /** Namespaces in scope (after the configuration's allow/deny lists). */
  namespaces: string[];
  /** Facts that could not be read (permissions, missing APIs): their rules are reported not evaluated. */
  warnings: ErrorDetail[];
}

export interface CollectOptions {
  /** One namespace, or every namespace the source knows. */
  namespace?: string;
  /** Namespaces the configuration lets tools see. */
  namespaceAllowed?: (namespace: string) => boolean;
  onProgress?: (done: number, total: number, message: string) => void;
}

export interface WorkloadSource {
  /** Human description: "cluster https://127.0.0.1:6443 (context admin)", "demo manifests (read-only)". */
  readonly description: string;
  /** A short cluster name for reports. */
  readonly clusterName: string;
  /** False for sources that cannot be changed (manifests, demo): write tools refuse them. */
  readonly writable: boolean;
  collect(options: CollectOptions): Promise<Collection>;
  /** One workload with its context facts; NotFoundError when absent. */
  getWorkload(ref: WorkloadRef): Promise<CollectedWorkload & { warnings: ErrorDetail[] }>;
  close?(): Promise<void>;
}

const KIND_ALIASES: Record<string, WorkloadKind> = {};
for (const kind of WORKLOAD_KINDS) {
  const lower = kind.toLowerCase();
  KIND_ALIASES[lower] = kind;
  KIND_ALIASES[`${lower}s`] = kind;
}
Object.assign(KIND_ALIASES, { deploy: "Deployment", sts: "StatefulSet", ds: "DaemonSet", rs: "ReplicaSet", cj: "CronJob", po: "Pod" });

/** "deployments", "deploy", "Deployment" → "Deployment"; undefined for kinds that are not workloads. */
export function normaliseKind(kind: string): WorkloadKind | undefined {
  return KIND_ALIASES[kind.trim().toLowerCase()];
}
