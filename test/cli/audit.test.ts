// Covers `kube-policy audit export` and `audit prune`, run as subprocesses on a real SQLite file: the export
// holds every entry in id order with the documented columns (JSON Lines and CSV, values with commas,
// quotes and newlines, more entries than one read batch), time filters; a prune without an export that
// holds the entries unchanged is refused and deletes nothing (missing entries, a tampered entry, a
// missing file, no --confirm); with one it deletes exactly the older entries and records itself (who,
// range, count, the export's sha256); ordinary DELETE and UPDATE through SQL are still refused.
// Real components: the CLI from src/ through tsx, better-sqlite3 on temporary files, the migrations.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import test from "ava";
import { EXPORT_COLUMNS } from "../../src/audit/export.js";
import { openDatabase } from "../../src/store/db.js";
import { AuditStore, type AuditRow } from "../../src/store/audit-store.js";
import { fixtureDir } from "../remediation/helpers.js";
import { runCli, type CliRun as Run } from "../helpers/cli.js";

const dir = fixtureDir();
test.after.always(() => dir.remove());

const cli = (args: string[]): Promise<Run> =>
  // KUBE_POLICY_DB: never the user's database, even when --db is lost.
  runCli(args, { from: "src", env: { LOG_LEVEL: "silent", KUBE_POLICY_DB: path.join(dir.dir, "default.db") } });

const DAY = 86_400_000;
const START = Date.parse("2025-01-01T00:00:00.000Z");

/** `n` entries, one a day from 2025-01-01 (1,200 is more than one read batch of 500). */
function seed(name: string, n = 1200): string {
  const file = path.join(dir.dir, name);
  const db = openDatabase(file);
  const store = new AuditStore(db);
  for (let i = 0; i < n; i++) {
    store.append({
      time: new Date(START + i * DAY).toISOString(),
      actor: i % 3 === 0 ? 'http:ci "prod", eu' : "mcp-stdio:claude-ai",
      action: i % 2 === 0 ? "fix_workload" : "evaluate_workload",
      namespace: i % 4 === 0 ? null : `ns-${i % 5}`,
      resource: i % 4 === 0 ? null : `Deployment/web-${i}`,
      ruleIds: i % 2 === 0 ? ["run-as-non-root", "cpu-limits"] : [],
      outcome: i % 7 === 0 ? "error:forbidden" : "ok",
      details: { args: { namespace: `ns-${i % 5}` }, note: `line one\nline "two", ${i}`, durationMs: i },
    });
  }
  db.close();
  return file;
}

function rows(file: string): AuditRow[] {
  const db = openDatabase(file);
  const all = [...new AuditStore(db).rows()];
  db.close();
  return all;
}

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

