// Turns what the rules said into outcomes, as the configuration decides: which rules run, how strictly,
// which findings are exempt, and which fixes may be applied without an approval.
import type { PolicyConfig } from "../config/types.js";
import type { CatalogueEntry, Enforcement, FixRisk, Severity } from "./types.js";

export const EXEMPT_ANNOTATION = "kube-policy.io/exempt";
export const EXEMPT_REASON_ANNOTATION = "kube-policy.io/exempt-reason";
export const EXEMPT_UNTIL_ANNOTATION = "kube-policy.io/exempt-until";

/** Shell-style glob: `*` any run of characters, `?` one character. */
export function globMatch(pattern: string, value: string): boolean {
  const regex = new RegExp(
    `^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`,
  );
  return regex.test(value);
}

/**
 * The enforcement of one rule: an override's enforcement wins, then the category's (a disabled
 * category disables its rules), then global (strict by default). An override with enabled: true
 * turns a rule back on inside a disabled category, with the nearest enforcement that is not disabled.
 */
export function ruleEnforcement(rule: CatalogueEntry, config: PolicyConfig): Enforcement {
  const override = config.ruleOverrides?.[rule.id];
  const category = config.categories?.[rule.category];
  const global = config.global?.enforcement ?? "strict";
  if (override?.enabled === false) return "disabled";
  if (!rule.enabledByDefault && override?.enabled !== true) return "disabled";
  if (override?.enforcement) return override.enforcement;
  const inherited = (category?.enabled === false ? "disabled" : category?.enforcement) ?? global;
  if (inherited === "disabled" && override?.enabled === true) {
    return [category?.enforcement, global].find((e): e is Enforcement => e !== undefined && e !== "disabled") ?? "strict";
  }
  return inherited;
}

export function ruleEnabled(rule: CatalogueEntry, config: PolicyConfig): boolean {
  return ruleEnforcement(rule, config) !== "disabled";
}

export function ruleSeverity(rule: CatalogueEntry, config: PolicyConfig): Severity {
  return config.ruleOverrides?.[rule.id]?.severity ?? rule.severity;
}

/**
 * Why a fix needs a manual approval, or null when it may be applied on request.
 * High risk always needs one; medium unless autoFixPolicy.allowMediumRisk is false; and anything
 * when auto-fix is off for the rule (override, then category, then global; off by default).
 */
export function approvalReason(
  rule: CatalogueEntry,
  severity: Severity,
  risk: FixRisk,
  config: PolicyConfig,
): string | null {
  if (risk === "high") return "high-risk fixes always need an approval";
  const autoFix = config.ruleOverrides?.[rule.id]?.autoFix ?? config.categories?.[rule.category]?.autoFix ?? config.global?.autoFix ?? false;
  if (!autoFix) return "auto-fix is not enabled for this rule by the configuration";
  if (risk === "medium" && config.autoFixPolicy?.allowMediumRisk === false) {
    return "the configuration requires an approval for medium-risk fixes";
  }
  const required = config.autoFixPolicy?.requireApproval;
  if (required?.rules?.includes(rule.id)) return `the configuration requires an approval for ${rule.id}`;
  if (required?.categories?.includes(rule.category)) return `the configuration requires an approval for ${rule.category} fixes`;
  if (required?.severities?.includes(severity)) return `the configuration requires an approval for ${severity} findings`;
  return null;
}

export interface ExemptionDecision {
  exempt: boolean;
  /** Why it is exempt, or why an exemption that names the rule was not honoured. */
  reason: string;
}

interface ObjectMeta {
  kind?: string;
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> };
}

/** The end of an exemption's last day (UTC), or null when the date cannot be read (then it counts as expired). */
export function exemptionEnd(until: string): Date | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(until)) return null;
  const end = new Date(`${until}T23:59:59.999Z`);
  // Date rolls 2027-02-30 over to March 2: a day that does not exist is unreadable, not a later day.
  return Number.isNaN(end.getTime()) || end.toISOString().slice(0, 10) !== until ? null : end;
}

function expired(until: string, now: Date): boolean {
  const end = exemptionEnd(until);
  return end === null || end < now;
}

/** What the exemption annotations of one object say, as the evaluator reads them; null when it has none. */
export interface AnnotationExemption {
  /** The rule ids listed (trimmed; `*` for every rule). */
  rules: string[];
  reason: string | undefined;
  until: string | undefined;
}

