// What every door shares at run time: the configuration, the compiled policy, the workload source.
// The evaluator can be swapped (custom rules recompiled) without the doors noticing.
import os from "node:os";
import path from "node:path";
import type { AppError } from "./errors.js";
import { openDatabase, type Db } from "./store/db.js";
import type { PolicyConfig } from "./config/types.js";
import type { WorkloadSource } from "./kube/source.js";
import { PolicyBundle } from "./policy/bundle.js";
import { namespaceAllowed } from "./policy/enforcement.js";
import { PolicyEvaluator } from "./policy/evaluator.js";
import { loadPolicySetup } from "./policy/setup.js";

/** Where the SQLite store lives: config storage.path, $KUBE_POLICY_DB, else the user's data directory. */
export function defaultDatabasePath(config: PolicyConfig, env: NodeJS.ProcessEnv = process.env): string {
  if (config.storage?.path) return config.storage.path;
  if (env.KUBE_POLICY_DB) return env.KUBE_POLICY_DB;
  const base = env.XDG_DATA_HOME || path.join(env.HOME ?? os.homedir(), ".local", "share");
  return path.join(base, "kube-policy-mcp", "kube-policy.db");
}

export class Runtime {
  /** Configuration and evaluator change together (reload), never one without the other. */
  private state: { config: PolicyConfig; evaluator: PolicyEvaluator };
  private database: Db | undefined;
  /** The last failed reload of the rules, if the one before it did not succeed since. */
  lastReloadError: AppError | null = null;

  constructor(
    config: PolicyConfig,
    bundle: PolicyBundle,
    readonly source: WorkloadSource,
    readonly options: { readOnly?: boolean; configSource?: string; databasePath?: string } = {},
  ) {
    this.state = { config, evaluator: new PolicyEvaluator(bundle, config) };
  }

  static async create(options: { config?: string; source: WorkloadSource; readOnly?: boolean; databasePath?: string }): Promise<Runtime> {
    const setup = await loadPolicySetup(options.config);
    return new Runtime(setup.config, setup.bundle, options.source, {
      readOnly: options.readOnly,
      configSource: setup.configSource,
      databasePath: options.databasePath,
    });
  }

  get config(): PolicyConfig {
    return this.state.config;
  }

  get evaluator(): PolicyEvaluator {
    return this.state.evaluator;
  }

  /** Swaps configuration and bundle atomically: requests in flight finish on the evaluator they started with. */
  reload(setup: { config: PolicyConfig; bundle: PolicyBundle }): void {
    this.state = { config: setup.config, evaluator: new PolicyEvaluator(setup.bundle, setup.config) };
    this.lastReloadError = null;
  }

  /** The SQLite store, opened (and migrated) on first use. */
  db(): Db {
    this.database ??= openDatabase(this.options.databasePath ?? defaultDatabasePath(this.config));
    return this.database;
  }

  async close(): Promise<void> {
    this.database?.close();
    this.database = undefined;
    await this.source.close?.();
  }

  namespaceAllowed(namespace: string): boolean {
    return namespaceAllowed(namespace, this.config);
  }
}