/** A minimal RFC 4180 reader for the assertions (independent of the product's). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") record.push(field), (field = "");
    else if (ch === "\r" && text[i + 1] === "\n") {
      record.push(field);
      records.push(record);
      (record = []), (field = ""), i++;
    } else field += ch;
  }
  return records;
}

test("export: every entry in id order with the documented columns, as JSON Lines and CSV", async (t) => {
  const db = seed("export.db");
  const stored = rows(db);
  t.is(stored.length, 1200);

  const jsonl = await cli(["audit", "export", "--db", db]);
  t.is(jsonl.code, 0, jsonl.stderr);
  const lines = jsonl.stdout.trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  t.deepEqual(Object.keys(lines[0]!), [...EXPORT_COLUMNS]);
  t.deepEqual(
    lines,
    stored.map((r) => ({ ...r, rule_ids: JSON.parse(r.rule_ids) as unknown, details: JSON.parse(r.details) as unknown })),
  );
  t.regex(jsonl.stderr, /exported 1200 audit entries \(ids 1-1200\) as jsonl; sha256 [0-9a-f]{64}/);

  const csvFile = path.join(dir.dir, "export.csv");
  const csv = await cli(["audit", "export", "--db", db, "--format", "csv", "--output", csvFile]);
  t.is(csv.code, 0, csv.stderr);
  t.is(csv.stdout, "");
  const [header, ...records] = parseCsv(readFileSync(csvFile, "utf8"));
  t.deepEqual(header, ["id", "time", "actor", "action", "namespace", "resource", "rule_ids", "outcome", "details"]);
  t.is(records.length, 1201, "the entries, and the first export's own record appended after them");
  t.deepEqual(records[1200]!.slice(1, 4), [records[1200]![1]!, `cli:${os.userInfo().username}`, "audit_export"]);
  t.deepEqual(
    records.slice(0, 1200),
    stored.map((r) => [String(r.id), r.time, r.actor, r.action, r.namespace ?? "", r.resource ?? "", r.rule_ids, r.outcome, r.details]),
  );

  // Time filters are inclusive; a bare --until date means the end of that day.
  const ranged = await cli(["audit", "export", "--db", db, "--since", "2025-01-03", "--until", "2025-01-05"]);
  t.deepEqual(
    ranged.stdout.trimEnd().split("\n").map((l) => (JSON.parse(l) as { id: number }).id),
    [3, 4, 5],
  );

  // Each export is itself recorded (who read the evidence), after the entries it exported.
  const after = rows(db).slice(1200);
  t.deepEqual(after.map((r) => [r.actor, r.action]), [
    [`cli:${os.userInfo().username}`, "audit_export"],
    [`cli:${os.userInfo().username}`, "audit_export"],
    [`cli:${os.userInfo().username}`, "audit_export"],
  ]);
  t.is((JSON.parse(after[1]!.details) as { sha256: string }).sha256, sha256(csvFile));

  const bad = await cli(["audit", "export", "--db", db, "--since", "yesterday"]);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--since: "yesterday" is not an ISO 8601 date or date-time/);
});

test("prune is refused without an export holding every older entry unchanged, and deletes nothing", async (t) => {
  const db = seed("refused.db", 30);
  const before = "2025-01-21"; // entries 1-20 are older
  const partial = path.join(dir.dir, "partial.jsonl");
  t.is((await cli(["audit", "export", "--db", db, "--until", "2025-01-19", "--output", partial])).code, 0);
  const short = await cli(["audit", "prune", "--db", db, "--before", before, "--exported-to", partial, "--confirm"]);
  t.is(short.code, 1, short.stderr);
  t.regex(short.stderr, /refused: .*partial\.jsonl does not hold every audit entry older than 2025-01-21T00:00:00\.000Z.*nothing was deleted/);
  t.regex(short.stderr, /- entry 20 \(2025-01-20T00:00:00\.000Z\) is not in the export \(the export ends at entry 19\)/);

  // A complete export with one entry altered (its outcome) does not count.
  const full = path.join(dir.dir, "full.jsonl");
  t.is((await cli(["audit", "export", "--db", db, "--output", full])).code, 0);
  const tampered = path.join(dir.dir, "tampered.jsonl");
  const lines = readFileSync(full, "utf8").split("\n");
  t.regex(lines[7]!, /^\{"id":8,.*"outcome":"error:forbidden",/);
  lines[7] = lines[7]!.replace('"outcome":"error:forbidden"', '"outcome":"ok"');
  writeFileSync(tampered, lines.join("\n"));
  const altered = await cli(["audit", "prune", "--db", db, "--before", before, "--exported-to", tampered, "--confirm"]);
  t.is(altered.code, 1, altered.stderr);
  t.regex(altered.stderr, /line 8: entry 8 differs from the log in outcome/);

  const missing = await cli(["audit", "prune", "--db", db, "--before", before, "--exported-to", path.join(dir.dir, "nope.jsonl"), "--confirm"]);
  t.is(missing.code, 2);
  t.regex(missing.stderr, /--exported-to: .*nope\.jsonl does not exist or is not a file/);
  const future = await cli(["audit", "prune", "--db", db, "--before", "2999-01-01", "--exported-to", full, "--confirm"]);
  t.is(future.code, 2);
  t.regex(future.stderr, /--before: 2999-01-01 is in the future/);
  const unconfirmed = await cli(["audit", "prune", "--db", db, "--before", before, "--exported-to", full]);
  t.is(unconfirmed.code, 0, unconfirmed.stderr);
  t.regex(unconfirmed.stdout, /^Would delete 20 audit entries older than 2025-01-21T00:00:00\.000Z: entries 1-20 .*Nothing was deleted: add --confirm\./);

  t.deepEqual(rows(db).slice(0, 30).map((r) => r.id), Array.from({ length: 30 }, (_, i) => i + 1), "nothing was deleted");
  t.false(rows(db).some((r) => r.action === "audit_prune"));
});

test("prune with a matching export deletes exactly the older entries, records itself, and SQL still cannot delete or update", async (t) => {
  const db = seed("prune.db", 40);
  const exportFile = path.join(dir.dir, "prune.csv");
  t.is((await cli(["audit", "export", "--db", db, "--format", "csv", "--until", "2025-01-25", "--output", exportFile])).code, 0);
  const beforeRows = rows(db);

  const run = await cli(["audit", "prune", "--db", db, "--before", "2025-01-21T00:00:00Z", "--exported-to", exportFile, "--confirm"]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /^Deleted 20 audit entries older than 2025-01-21T00:00:00\.000Z: entries 1-20 \(2025-01-01T00:00:00\.000Z to 2025-01-20T00:00:00\.000Z\)\. Recorded as audit entry 42/);

  const afterRows = rows(db);
  t.deepEqual(afterRows.slice(0, -1), beforeRows.filter((r) => r.time >= "2025-01-21"), "exactly the older entries are gone, the others untouched");
  const record = afterRows.at(-1)!;
  t.is(record.action, "audit_prune");
  t.is(record.actor, `cli:${os.userInfo().username}`);
  const details = JSON.parse(record.details) as Record<string, unknown>;
  t.like(details, {
    before: "2025-01-21T00:00:00.000Z",
    deleted: 20,
    firstId: 1,
    lastId: 20,
    oldest: "2025-01-01T00:00:00.000Z",
    newest: "2025-01-20T00:00:00.000Z",
    export: { path: exportFile, format: "csv", sha256: sha256(exportFile), entries: 25 },
  });

  const raw = openDatabase(db);
  t.deepEqual(raw.prepare("SELECT * FROM audit_prune_authorization").all(), [], "the authorization does not outlive the prune");
  t.throws(() => raw.prepare("DELETE FROM audit_log WHERE time < '2025-01-25'").run(), { any: true, message: /audit_log is append-only: rows cannot be deleted/ });
  t.throws(() => raw.prepare("DELETE FROM audit_log").run(), { any: true, message: /audit_log is append-only: rows cannot be deleted/ });
  t.throws(() => raw.prepare("UPDATE audit_log SET outcome = 'ok' WHERE id = 21").run(), { any: true, message: /audit_log is append-only: rows cannot be updated/ });
  t.is((raw.prepare("SELECT COUNT(*) AS n FROM audit_log").get() as { n: number }).n, afterRows.length);
  raw.close();

  // The same export again: the older entries are gone, so there is nothing left to prune.
  const again = await cli(["audit", "prune", "--db", db, "--before", "2025-01-21", "--exported-to", exportFile, "--confirm"]);
  t.is(again.code, 0, again.stderr);
  t.regex(again.stdout, /No audit entry is older than 2025-01-21T00:00:00\.000Z: nothing to prune/);
});
