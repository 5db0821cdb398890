// Covers src/report/formats/*: SARIF 2.1.0 validated against the official JSON Schema (the copy
// shipped in @microsoft/jest-sarif, lib/schemas/sarif-2.1.0-rtm.5.json, the OASIS 2.1.0 schema as
// published on schemastore; draft-04, hence ajv-draft-04), with a broken log as a negative control;
// JUnit XML parsed by fast-xml-parser with its counts checked against the evaluation and hostile text
// escaped; the standalone HTML (no script, no external resource, the SVG trend chart); text with the
// trend section; JSON against the tool's output schema.
// Real components: the compiled policy bundle, the eval fixtures (test/fixtures/eval) as a manifest
// source, two scans stored in SQLite on a temporary file so the report has a trend. Nothing is stubbed.
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { z } from "zod";
import type { PolicyConfig } from "../../src/config/types.js";
import { MemorySource } from "../../src/kube/memory-source.js";
import { PolicyBundle } from "../../src/policy/bundle.js";
import type { ReportInput } from "../../src/report/formats/index.js";
import { parseReportFormat, renderReport } from "../../src/report/formats/index.js";
import { Runtime } from "../../src/runtime.js";
import { runScan } from "../../src/scans/scan.js";
import { complianceReportData } from "../../src/tools/report.js";
import { complianceReportOutput } from "../../src/tools/schemas.js";

const require = createRequire(import.meta.url);
const Ajv04 = require("ajv-draft-04") as typeof import("ajv-draft-04").default;
const addFormats = require("ajv-formats") as typeof import("ajv-formats").default;
const SARIF_SCHEMA = require.resolve("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json");

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const FIXTURES = path.join(ROOT, "test/fixtures/eval/manifests");
const dir = mkdtempSync(path.join(tmpdir(), "kube-policy-formats-"));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const config: PolicyConfig = {
  ...(JSON.parse(readFileSync(path.join(ROOT, "test/fixtures/eval/config.json"), "utf8")) as PolicyConfig),
  exemptions: [{ rules: ["image-pull-policy"], namespace: "shop", name: "checkout", reason: "pull policy reviewed by the payments team" }],
};

let input: ReportInput;

test.before(async () => {
  // Two scans of the same manifests, the second after one file is gone, then the live report.
  const manifests = path.join(dir, "manifests");
  (await import("node:fs")).mkdirSync(manifests);
  for (const file of readdirSync(FIXTURES)) copyFileSync(path.join(FIXTURES, file), path.join(manifests, file));
  const bundle = await PolicyBundle.load();
  const db = path.join(dir, "history.db");
  const first = new Runtime(config, bundle, await MemorySource.fromFiles([manifests]), { databasePath: db });
  await runScan(first, {});
  await first.close();
  unlinkSync(path.join(manifests, "fail.daemonset-host-pid.yaml"));
  const runtime = new Runtime(config, bundle, await MemorySource.fromFiles([manifests]), { databasePath: db });
  await runScan(runtime, {});
  input = await complianceReportData(runtime, {});
  await runtime.close();
});

const open = () => input.results.filter((r) => !r.skipped).flatMap((r) => r.findings.filter((f) => f.outcome === "violation" || f.outcome === "warning"));

