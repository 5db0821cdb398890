// Covers `kube-policy eval` end to end, run as a subprocess: every workload under
// test/fixtures/eval/manifests gets exactly the violations its `# expect:` line names (rule ids of
// /work/shared/CHECKS.md); exit codes (0 passed, 1 strict violations, 2 bad input); text and JSON
// output; stdin; skipped documents; malformed manifests and configurations; an advisory configuration.
// Real components: the compiled CLI (bin/kube-policy.js runs dist/, which `npm test` builds with tsc
// before ava; a stale or missing dist/ fails the file up front), the committed policy.wasm, the
// fixture files. Nothing is stubbed.
// The manifests sit in a folder of their own, apart from config.json: a directory given to -f is read
// whole, and a policy configuration in it would be reported as a manifest without apiVersion and kind.
import test from "ava";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isMap, isSeq, LineCounter, parseAllDocuments, type Node } from "yaml";
import { runCli, type CliRun as Run } from "../helpers/cli.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MANIFESTS = "test/fixtures/eval/manifests";
const CONFIG = "test/fixtures/eval/config.json";
const BAD = "test/fixtures/eval-bad";
const CHECKS_MD = path.resolve(ROOT, "../shared/CHECKS.md");

// ---- the CLI as a subprocess ----

const cli = (args: string[], stdin?: string): Promise<Run> =>
  runCli(args, { stdin });

interface Finding {
  ruleId: string;
  severity: string;
  category: string;
  message: string;
  resource: { apiVersion: string; kind: string; namespace: string | null; name: string };
  fix: { patch: unknown[]; risk: string } | null;
  autoFixable: boolean;
}

interface Report {
  passed: boolean;
  violations: Finding[];
  warnings: Finding[];
  exempt: Finding[];
  notEvaluated: Finding[];
  summary: { workloads: number; skipped: number; bySeverity: Record<string, number> };
  workloads: { resource: Finding["resource"]; passed: boolean; source?: string }[];
  skipped: { source: string; kind: string; name: string; reason: string }[];
  errors: { where?: string; message: string }[];
}

