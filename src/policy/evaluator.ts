// The one function every door calls: objects (with their context facts) in, per-workload results out,
// with the configuration applied. Nothing here knows about files, clusters, MCP or HTTP.
import type { PolicyConfig } from "../config/types.js";
import type { PolicyBundle } from "./bundle.js";
import {
  approvalReason,
  exemptionFor,
  namespaceExcluded,
  ruleEnabled,
  ruleEnforcement,
  ruleSeverity,
} from "./enforcement.js";
import { PolicyEngine, type PolicyInput } from "./engine.js";
import { pointerToPath } from "./field-path.js";
import type { CatalogueEntry, Finding, ResourceRef } from "./types.js";

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
  }

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
    const findings: Finding[] = [];
    let rulesEvaluated = 0;
    for (const result of this.engine.evaluate(input)) {
      const rule = result.rule;
      const enforcement = ruleEnforcement(rule, this.config);
      if (enforcement === "disabled") continue;
      rulesEvaluated++;
      const severity = ruleSeverity(rule, this.config);
      const base = {
        ruleId: rule.id,
        title: rule.title,
        severity,
        category: rule.category,
        frameworks: rule.frameworks,
        resource,
        remediation: rule.remediation,
      };
      for (const item of result.notEvaluated) {
        findings.push({ ...base, message: item.msg, path: "", pointer: "", fix: null, autoFixable: false, outcome: "not-evaluated", reason: item.msg });
      }
      if (result.violations.length === 0) continue;
      const exemption = exemptionFor(rule, input.object, this.config, now);
      for (const violation of result.violations) {
        const fix = violation.fix && rule.fixRisk ? { patch: violation.fix, risk: rule.fixRisk } : null;
        const approval = fix ? approvalReason(rule, severity, fix.risk, this.config) : null;
        const finding: Finding = {
          ...base,
          message: violation.msg,
          path: pointerToPath(violation.path),
          pointer: violation.path,
          fix,
          autoFixable: fix !== null && approval === null,
          outcome: exemption?.exempt
            ? "exempt"
            : rule.action === "deny" && enforcement === "strict"
              ? "violation"
              : "warning",
        };
        if (exemption) finding.reason = exemption.reason;
        else if (fix && approval) finding.reason = `fix needs approval: ${approval}`;
        findings.push(finding);
      }
    }
    return { resource, passed: !findings.some((f) => f.outcome === "violation"), findings, rulesEvaluated };
  }

  *evaluateAll(inputs: Iterable<PolicyInput>): Generator<WorkloadResult> {
    for (const input of inputs) yield this.evaluate(input);
  }
}

/** data.config for the rules: the organisation's environment plus its tunables. */
export function settingsOf(config: PolicyConfig): Record<string, unknown> {
  return { environment: config.organization?.environment ?? "", ...(config.settings ?? {}) };
}