function sarifValidator() {
  // The schema's language pattern has a stray "]" that only non-unicode regular expressions accept.
  const ajv = new Ajv04({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  return ajv.compile(JSON.parse(readFileSync(SARIF_SCHEMA, "utf8")) as object);
}

test("SARIF validates against the SARIF 2.1.0 schema; a broken log does not", (t) => {
  const validate = sarifValidator();
  const sarif = JSON.parse(renderReport("sarif", input).body) as { version: string; runs: { results: { level: string }[] }[] };
  t.true(validate(sarif), JSON.stringify(validate.errors, null, 2));
  const withoutVersion = structuredClone(sarif) as Partial<typeof sarif>;
  delete withoutVersion.version;
  t.false(validate(withoutVersion), "the schema requires version");
  const badLevel = structuredClone(sarif);
  badLevel.runs[0]!.results[0]!.level = "fatal";
  t.false(validate(badLevel), "the schema knows the levels");
});

test("SARIF: a result per finding with rule, level from severity, the resource and field as location", (t) => {
  const sarif = JSON.parse(renderReport("sarif", input).body) as {
    runs: {
      tool: { driver: { rules: { id: string; help: { text: string }; properties: { severity: string } }[] } };
      results: {
        ruleId: string;
        ruleIndex: number;
        level: string;
        suppressions?: { justification: string }[];
        locations: { physicalLocation?: { artifactLocation: { uri: string }; region: { startLine: number } }; logicalLocations: { fullyQualifiedName: string; kind: string }[] }[];
        properties: { severity: string; outcome: string };
      }[];
    }[];
  };
  const run = sarif.runs[0]!;
  const exempt = input.results.flatMap((r) => r.findings.filter((f) => f.outcome === "exempt"));
  t.true(exempt.length > 0, "the configuration exempts a finding");
  t.is(run.results.length, open().length + exempt.length);
  const rules = run.tool.driver.rules;
  for (const r of run.results) {
    t.is(rules[r.ruleIndex]!.id, r.ruleId);
    const expected = ({ critical: "error", high: "error", medium: "warning", low: "note" } as Record<string, string>)[r.properties.severity] ?? "(unknown severity)";
    t.is(r.level, r.properties.outcome === "warning" && expected === "error" ? "warning" : expected);
  }
  const privileged = run.results.find((r) => r.ruleId === "privileged-container")!;
  const location = privileged.locations[0]!;
  t.regex(location.physicalLocation!.artifactLocation.uri, /^file:\/\/.*\/manifests\/fail\.privileged-and-latest\.yaml$/);
  t.true(location.physicalLocation!.region.startLine >= 1);
  t.deepEqual(location.logicalLocations.map((l) => l.kind), ["resource", "property"]);
  t.regex(location.logicalLocations[1]!.fullyQualifiedName, /^shop\/Deployment\/checkout#\/spec\/template\/spec\/containers\/0\/securityContext\/privileged$/);
  const suppressed = run.results.filter((r) => r.suppressions);
  t.is(suppressed.length, exempt.length);
  t.regex(suppressed[0]!.suppressions![0]!.justification, /pull policy reviewed by the payments team$/);
  t.regex(rules.find((r) => r.id === "privileged-container")!.help.text, /securityContext\.privileged/);
});

test("JUnit parses; one suite per workload, one case per enabled rule, failures for violations", (t) => {
  const xml = renderReport("junit", input).body;
  t.is(XMLValidator.validate(xml), true);
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "", isArray: (name) => name === "testsuite" || name === "testcase" });
  const doc = parser.parse(xml) as {
    testsuites: { tests: string; failures: string; skipped: string; testsuite: { name: string; tests: string; failures: string; testcase: { name: string; failure?: { type: string } }[] }[] };
  };
  const suites = doc.testsuites.testsuite;
  const enabled = input.catalogue.filter((r) => r.enabled).length;
  const evaluated = input.results.filter((r) => !r.skipped);
  t.is(suites.length, input.results.length);
  const violations = new Set(evaluated.flatMap((r) => r.findings.filter((f) => f.outcome === "violation").map((f) => `${f.resource.kind}/${f.resource.name}/${f.ruleId}`)));
  t.is(Number(doc.testsuites.failures), violations.size);
  t.is(Number(doc.testsuites.tests), evaluated.length * enabled + (input.results.length - evaluated.length));
  const checkout = suites.find((s) => s.name === "Deployment shop/checkout")!;
  t.is(checkout.testcase.length, enabled);
  const failed = checkout.testcase.find((c) => c.name.startsWith("privileged-container:"))!;
  t.is(failed.failure?.type, "critical");
  t.is(checkout.testcase.filter((c) => c.failure).length, Number(checkout.failures));

  const byRule = parser.parse(renderReport("junit", input, { junitGrouping: "rule" }).body) as typeof doc;
  t.is(byRule.testsuites.testsuite.filter((s) => s.name !== "(not evaluated)").length, enabled);
  t.is(Number(byRule.testsuites.failures), violations.size, "the same failures, grouped the other way");
});

test("JUnit escapes text that would break XML", (t) => {
  const hostile = "<script>alert('x')</script> & \"quotes\" \u0001 ]]>";
  const copy: ReportInput = structuredClone(input);
  const target = copy.results.flatMap((r) => r.findings).find((f) => f.outcome === "violation")!;
  target.message = hostile;
  const xml = renderReport("junit", copy).body;
  t.is(XMLValidator.validate(xml), true);
  t.false(xml.includes("<script>"));
  const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(xml);
  t.true(JSON.stringify(parsed).includes("alert('x')"), "the text survives, escaped");
  t.true(JSON.stringify(parsed).includes("\uFFFD"), "a control character XML cannot carry is replaced");
});

test("HTML is one standalone file with an inline SVG trend chart", (t) => {
  const html = renderReport("html", input).body;
  t.regex(html, /^<!DOCTYPE html>/);
  t.notRegex(html, /<script|<link|<img|<iframe|@import|url\(/i, "no script and nothing loaded from elsewhere");
  t.notRegex(html, /(src|href)\s*=\s*["']?(https?:)?\/\//i);
  const svg = /<svg[^>]*>([\s\S]*?)<\/svg>/.exec(html);
  t.truthy(svg, "the trend chart");
  const score = /<polyline class="score" points="([^"]+)"/.exec(svg![1]!);
  t.is(score![1]!.split(" ").length, input.report.trend!.score.points.length, "one point per scan");
  t.is(input.report.trend!.score.points.length, 2);
  t.regex(html, /Since the previous scan .*<strong>0<\/strong> new, <strong>\d+<\/strong> resolved/);
  t.regex(html, /<td>host-pid<\/td><td>high<\/td><td>DaemonSet [^<]+<\/td><td>workload-removed<\/td>/);
});

test("text has the trend section; JSON is the tool's output", (t) => {
  const text = renderReport("text", input).body;
  t.regex(text, /^📊 Compliance Report for Cluster/);
  t.regex(text, /Trend Analysis \(last 30 days, 2 scan\(s\)\):\n- Compliance: \d+% → \d+%/);
  t.regex(text, /✅ resolved \(workload-removed\): host-pid on DaemonSet/);
  const json = JSON.parse(renderReport("json", input).body) as unknown;
  const parsed = z.object(complianceReportOutput).safeParse(json);
  t.true(parsed.success, parsed.success ? "" : JSON.stringify(parsed.error.issues.slice(0, 5)));
});

test("an unknown format is refused naming the parameter", (t) => {
  const error = t.throws(() => parseReportFormat("pdf", "query.format"));
  t.is(error.message, 'unknown report format "pdf"');
  t.deepEqual((error as unknown as { details: unknown }).details, [{ where: "query.format", message: "must be one of text, json, sarif, junit, html" }]);
});