export function annotationExemptionOf(annotations: Record<string, string> | undefined): AnnotationExemption | null {
  const listed = annotations?.[EXEMPT_ANNOTATION];
  if (typeof listed !== "string") return null;
  return {
    rules: listed.split(",").map((s) => s.trim()),
    reason: annotations?.[EXEMPT_REASON_ANNOTATION]?.trim() || undefined,
    until: annotations?.[EXEMPT_UNTIL_ANNOTATION]?.trim() || undefined,
  };
}

/** Where the exemption that decided came from: the object's annotation or the configuration's exemptions[index]. */
export type ExemptionOrigin = { type: "annotation" } | { type: "config"; index: number };

/** Exemption of one rule for one object: by workload annotation first, then by configuration. */
export function exemptionFor(
  rule: CatalogueEntry,
  object: ObjectMeta,
  config: PolicyConfig,
  now: Date,
): ExemptionDecision | null {
  return exemptionMatch(rule, object, config, now)?.decision ?? null;
}

/** exemptionFor, with the exemption that decided (or whose note is reported). */
export function exemptionMatch(
  rule: CatalogueEntry,
  object: ObjectMeta,
  config: PolicyConfig,
  now: Date,
): { decision: ExemptionDecision; origin: ExemptionOrigin } | null {
  const annotated = annotationExemptionOf(object.metadata?.annotations);
  // An annotation that cannot be honoured (no reason, expired) is reported, unless the configuration exempts the finding.
  let annotationNote: ExemptionDecision | null = null;
  if (annotated) {
    const ids = annotated.rules;
    if (ids.includes(rule.id) || ids.includes("*")) {
      const { reason, until } = annotated;
      if (!reason) {
        annotationNote = { exempt: false, reason: `annotation ${EXEMPT_ANNOTATION} ignored: ${EXEMPT_REASON_ANNOTATION} is missing` };
      } else if (until && expired(until, now)) {
        annotationNote = { exempt: false, reason: `exemption by annotation expired on ${until} (${reason})` };
      } else {
        return { decision: { exempt: true, reason: `exempt by annotation: ${reason}${until ? ` (until ${until})` : ""}` }, origin: { type: "annotation" } };
      }
    }
  }
  let expiredNote: { decision: ExemptionDecision; origin: ExemptionOrigin } | null = null;
  for (const [index, exemption] of (config.exemptions ?? []).entries()) {
    if (!configExemptionCovers(exemption, object)) continue;
    if (!exemption.rules.includes(rule.id) && !exemption.rules.includes("*")) continue;
    if (exemption.expires && expired(exemption.expires, now)) {
      expiredNote = { decision: { exempt: false, reason: `exemption expired on ${exemption.expires} (${exemption.reason})` }, origin: { type: "config", index } };
      continue;
    }
    return {
      decision: { exempt: true, reason: `exempt by configuration: ${exemption.reason}${exemption.expires ? ` (until ${exemption.expires})` : ""}` },
      origin: { type: "config", index },
    };
  }
  return annotationNote ? { decision: annotationNote, origin: { type: "annotation" } } : expiredNote;
}

/** Whether a configured exemption's namespace, name and kind patterns cover the object (whatever its rules). */
export function configExemptionCovers(
  exemption: { namespace?: string; name?: string; kind?: string },
  object: ObjectMeta,
): boolean {
  const namespace = object.metadata?.namespace ?? "default";
  const name = object.metadata?.name ?? "";
  if (exemption.namespace && !globMatch(exemption.namespace, namespace)) return false;
  if (exemption.name && !globMatch(exemption.name, name)) return false;
  if (exemption.kind && exemption.kind !== object.kind) return false;
  return true;
}

export function namespaceExcluded(namespace: string, config: PolicyConfig): boolean {
  return (config.excludedNamespaces ?? []).some((pattern) => globMatch(pattern, namespace));
}

/** Namespace isolation: true when the configuration lets tools read or change this namespace. */
export function namespaceAllowed(namespace: string, config: PolicyConfig): boolean {
  const { allow, deny } = config.namespaces ?? {};
  if (deny?.some((p) => globMatch(p, namespace))) return false;
  if (allow && allow.length > 0) return allow.some((p) => globMatch(p, namespace));
  return true;
}
