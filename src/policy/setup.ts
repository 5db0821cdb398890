// Configuration + compiled policy, as every door loads them: the committed built-in bundle, or the
// built-in catalogue compiled together with the configuration's custom rules (cached by content hash).
import { loadConfig, validateConfig } from "../config/load.js";
import type { PolicyConfig } from "../config/types.js";
import { PolicyBundle } from "./bundle.js";
import { compileCustomRules, loadCustomRules, type CompiledRules } from "./custom/compile.js";

export interface PolicySetup {
  config: PolicyConfig;
  configSource: string;
  bundle: PolicyBundle;
  compiled: CompiledRules | null;
}

export function hasCustomRules(config: PolicyConfig): boolean {
  return (config.customRules?.length ?? 0) > 0 || Boolean(config.customRulesDir);
}

export async function loadPolicySetup(configPath: string | undefined, options: { cacheDir?: string } = {}): Promise<PolicySetup> {
  const builtIn = await PolicyBundle.load();
  const { config, source } = await loadConfig(configPath);
  let bundle = builtIn;
  let compiled: CompiledRules | null = null;
  if (hasCustomRules(config)) {
    compiled = await compileCustomRules(await loadCustomRules(config, source, builtIn), options);
    bundle = compiled.bundle;
  }
  // Rule ids in overrides, exemptions and approvals are checked against every rule, custom ones included.
  await validateConfig(config, source, { knownRuleIds: new Set(bundle.byId.keys()) });
  return { config, configSource: source, bundle, compiled };
}
