// The one function every door calls: objects (with their context facts) in, per-workload results out,
// with the configuration applied. Nothing here knows about files, clusters, MCP or HTTP.
import type { PolicyConfig } from "../config/types.js";
import type { PolicyBundle } from "./bundle.js";
import {
  EXEMPT_ANNOTATION,
  approvalReason,
  exemptionFor,
  namespaceExcluded,
  ruleEnabled,
  ruleEnforcement,
  ruleSeverity,
} from "./enforcement.js";
import { PolicyEngine, type PolicyInput } from "./engine.js";
import { pointerToPath } from "./field-path.js";
import type { CatalogueEntry, Finding, ResourceRef, Severity } from "./types.js";
import { WORKLOAD_KIND_SET } from "../manifests/offline-context.js";

export interface WorkloadResult {
  resource: ResourceRef;
  /** False when any finding is a violation (a deny finding under strict enforcement). */
  passed: boolean;
  findings: Finding[];
  /** Rules that ran on this workload (enabled ones), so reports can count passes. */
  rulesEvaluated: number;
  /** Set when the workload was not evaluated (excluded namespace). */
  skipped?: string;
}

export interface CatalogueView extends CatalogueEntry {
  enabled: boolean;
  enforcement: string;
  effectiveSeverity: string;
  fixAvailable: boolean;
}

export function resourceOf(object: Record<string, unknown>): ResourceRef {
  const metadata = (object.metadata ?? {}) as { name?: string; namespace?: string };
  return {
    apiVersion: String(object.apiVersion ?? ""),
    kind: String(object.kind ?? ""),
    namespace: metadata.namespace ?? null,
    name: metadata.name ?? "",
  };
}

export class PolicyEvaluator {
  readonly engine: PolicyEngine;

  constructor(
    readonly bundle: PolicyBundle,
    readonly config: PolicyConfig,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.engine = new PolicyEngine(bundle, { settings: settingsOf(config) });
    for (const rule of bundle.catalogue) {
      const enforcement = ruleEnforcement(rule, config);
      if (enforcement === "disabled") continue;
      const severity = ruleSeverity(rule, config);
      this.rulePolicy.set(rule.id, {
        severity,
        outcome: rule.action === "deny" && enforcement === "strict" ? "violation" : "warning",
        approval: rule.fixRisk ? approvalReason(rule, severity, rule.fixRisk, config) : null,
      });
    }
    this.enabledRules = this.rulePolicy.size;
  }

  /** What the configuration decides for each enabled rule, worked out once. */
  private readonly rulePolicy = new Map<string, { severity: Severity; outcome: "violation" | "warning"; approval: string | null }>();

  /** Number of rules this configuration runs on each workload. */
  readonly enabledRules: number;

  /** The catalogue with this configuration's view of each rule. */
  catalogue(): CatalogueView[] {
    return this.bundle.catalogue.map((rule) => ({
      ...rule,
      enabled: ruleEnabled(rule, this.config),
      enforcement: ruleEnforcement(rule, this.config),
      effectiveSeverity: ruleSeverity(rule, this.config),
      fixAvailable: rule.fixRisk !== null,
    }));
  }

  evaluate(input: PolicyInput): WorkloadResult {
    const resource = resourceOf(input.object);
    const namespace = resource.namespace ?? "default";
    if (namespaceExcluded(namespace, this.config)) {
      return { resource, passed: true, findings: [], rulesEvaluated: 0, skipped: `namespace ${namespace} is excluded by the configuration` };
    }
    const now = this.clock();
    const annotations = (input.object.metadata as { annotations?: Record<string, string> } | undefined)?.annotations;
    const mayBeExempt = (this.config.exemptions?.length ?? 0) > 0 || (annotations !== undefined && EXEMPT_ANNOTATION in annotations);
    const findings: Finding[] = [];
    for (const result of this.engine.evaluate(input)) {
      const rule = result.rule;
      const policy = this.rulePolicy.get(rule.id);
      if (!policy) continue; // disabled by the configuration
      for (const item of result.notEvaluated) {
        findings.push({
          ruleId: rule.id,
          title: rule.title,
          severity: policy.severity,
          category: rule.category,
          frameworks: rule.frameworks,
          message: item.msg,
          path: "",
          pointer: "",
          resource,
          fix: null,
          autoFixable: false,
          remediation: rule.remediation,
          outcome: "not-evaluated",
          reason: item.msg,
        });
      }
      if (result.violations.length === 0) continue;
      const exemption = mayBeExempt ? exemptionFor(rule, input.object, this.config, now) : null;
      const outcome = exemption?.exempt ? "exempt" : policy.outcome;
      for (const violation of result.violations) {
        const fix = violation.fix && rule.fixRisk ? { patch: violation.fix, risk: rule.fixRisk } : null;
        const finding: Finding = {
          ruleId: rule.id,
          title: rule.title,
          severity: policy.severity,
          category: rule.category,
          frameworks: rule.frameworks,
          message: violation.msg,
          path: pointerToPath(violation.path),
          pointer: violation.path,
          resource,
          fix,
          autoFixable: fix !== null && policy.approval === null,
          remediation: rule.remediation,
          outcome,
        };
        if (exemption) finding.reason = exemption.reason;
        else if (fix && policy.approval) finding.reason = `fix needs approval: ${policy.approval}`;
        findings.push(finding);
      }
    }
    return {
      resource,
      passed: !findings.some((f) => f.outcome === "violation"),
      findings,
      rulesEvaluated: WORKLOAD_KIND_SET.has(resource.kind) ? this.enabledRules : 0,
    };
  }

  *evaluateAll(inputs: Iterable<PolicyInput>): Generator<WorkloadResult> {
    for (const input of inputs) yield this.evaluate(input);
  }
}

/** data.config for the rules: the organisation's environment plus its tunables. */
export function settingsOf(config: PolicyConfig): Record<string, unknown> {
  return { environment: config.organization?.environment ?? "", ...(config.settings ?? {}) };
}
