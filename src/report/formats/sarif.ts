// SARIF 2.1.0 for code scanning: one result per finding (violations and advisory warnings; exempt
// findings as suppressed results), the rules with their help text, the workload and field as the
// location — a physical one (file and line) when the workload came from a manifest file.
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Finding } from "../../policy/types.js";
import { findingIdentity } from "../../store/scan-store.js";
import { VERSION } from "../../version.js";
import type { ReportInput } from "./index.js";

export const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";

type Level = "error" | "warning" | "note";

const LEVEL: Record<string, Level> = { critical: "error", high: "error", medium: "warning", low: "note" };
/** GitHub code scanning ranks security results by this number (0-10). */
const SECURITY_SEVERITY: Record<string, string> = { critical: "9.5", high: "7.5", medium: "5.0", low: "2.0" };

export interface SarifLog {
  $schema: string;
  version: "2.1.0";
  runs: Record<string, unknown>[];
}

/** A manifest source "file:line" as a SARIF artifact location; null for cluster API paths. */
function physicalLocation(source: string | undefined): Record<string, unknown> | null {
  const match = source ? /^(.+):(\d+)$/.exec(source) : null;
  if (!match || match[1] === "-" || match[1]!.startsWith("/api")) return null;
  const file = match[1]!;
  const uri = path.isAbsolute(file) ? pathToFileURL(file).href : encodeURI(file.split(path.sep).join("/"));
  return { artifactLocation: { uri }, region: { startLine: Math.max(1, Number(match[2])) } };
}

function levelOf(f: Finding): Level {
  const level = LEVEL[f.severity] ?? "warning";
  // An advisory finding does not fail anything: never more than a warning.
  return f.outcome === "warning" && level === "error" ? "warning" : level;
}

export function renderSarif(input: ReportInput): SarifLog {
  const rules = input.catalogue.filter((r) => r.enabled);
  const ruleIndex = new Map(rules.map((r, i) => [r.id, i]));
  const results: Record<string, unknown>[] = [];
  for (const result of input.results) {
    if (result.skipped) continue;
    for (const f of result.findings) {
      if (f.outcome === "not-evaluated") continue;
      const namespace = f.resource.namespace ?? "default";
      const where = `${namespace}/${f.resource.kind}/${f.resource.name}`;
      const physical = physicalLocation(result.source);
      results.push({
        ruleId: f.ruleId,
        ...(ruleIndex.has(f.ruleId) ? { ruleIndex: ruleIndex.get(f.ruleId) } : {}),
        kind: "fail",
        level: levelOf(f),
        message: { text: `${f.message} (${f.resource.kind} ${namespace}/${f.resource.name}${f.path ? `, field ${f.path}` : ""})` },
        locations: [
          {
            ...(physical ? { physicalLocation: physical } : {}),
            logicalLocations: [
              { name: f.resource.name, fullyQualifiedName: where, kind: "resource" },
              ...(f.path ? [{ name: f.path, fullyQualifiedName: `${where}#${f.pointer}`, kind: "property" }] : []),
            ],
          },
        ],
        partialFingerprints: {
          "kubePolicyFinding/v1": findingIdentity({ ...f, kind: f.resource.kind, namespace, name: f.resource.name }),
        },
        ...(f.outcome === "exempt" ? { suppressions: [{ kind: "external", status: "accepted", justification: f.reason ?? "exempt by the policy configuration" }] } : {}),
        properties: {
          severity: f.severity,
          category: f.category,
          outcome: f.outcome,
          resource: f.resource,
          field: f.path,
          pointer: f.pointer,
          frameworks: f.frameworks,
          autoFixable: f.autoFixable,
          ...(f.fix ? { fix: f.fix } : {}),
          ...(result.source ? { source: result.source } : {}),
        },
      });
    }
  }
  const report = input.report;
  return {
    $schema: SARIF_SCHEMA,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "kube-policy-mcp",
            version: VERSION,
            semanticVersion: VERSION,
            rules: rules.map((r) => ({
              id: r.id,
              name: r.title,
              shortDescription: { text: r.title },
              fullDescription: { text: r.description || r.title },
              help: {
                text: `${r.remediation}${frameworksLine(r.frameworks) ? `\nFrameworks: ${frameworksLine(r.frameworks)}` : ""}`,
                markdown: `**Remediation:** ${r.remediation}${frameworksLine(r.frameworks) ? `\n\n**Frameworks:** ${frameworksLine(r.frameworks)}` : ""}`,
              },
              defaultConfiguration: { level: LEVEL[r.effectiveSeverity] ?? "warning" },
              properties: {
                category: r.category,
                severity: r.effectiveSeverity,
                tags: [r.category, ...Object.keys(r.frameworks)],
                "security-severity": SECURITY_SEVERITY[r.effectiveSeverity] ?? "5.0",
                frameworks: r.frameworks,
                fixRisk: r.fixRisk,
              },
            })),
          },
        },
        automationDetails: { id: `kube-policy/${report.cluster}/${report.scope.namespace ?? "cluster"}/` },
        invocations: [
          {
            executionSuccessful: true,
            endTimeUtc: report.generated,
            toolExecutionNotifications: report.warnings.map((w) => ({ level: "warning", message: { text: `${w.where ? `${w.where}: ` : ""}${w.message}` } })),
          },
        ],
        results,
        properties: {
          cluster: report.cluster,
          scope: report.scope,
          compliancePercent: report.compliance.percent,
          workloads: report.workloads,
        },
      },
    ],
  };
}

function frameworksLine(frameworks: Record<string, string[]>): string {
  return Object.entries(frameworks)
    .map(([framework, controls]) => `${framework} ${controls.join(", ")}`)
    .join("; ");
}
