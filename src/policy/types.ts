// The contracts of the policy engine: catalogue entries, raw rule output, findings and outcomes.

export const CATEGORIES = ["security", "compliance", "performance", "cost", "operations"] as const;
export type Category = (typeof CATEGORIES)[number];

export const SEVERITIES = ["critical", "high", "medium", "low"] as const;
export type Severity = (typeof SEVERITIES)[number];

export const FIX_RISKS = ["low", "medium", "high"] as const;
export type FixRisk = (typeof FIX_RISKS)[number];

export type Enforcement = "strict" | "advisory" | "disabled";

/** What a rule is, read from its METADATA annotation (built-in) or its JSON definition (custom). */
export interface CatalogueEntry {
  id: string;
  title: string;
  description: string;
  category: Category;
  severity: Severity;
  /** Framework → control ids, e.g. { "SOC2": ["CC6.1"], "CIS": ["5.2.2"] }. */
  frameworks: Record<string, string[]>;
  remediation: string;
  /** Risk of the automatic fix; null when the rule only reports a remediation. */
  fixRisk: FixRisk | null;
  /** The action a failing object gets: deny (violation in strict mode) or warn (always a warning). */
  action: "deny" | "warn";
  source: "built-in" | "custom";
  /** False for a rule defined with enabled: false (configuration can still turn it on). */
  enabledByDefault: boolean;
  /** Rego package path below data, e.g. "kubepolicy.security.privileged_container". */
  package: string;
  /** Source file of the rule, relative to the repository or the custom rule directory. */
  file: string;
}

export interface JsonPatchOp {
  op: "add" | "remove" | "replace" | "move" | "copy" | "test";
  path: string;
  value?: unknown;
  from?: string;
}

export interface ResourceRef {
  apiVersion: string;
  kind: string;
  namespace: string | null;
  name: string;
}

export type Outcome = "violation" | "warning" | "exempt" | "not-evaluated";

export interface Finding {
  ruleId: string;
  title: string;
  severity: Severity;
  category: Category;
  frameworks: Record<string, string[]>;
  message: string;
  /** Field path in dotted form, e.g. spec.template.spec.containers[0].securityContext.privileged. */
  path: string;
  /** The same field as a JSON Pointer (what fixes address). */
  pointer: string;
  resource: ResourceRef;
  fix: { patch: JsonPatchOp[]; risk: FixRisk } | null;
  /** True when configuration allows the fix to be applied without an approval. */
  autoFixable: boolean;
  remediation: string;
  outcome: Outcome;
  /** Why the finding is exempt or not evaluated. */
  reason?: string;
}