function report(run: Run): Report {
  try {
    return JSON.parse(run.stdout) as Report;
  } catch {
    throw new Error(`no JSON report on stdout (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
}

const keyOf = (r: { kind: string; namespace?: string | null; name?: string }) => `${r.kind} ${r.namespace ?? ""}/${r.name ?? ""}`;
const noStackTrace = (t: { false: (v: boolean, m?: string) => void }, stderr: string) =>
  t.false(stderr.includes("    at "), `stack trace on stderr:\n${stderr}`);

// ---- the rule catalogue of CHECKS.md ----

interface CheckRow {
  category: string;
  severity: string;
  firesWhen: string;
  /** Risk of the automatic fix, null for "—". */
  fixRisk: string | null;
}

/** Rows `| id | fires when | severity | fix (risk) |` under `## <category>` headings. */
function parseChecks(markdown: string): Map<string, CheckRow> {
  const rows = new Map<string, CheckRow>();
  let category: string | undefined;
  for (const line of markdown.split("\n")) {
    const heading = /^## (\S+)\s*$/.exec(line);
    if (heading) {
      category = heading[1];
      continue;
    }
    const cells = line.split("|").slice(1, -1).map((c) => c.trim());
    // Skip the header row and the |---| separator.
    if (!category || cells.length !== 4 || cells[0] === "id" || !/^[a-z][a-z0-9-]*$/.test(cells[0]!)) continue;
    rows.set(cells[0]!, {
      category,
      severity: cells[2]!,
      firesWhen: cells[1]!,
      fixRisk: /\((low|medium|high)\)$/.exec(cells[3]!)?.[1] ?? null,
    });
  }
  return rows;
}

const CHECKS = parseChecks(readFileSync(CHECKS_MD, "utf8"));
// "Workloads are Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob and bare Pod" (CHECKS.md).
const WORKLOAD_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"]);

// ---- expectations, read from the fixtures ----

interface Expectation {
  key: string;
  /** Path as given to the CLI, and the line the workload starts on (what the CLI reports as source). */
  file: string;
  line: number;
  rules: string[];
}

const EXPECT_ANNOTATION = "kube-policy.test/expect"; // JSON has no comments: .json fixtures carry this annotation

/** Expectations of one fixture file: the `# expect:` line right above each workload (document or List item). */
function expectationsOf(file: string): Expectation[] {
  const text = readFileSync(path.join(ROOT, file), "utf8");
  const lines = text.split("\n");
  const counter = new LineCounter();
  const out: Expectation[] = [];
  const visit = (node: Node | null | undefined, value: unknown) => {
    const object = value as { kind?: string; items?: unknown[]; metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> } };
    if (!object || typeof object !== "object") return;
    if (isMap(node) && object.kind === "List") {
      const items = node.get("items", true);
      if (isSeq(items)) items.items.forEach((item, i) => visit(item as Node, object.items?.[i]));
      return;
    }
    if (!WORKLOAD_KINDS.has(object.kind ?? "")) return;
    const line = counter.linePos(node!.range![0]).line;
    const listed = file.endsWith(".json")
      ? object.metadata?.annotations?.[EXPECT_ANNOTATION]
      : /^\s*#\s*expect:\s*(.+)$/.exec(lines[line - 2] ?? "")?.[1];
    if (listed === undefined) throw new Error(`${file}:${line}: ${object.kind} ${object.metadata?.name} has no expectation above it`);
    const rules = listed.trim() === "none" ? [] : listed.split(",").map((s) => s.trim());
    for (const id of rules) if (!CHECKS.has(id)) throw new Error(`${file}:${line}: expects unknown rule id ${id}`);
    out.push({ key: keyOf({ kind: object.kind!, namespace: object.metadata?.namespace, name: object.metadata?.name }), file, line, rules: rules.sort() });
  };
  for (const doc of parseAllDocuments(text, { lineCounter: counter })) {
    if (doc.errors.length > 0) throw new Error(`${file}: fixture does not parse`);
    visit(doc.contents, doc.toJS());
  }
  return out;
}

const fixtureFiles = readdirSync(path.join(ROOT, MANIFESTS)).sort();
const EXPECTATIONS = fixtureFiles.flatMap((name) => expectationsOf(`${MANIFESTS}/${name}`));
const expected = new Map(EXPECTATIONS.map((e) => [e.key, e]));
const fixture = (prefix: string) => fixtureFiles.filter((f) => f.startsWith(prefix)).map((f) => `${MANIFESTS}/${f}`);
const CONTEXT_FILE = `${MANIFESTS}/context.namespace-facts.yaml`;

/** "<workload key>|<rule id>" for each expected violation, optionally filtered by rule. */
const expectedPairs = (keep: (ruleId: string) => boolean = () => true) =>
  [...new Set(EXPECTATIONS.flatMap((e) => e.rules.filter(keep).map((id) => `${e.key}|${id}`)))].sort();
const pairsOf = (findings: Finding[]) => [...new Set(findings.map((f) => `${keyOf(f.resource)}|${f.ruleId}`))].sort();

// ---- the full run, shared by most tests ----

let full: { run: Run; report: Report };

test.before("dist/ is built and not older than src/", async () => {
  // (A source file with no compiled twin yet is left to the CLI: if it imports one, it fails loudly.)
  const rebuild = "run `npx tsc -p tsconfig.json` (npm test does) before these tests";
  if (!existsSync(path.join(ROOT, "dist/cli/main.js"))) throw new Error(`dist/ is not built: ${rebuild}`);
  const src = path.join(ROOT, "src");
  for (const entry of readdirSync(src, { recursive: true }) as string[]) {
    if (!entry.endsWith(".ts") || entry.endsWith(".d.ts")) continue;
    const compiled = path.join(ROOT, "dist", entry.replace(/\.ts$/, ".js"));
    if (existsSync(compiled) && statSync(compiled).mtimeMs < statSync(path.join(src, entry)).mtimeMs) {
      throw new Error(`dist/ is older than src/${entry}: ${rebuild}`);
    }
  }
  const run = await cli(["eval", "-f", MANIFESTS, "--config", CONFIG, "--format", "json"]);
  full = { run, report: report(run) };
});

test("every fixture workload gets exactly the violations its # expect: line names", (t) => {
  const { report: all } = full;
  t.deepEqual(all.workloads.map((w) => keyOf(w.resource)).sort(), [...expected.keys()].sort(), "evaluated workloads = annotated fixtures");
  for (const e of EXPECTATIONS) {
    const actual = [...new Set(all.violations.filter((f) => keyOf(f.resource) === e.key).map((f) => f.ruleId))].sort();
    t.deepEqual(actual, e.rules, `${e.key} (${e.file}:${e.line})`);
  }
  t.deepEqual(all.warnings, [], "strict enforcement leaves no warnings");
  t.deepEqual(all.errors, []);
});

test("each workload is reported at its file and line, and passes exactly when its fixture is named pass.*", (t) => {
  for (const w of full.report.workloads) {
    const e = expected.get(keyOf(w.resource))!;
    t.is(w.source, `${e.file}:${e.line}`);
    t.is(w.passed, path.basename(e.file).startsWith("pass."), e.key);
    t.is(w.passed, e.rules.length === 0, `${e.key}: passes iff nothing is expected`);
  }
});

test("together the fixtures make every rule of CHECKS.md fire", (t) => {
  t.deepEqual([...new Set(full.report.violations.map((f) => f.ruleId))].sort(), [...CHECKS.keys()].sort());
});

test("strict violations exit 1; the pass fixtures with their context exit 0", async (t) => {
  t.is(full.run.code, 1);
  t.false(full.report.passed);

  const run = await cli(["eval", "-f", ...fixture("pass."), CONTEXT_FILE, "--config", CONFIG, "--format", "json"]);
  t.is(run.code, 0, run.stderr);
  const passing = report(run);
  t.true(passing.passed);
  t.deepEqual(passing.violations, []);
  t.is(passing.summary.workloads, fixture("pass.").flatMap(expectationsOf).length);
  t.true(passing.summary.workloads >= 2);
  // The reference Deployment has every fact it needs: no rule says "not evaluated" either.
  t.deepEqual(passing.notEvaluated.filter((f) => f.resource.name === "storefront"), []);
});

test("--format text prints one PASS or FAIL line per workload, then the skipped documents and the summary", async (t) => {
  const run = await cli(["eval", "-f", MANIFESTS, "--config", CONFIG, "--format", "text"]);
  t.is(run.code, 1);
  const lines = run.stdout.split("\n");
  for (const e of EXPECTATIONS) {
    const [kind, name] = e.key.split(" ") as [string, string];
    const line = lines.find((l) => l.startsWith(`PASS ${kind} ${name} `) || l.startsWith(`FAIL ${kind} ${name} `));
    t.truthy(line, `no PASS/FAIL line for ${e.key}`);
    const count = (findings: Finding[]) => findings.filter((f) => keyOf(f.resource) === e.key).length;
    const notEvaluated = count(full.report.notEvaluated);
    t.is(
      line,
      `${e.rules.length === 0 ? "PASS" : "FAIL"} ${kind} ${name}  (${e.file}:${e.line}): ${count(full.report.violations)} violation(s), 0 warning(s)` +
        (notEvaluated ? `, ${notEvaluated} not evaluated` : ""),
    );
  }
  for (const s of full.report.skipped) t.true(lines.includes(`- ${s.kind} ${s.name} (${s.source}): skipped, ${s.reason}`), `${s.kind} ${s.name}`);
  const passing = EXPECTATIONS.filter((e) => e.rules.length === 0).length;
  t.true(
    lines.includes(`${EXPECTATIONS.length} workload(s) evaluated: ${passing} passed, ${EXPECTATIONS.length - passing} failed, ${full.report.skipped.length} skipped`),
    run.stdout,
  );
  t.true(lines.includes(`violations: ${full.report.violations.length}, warnings: 0, exempt: 0, not evaluated: ${full.report.notEvaluated.length}`));
});

test("-f - reads the manifests from stdin, beside files given with it", async (t) => {
  const [pass] = fixture("pass.hardened-deployment");
  const e = expectationsOf(pass!)[0]!;
  const text = readFileSync(path.join(ROOT, pass!), "utf8");

  const withContext = await cli(["eval", "-f", "-", CONTEXT_FILE, "--config", CONFIG, "--format", "json"], text);
  t.is(withContext.code, 0, withContext.stderr);
  t.deepEqual(report(withContext).workloads.map((w) => [keyOf(w.resource), w.source, w.passed]), [[e.key, `(stdin):${e.line}`, true]]);

  // Alone, the namespace has no NetworkPolicy and no ResourceQuota: offline, what is not given does not exist.
  const alone = await cli(["eval", "-f", "-", "--config", CONFIG, "--format", "json"], text);
  t.is(alone.code, 1);
  t.deepEqual(report(alone).violations.map((f) => f.ruleId).sort(), ["network-policy", "resource-quota"]);
});

test("every JSON finding has ruleId, severity, category, message, resource and autoFixable, as CHECKS.md and the config say", (t) => {
  const findings = [...full.report.violations, ...full.report.notEvaluated];
  t.true(findings.length > 0);
  for (const f of findings) {
    const where = `${f.ruleId} on ${keyOf(f.resource)}`;
    const row = CHECKS.get(f.ruleId);
    t.truthy(row, `${f.ruleId} is not in CHECKS.md`);
    t.is(f.severity, row!.severity, where);
    t.is(f.category, row!.category, where);
    t.is(typeof f.message, "string", where);
    t.true(f.message.length > 0, where);
    t.true(f.message.includes(f.resource.name), `${where}: the message names the workload: ${f.message}`);
    t.deepEqual(Object.keys(f.resource).sort(), ["apiVersion", "kind", "name", "namespace"], where);
    t.true(expected.has(keyOf(f.resource)), where);
    t.is(typeof f.autoFixable, "boolean", where);
  }
  // config.json: global.autoFix true and allowMediumRisk false, so exactly the low-risk fixes apply unattended.
  for (const f of full.report.violations) {
    const where = `${f.ruleId} on ${keyOf(f.resource)}`;
    if (f.fix) t.is<string | null, string | null>(f.fix.risk, CHECKS.get(f.ruleId)!.fixRisk, `${where}: fix risk as in CHECKS.md`);
    if (CHECKS.get(f.ruleId)!.fixRisk === null) t.is(f.fix, null, `${where}: CHECKS.md lists no fix`);
    t.is(f.autoFixable, f.fix?.risk === "low", where);
  }
  t.true(full.report.violations.some((f) => f.autoFixable));
  t.true(full.report.violations.some((f) => f.fix && !f.autoFixable));
});

test(".violations[] | select(.severity == \"critical\") picks the critical violations", (t) => {
  const critical = full.report.violations.filter((f) => f.severity === "critical");
  const criticalRules = new Set([...CHECKS].filter(([, row]) => row.severity === "critical").map(([id]) => id));
  const wanted = expectedPairs((id) => criticalRules.has(id));
  t.deepEqual(pairsOf(critical), wanted);
  t.deepEqual(wanted, ["DaemonSet shop/node-agent|container-runtime-socket", "Deployment shop/checkout|privileged-container"]);
  t.is(full.report.summary.bySeverity.critical, critical.length);
});

test("non-workload documents are listed under skipped with their kind; context facts are not", (t) => {
  t.deepEqual(
    full.report.skipped.map((s) => [s.kind, s.name, s.source]),
    [
      ["ConfigMap", "storefront-settings", `${MANIFESTS}/skip.configmap-and-crd.yaml:2`],
      ["CustomResourceDefinition", "backups.example.com", `${MANIFESTS}/skip.configmap-and-crd.yaml:11`],
    ],
  );
  for (const s of full.report.skipped) t.regex(s.reason, new RegExp(`^${s.kind} is not a workload`));
  t.is(full.report.summary.skipped, 2);
});

test("malformed YAML exits 2 naming the file and the line of the typo, without a stack trace; the valid document is still evaluated", async (t) => {
  const file = `${BAD}/malformed.yaml`;
  // The mis-indented key, not the start of its document (line 16).
  const typo = readFileSync(path.join(ROOT, file), "utf8").split("\n").findIndex((l) => l.startsWith("         imagePullPolicy")) + 1;
  t.is(typo, 27);
  const run = await cli(["eval", "-f", file, "--config", CONFIG, "--format", "json"]);
  t.is(run.code, 2);
  t.true(run.stderr.includes(`  - ${file}:${typo}:1: invalid YAML: `), run.stderr);
  noStackTrace(t, run.stderr);
  const partial = report(run);
  t.deepEqual(partial.workloads.map((w) => keyOf(w.resource)), ["Deployment shop/survivor"]);
  t.deepEqual(partial.errors.map((e) => e.where), [`${file}:${typo}:1`]);
});

test("documents without apiVersion or kind exit 2, each named by file:line", async (t) => {
  const file = `${BAD}/missing-kind.yaml`;
  const lines = readFileSync(path.join(ROOT, file), "utf8").split("\n");
  const starts = lines.flatMap((l, i) => (l === "---" ? [i + 2] : [])); // the line after each separator
  const run = await cli(["eval", "-f", file, "--config", CONFIG]);
  t.is(run.code, 2);
  t.true(run.stderr.includes(`${file}:${starts[0]}: document 2 has no apiVersion and no kind`), run.stderr);
  t.true(run.stderr.includes(`${file}:${starts[1]}: document 3 has no kind`), run.stderr);
  t.true(run.stderr.includes("2 document(s) could not be evaluated"), run.stderr);
  noStackTrace(t, run.stderr);
});

test("an invalid configuration exits 2 and lists every problem with its JSON path", async (t) => {
  const run = await cli(["eval", "-f", MANIFESTS, "--config", `${BAD}/invalid-config.json`]);
  t.is(run.code, 2);
  t.is(run.stdout, "", "nothing is evaluated under an invalid configuration");
  const problems = [
    `/: unknown field "reporting"`,
    `/global/enforcement: must be one of "strict", "advisory", "disabled"`,
    `/global/autoFix: must be boolean`,
    `/categories/security: unknown field "enforce"`,
    `/settings/minReplicas: must be integer`,
    `/exemptions/0: must have required property 'reason'`,
  ];
  t.true(run.stderr.includes(`invalid policy configuration ${BAD}/invalid-config.json: ${problems.length} problem(s)`), run.stderr);
  for (const p of problems) t.true(run.stderr.includes(`  - ${p}\n`), `missing "${p}" in:\n${run.stderr}`);
  noStackTrace(t, run.stderr);
});

test("a path that does not exist exits 2 with a message naming it", async (t) => {
  const missing = "test/fixtures/eval/no-such-manifests.yaml";
  const run = await cli(["eval", "-f", missing, "--config", CONFIG]);
  t.is(run.code, 2);
  t.true(run.stderr.includes(`${missing}: cannot read: no such file or directory (ENOENT)`), run.stderr);
  noStackTrace(t, run.stderr);
});

test("development.json (advisory, compliance disabled) turns violations into warnings and exits 0", async (t) => {
  const run = await cli(["eval", "-f", MANIFESTS, "--config", "config/policies/development.json", "--format", "json"]);
  t.is(run.code, 0, run.stderr);
  const advisory = report(run);
  t.true(advisory.passed);
  t.deepEqual(advisory.violations, []);
  // Every strict violation becomes a warning, except those of the disabled compliance category and of
  // the production-only rules (development.json's environment is development).
  const productionOnly = new Set([...CHECKS].filter(([, row]) => row.firesWhen.includes("production config")).map(([id]) => id));
  t.deepEqual([...productionOnly].sort(), ["priority-class", "qos-guaranteed"]);
  const wanted = expectedPairs((id) => CHECKS.get(id)!.category !== "compliance" && !productionOnly.has(id));
  t.deepEqual(pairsOf(advisory.warnings), wanted);
  t.true(advisory.warnings.some((f) => f.ruleId === "privileged-container"));
  const all = [...advisory.warnings, ...advisory.notEvaluated, ...advisory.exempt];
  t.deepEqual(all.filter((f) => f.category === "compliance"), []);
});
