// JUnit XML for CI: by default one <testsuite> per workload with one <testcase> per enabled rule
// (grouping "rule" turns it around: a suite per rule, a case per workload). Violations are <failure>s,
// exempt and not-evaluated rules are <skipped>, advisory warnings pass with a note in <system-out>.
import type { Finding } from "../../policy/types.js";
import type { ReportInput } from "./index.js";

export type JunitGrouping = "workload" | "rule";
export const JUNIT_GROUPINGS = ["workload", "rule"] as const;

// Characters XML 1.0 cannot carry at all (control characters other than tab, newline, return).
// eslint-disable-next-line no-control-regex
const INVALID_XML = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function xmlEscape(value: string): string {
  return value
    .replace(INVALID_XML, "\uFFFD")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

const attrs = (values: Record<string, string | number>) =>
  Object.entries(values)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join("");

interface Case {
  suite: string;
  name: string;
  classname: string;
  file?: string;
  findings: Finding[];
  skipped?: string;
}

function caseXml(c: Case): { xml: string; failed: boolean; skipped: boolean } {
  const head = `    <testcase${attrs({ name: c.name, classname: c.classname, time: 0, ...(c.file ? { file: c.file } : {}) })}`;
  const violations = c.findings.filter((f) => f.outcome === "violation");
  const warnings = c.findings.filter((f) => f.outcome === "warning");
  const exempt = c.findings.filter((f) => f.outcome === "exempt");
  const notEvaluated = c.findings.filter((f) => f.outcome === "not-evaluated");
  const describe = (f: Finding) =>
    `${f.ruleId} [${f.severity}] ${f.resource.kind} ${f.resource.namespace ?? "default"}/${f.resource.name}: ${f.message}` +
    `${f.path ? `\n  field: ${f.path}` : ""}\n  remediation: ${f.remediation}`;
  if (c.skipped) return { xml: `${head}>\n      <skipped${attrs({ message: c.skipped })}/>\n    </testcase>\n`, failed: false, skipped: true };
  if (violations.length > 0) {
    const first = violations[0]!;
    const message = violations.length === 1 ? first.message : `${violations.length} violations: ${first.message}; ...`;
    const out = warnings.length ? `\n      <system-out>${xmlEscape(warnings.map(describe).join("\n"))}</system-out>` : "";
    return {
      xml: `${head}>\n      <failure${attrs({ message, type: first.severity })}>${xmlEscape(violations.map(describe).join("\n"))}</failure>${out}\n    </testcase>\n`,
      failed: true,
      skipped: false,
    };
  }
  if (warnings.length > 0) {
    return { xml: `${head}>\n      <system-out>${xmlEscape(`advisory: ${warnings.map(describe).join("\n")}`)}</system-out>\n    </testcase>\n`, failed: false, skipped: false };
  }
  if (exempt.length > 0 || notEvaluated.length > 0) {
    const reason = exempt.length > 0 ? `exempt: ${exempt[0]!.reason ?? "by the policy configuration"}` : `not evaluated: ${notEvaluated[0]!.reason ?? notEvaluated[0]!.message}`;
    return { xml: `${head}>\n      <skipped${attrs({ message: reason })}/>\n    </testcase>\n`, failed: false, skipped: true };
  }
  return { xml: `${head}/>\n`, failed: false, skipped: false };
}

export function renderJunit(input: ReportInput, options: { grouping?: JunitGrouping } = {}): string {
  const grouping = options.grouping ?? "workload";
  const rules = input.catalogue.filter((r) => r.enabled);
  const cases: Case[] = [];
  for (const result of input.results) {
    const r = result.resource;
    const namespace = r.namespace ?? "default";
    const workload = `${r.kind} ${namespace}/${r.name}`;
    const classname = `${namespace}.${r.kind}.${r.name}`;
    const file = result.source?.replace(/:\d+$/, "");
    if (result.skipped) {
      cases.push({ suite: grouping === "workload" ? workload : "(not evaluated)", name: grouping === "workload" ? "evaluation" : workload, classname, file, findings: [], skipped: result.skipped });
      continue;
    }
    const byRule = new Map<string, Finding[]>();
    for (const f of result.findings) {
      const list = byRule.get(f.ruleId);
      if (list) list.push(f);
      else byRule.set(f.ruleId, [f]);
    }
    for (const rule of rules) {
      const findings = byRule.get(rule.id) ?? [];
      cases.push(
        grouping === "workload"
          ? { suite: workload, name: `${rule.id}: ${rule.title}`, classname, file, findings }
          : { suite: `${rule.id}: ${rule.title}`, name: workload, classname: `${rule.category}.${rule.id}`, file, findings },
      );
    }
  }
  const suites = new Map<string, Case[]>();
  for (const c of cases) {
    const list = suites.get(c.suite);
    if (list) list.push(c);
    else suites.set(c.suite, [c]);
  }
  const timestamp = input.report.generated.replace(/\.\d{3}Z$/, "");
  let tests = 0;
  let failures = 0;
  let skipped = 0;
  const body: string[] = [];
  for (const [name, list] of suites) {
    const rendered = list.map(caseXml);
    const f = rendered.filter((r) => r.failed).length;
    const s = rendered.filter((r) => r.skipped).length;
    tests += list.length;
    failures += f;
    skipped += s;
    body.push(
      `  <testsuite${attrs({ name, tests: list.length, failures: f, errors: 0, skipped: s, time: 0, timestamp })}>\n${rendered.map((r) => r.xml).join("")}  </testsuite>\n`,
    );
  }
  const scope = input.report.scope.namespace ? `namespace ${input.report.scope.namespace}` : "cluster";
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites${attrs({ name: `kube-policy compliance: ${input.report.cluster} ${scope}`, tests, failures, errors: 0, skipped, time: 0 })}>\n` +
    body.join("") +
    `</testsuites>\n`
  );
}
