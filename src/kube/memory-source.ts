// A read-only, in-memory "cluster" made of manifests: the bundled demo (what `npm start` serves when no
// kubeconfig is found) or files given on the command line. Context facts are the other documents.
import path from "node:path";
import { NotFoundError, ManifestError } from "../errors.js";
import { CONFIG_DIR } from "../paths.js";
import { loadManifests, type SourceDocument } from "../manifests/load.js";
import { offlineInputs } from "../manifests/offline-context.js";
import type { Collection, CollectOptions, CollectedWorkload, WorkloadRef, WorkloadSource } from "./source.js";

export const DEMO_DIR = path.join(CONFIG_DIR, "examples", "demo");

export class MemorySource implements WorkloadSource {
  readonly writable = false;
  private readonly workloads: CollectedWorkload[];

  private constructor(
    documents: SourceDocument[],
    readonly description: string,
    readonly clusterName: string,
  ) {
    this.workloads = offlineInputs(documents).inputs;
  }

  /** Loads manifests; any unparsable document is an error (a server must not start on half its input). */
  static async fromFiles(paths: string[], options: { description?: string; clusterName?: string } = {}): Promise<MemorySource> {
    const loaded = await loadManifests(paths);
    if (loaded.errors.length > 0) {
      throw new ManifestError(`cannot load manifests from ${paths.join(", ")}`, { details: loaded.errors });
    }
    return new MemorySource(
      loaded.documents,
      options.description ?? `manifests ${paths.join(", ")} (read-only)`,
      options.clusterName ?? "manifests",
    );
  }

  static demo(): Promise<MemorySource> {
    return MemorySource.fromFiles([DEMO_DIR], { description: "bundled demo manifests (read-only, no cluster configured)", clusterName: "demo-cluster" });
  }

  async collect(options: CollectOptions): Promise<Collection> {
    const allowed = options.namespaceAllowed ?? (() => true);
    const workloads = this.workloads.filter((w) => {
      const ns = namespaceOf(w);
      return (!options.namespace || ns === options.namespace) && allowed(ns);
    });
    const namespaces = [...new Set(workloads.map(namespaceOf))].sort();
    workloads.forEach((w, i) => options.onProgress?.(i + 1, workloads.length, `${String(w.input.object.kind)} ${namespaceOf(w)}/${nameOf(w)}`));
    return { workloads, namespaces, warnings: [] };
  }

  async getWorkload(ref: WorkloadRef): Promise<CollectedWorkload & { warnings: [] }> {
    const found = this.workloads.find((w) => w.input.object.kind === ref.kind && namespaceOf(w) === ref.namespace && nameOf(w) === ref.name);
    if (!found) {
      throw new NotFoundError(`${ref.kind} ${JSON.stringify(ref.name)} not found in namespace ${JSON.stringify(ref.namespace)} (${this.description})`);
    }
    return { ...found, warnings: [] };
  }
}

function namespaceOf(w: CollectedWorkload): string {
  return (w.input.object.metadata as { namespace?: string } | undefined)?.namespace || "default";
}

function nameOf(w: CollectedWorkload): string {
  return (w.input.object.metadata as { name?: string } | undefined)?.name ?? "";
}
