// Configuration + compiled policy, as every door loads them: the committed built-in bundle, or the
// built-in catalogue compiled together with the configuration's custom rules (cached by content hash).
import { loadConfig } from "../config/load.js";
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
  const { config, source } = await loadConfig(configPath, { knownRuleIds: new Set(builtIn.byId.keys()) });
  if (!hasCustomRules(config)) return { config, configSource: source, bundle: builtIn, compiled: null };
  const set = await loadCustomRules(config, source, builtIn.catalogue);
  const compiled = await compileCustomRules(set, options);
  return { config, configSource: source, bundle: compiled.bundle, compiled };
}
