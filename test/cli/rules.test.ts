// Covers `kube-policy rules`, run as a subprocess: the catalogue it lists is the one of
// /work/shared/CHECKS.md (every id, with its category, severity and fix risk), --category filters it,
// a configuration's view shows through (development.json disables compliance), and a bad category is
// refused with exit 2.
// Real components: the compiled CLI (bin/kube-policy.js runs dist/, which `npm test` builds with tsc
// before ava), the committed wasm/catalogue.json, config/policies/development.json. CHECKS.md is read
// from the shared/ folder beside the clone, as CI lays it out.
import test from "ava";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runCli, type CliRun as Run } from "../helpers/cli.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CHECKS_MD = path.resolve(ROOT, "../shared/CHECKS.md");
const CATEGORIES = ["security", "compliance", "performance", "cost", "operations"];

const cli = (args: string[]): Promise<Run> =>
  runCli(args);

interface RuleView {
  id: string;
  category: string;
  severity: string;
  fixRisk: string | null;
  enabled: boolean;
  enforcement: string;
}

async function rules(args: string[]): Promise<RuleView[]> {
  const run = await cli(["rules", "--format", "json", ...args]);
  if (run.code !== 0) throw new Error(`rules ${args.join(" ")} exited ${run.code}: ${run.stderr}`);
  return (JSON.parse(run.stdout) as { rules: RuleView[] }).rules;
}

interface CheckRow {
  id: string;
  category: string;
  severity: string;
  /** Risk of the automatic fix, null for "—". */
  fixRisk: string | null;
}

/** Rows `| id | fires when | severity | fix (risk) |` under `## <category>` headings. */
function parseChecks(markdown: string): CheckRow[] {
  const rows: CheckRow[] = [];
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
    rows.push({ id: cells[0]!, category, severity: cells[2]!, fixRisk: /\((low|medium|high)\)$/.exec(cells[3]!)?.[1] ?? null });
  }
  return rows;
}

const CHECKS = parseChecks(readFileSync(CHECKS_MD, "utf8"));
const byId = <T extends { id: string }>(list: T[]) => [...list].sort((a, b) => a.id.localeCompare(b.id));

test("CHECKS.md parses into the five categories", (t) => {
  t.deepEqual([...new Set(CHECKS.map((r) => r.category))], CATEGORIES);
  t.is(new Set(CHECKS.map((r) => r.id)).size, CHECKS.length, "ids are unique");
  t.true(CHECKS.length >= 50);
});

test("rules --format json lists every rule of CHECKS.md with its category, severity and fix risk", async (t) => {
  const listed = await rules([]);
  t.deepEqual(
    byId(listed).map(({ id, category, severity, fixRisk }) => ({ id, category, severity, fixRisk })),
    byId(CHECKS),
  );
  // No configuration: everything enabled and strict.
  t.deepEqual(listed.filter((r) => !r.enabled || r.enforcement !== "strict").map((r) => r.id), []);
});

test("--category cost lists the cost rules only", async (t) => {
  const listed = await rules(["--category", "cost"]);
  t.deepEqual(listed.map((r) => r.id).sort(), CHECKS.filter((r) => r.category === "cost").map((r) => r.id).sort());
  t.true(listed.length > 0);
});

test("with development.json the compliance rules show enabled false, the others advisory", async (t) => {
  const listed = await rules(["--config", "config/policies/development.json"]);
  t.is(listed.length, CHECKS.length);
  for (const rule of listed) {
    const compliance = rule.category === "compliance";
    t.is(rule.enabled, !compliance, rule.id);
    t.is(rule.enforcement, compliance ? "disabled" : "advisory", rule.id);
  }
  t.true(listed.some((r) => r.category === "compliance"));

  // The text table says the same in its last line.
  const run = await cli(["rules", "--config", "config/policies/development.json"]);
  t.is(run.code, 0, run.stderr);
  const enabled = CHECKS.filter((r) => r.category !== "compliance").length;
  t.true(run.stdout.endsWith(`\n${CHECKS.length} rule(s), ${enabled} enabled\n`), run.stdout);
});

test("rules --category nope exits 2 and names the allowed categories", async (t) => {
  const run = await cli(["rules", "--category", "nope"]);
  t.is(run.code, 2);
  t.is(run.stdout, "");
  t.true(run.stderr.includes(`argument 'nope' is invalid. Allowed choices are ${CATEGORIES.join(", ")}.`), run.stderr);
  t.false(run.stderr.includes("    at "), run.stderr);
});
