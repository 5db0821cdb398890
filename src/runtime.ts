// What every door shares at run time: the configuration, the compiled policy, the workload source.
// The evaluator can be swapped (custom rules recompiled) without the doors noticing.
import { loadConfig } from "./config/load.js";
import type { PolicyConfig } from "./config/types.js";
import type { WorkloadSource } from "./kube/source.js";
import { PolicyBundle } from "./policy/bundle.js";
import { namespaceAllowed } from "./policy/enforcement.js";
import { PolicyEvaluator } from "./policy/evaluator.js";

export class Runtime {
  private current: PolicyEvaluator;

  constructor(
    readonly config: PolicyConfig,
    bundle: PolicyBundle,
    readonly source: WorkloadSource,
    readonly options: { readOnly?: boolean; configSource?: string } = {},
  ) {
    this.current = new PolicyEvaluator(bundle, config);
  }

  static async create(options: { config?: string; source: WorkloadSource; readOnly?: boolean }): Promise<Runtime> {
    const bundle = await PolicyBundle.load();
    const { config, source } = await loadConfig(options.config, { knownRuleIds: new Set(bundle.byId.keys()) });
    return new Runtime(config, bundle, options.source, { readOnly: options.readOnly, configSource: source });
  }

  get evaluator(): PolicyEvaluator {
    return this.current;
  }

  /** Swaps in a new bundle atomically: requests in flight finish on the evaluator they started with. */
  useBundle(bundle: PolicyBundle): void {
    this.current = new PolicyEvaluator(bundle, this.config);
  }

  namespaceAllowed(namespace: string): boolean {
    return namespaceAllowed(namespace, this.config);
  }
}
