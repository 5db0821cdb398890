// The policy configuration as the rest of the code sees it (config/policies/schema.json is the contract).
import type { Category, Enforcement, Severity } from "../policy/types.js";

export interface CategoryConfig {
  enabled?: boolean;
  enforcement?: Enforcement;
  autoFix?: boolean;
}

export interface RuleOverride {
  enabled?: boolean;
  severity?: Severity;
  enforcement?: Enforcement;
  autoFix?: boolean;
}

export interface ConfigExemption {
  rules: string[];
  namespace?: string;
  name?: string;
  kind?: string;
  reason: string;
  expires?: string;
}

export interface CustomRuleJson {
  id: string;
  name?: string;
  description?: string;
  severity: Severity;
  category: Category;
  enabled?: boolean;
  scope?: string;
  match?: Record<string, unknown>;
  combine?: "all" | "any";
  conditions: { field: string; operator: string; value?: unknown; description?: string }[];
  actions: { type: "deny" | "warn"; message?: string }[];
  frameworks?: Record<string, string[]>;
  remediation?: string;
  fix?: { patch: { op: string; path: string; value?: unknown }[]; risk: "low" | "medium" | "high" };
}

export interface PolicyConfig {
  organization?: { name?: string; environment?: string; compliance?: string[] };
  global?: { enforcement?: Enforcement; autoFix?: boolean };
  categories?: Partial<Record<Category, CategoryConfig>>;
  ruleOverrides?: Record<string, RuleOverride>;
  excludedNamespaces?: string[];
  namespaces?: { allow?: string[]; deny?: string[] };
  settings?: Record<string, unknown>;
  exemptions?: ConfigExemption[];
  autoFixPolicy?: {
    allowMediumRisk?: boolean;
    requireApproval?: { categories?: Category[]; severities?: Severity[]; rules?: string[] };
  };
  customRules?: CustomRuleJson[];
  customRulesDir?: string;
  notifications?: Record<string, unknown>;
  scans?: { name: string; cron: string; namespaces?: string[]; timezone?: string }[];
  storage?: { path?: string; retentionDays?: number };
}

/** A loaded configuration and where it came from (for messages). */
export interface LoadedConfig {
  config: PolicyConfig;
  /** File path, or "(built-in default)". */
  source: string;
}
