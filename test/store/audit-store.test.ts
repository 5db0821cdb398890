// Covers src/store/audit-store.ts and migration 003: entries are appended and queried by time range,
// namespace, actor and tool, newest first; the table refuses UPDATE and DELETE (its triggers), even
// through raw SQL. Real components: SQLite (better-sqlite3) on a temporary file with every migration.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import test from "ava";
import { AuditStore, type AuditEntry } from "../../src/store/audit-store.js";
import { openDatabase, type Db } from "../../src/store/db.js";

const dir = mkdtempSync(path.join(tmpdir(), "kube-policy-audit-"));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function freshDb(): Db {
  return openDatabase(path.join(dir, `audit-${counter++}.db`));
}

const entry = (time: string, actor: string, namespace: string | null, action = "evaluate_deployment_policies"): AuditEntry => ({
  time,
  actor,
  action,
  namespace,
  resource: namespace ? "Deployment/web" : null,
  ruleIds: ["privileged-container"],
  outcome: "fail",
  details: { args: { namespace } },
});

test("entries come back newest first, filtered by time range, namespace, actor and tool", (t) => {
  const db = freshDb();
  const store = new AuditStore(db);
  store.append(entry("2026-01-01T10:00:00.000Z", "http:ci", "shop"));
  store.append(entry("2026-01-02T10:00:00.000Z", "mcp-stdio:claude", "shop", "auto_fix_policy_violations"));
  store.append(entry("2026-01-03T10:00:00.000Z", "http:ci", "payments"));
  store.append(entry("2026-01-04T10:00:00.000Z", "http:ci", null, "generate_compliance_report"));

  const times = (rows: { time: string }[]) => rows.map((r) => r.time.slice(0, 10));
  t.deepEqual(times(store.query()), ["2026-01-04", "2026-01-03", "2026-01-02", "2026-01-01"]);
  t.deepEqual(times(store.query({ since: "2026-01-02T10:00:00.000Z", until: "2026-01-03T10:00:00.000Z" })), ["2026-01-03", "2026-01-02"], "bounds are inclusive");
  t.deepEqual(times(store.query({ namespace: "shop" })), ["2026-01-02", "2026-01-01"]);
  t.deepEqual(times(store.query({ actor: "http:ci", namespace: "shop" })), ["2026-01-01"]);
  t.deepEqual(times(store.query({ action: "auto_fix_policy_violations" })), ["2026-01-02"]);
  t.deepEqual(times(store.query({ limit: 1 })), ["2026-01-04"]);
  const [first] = store.query({ until: "2026-01-01T23:59:59.999Z" });
  t.deepEqual({ ...first, id: 0 }, { ...entry("2026-01-01T10:00:00.000Z", "http:ci", "shop"), id: 0 }, "every field round-trips");
  db.close();
});

test("the audit table is append-only: UPDATE and DELETE are refused by its triggers", (t) => {
  const db = freshDb();
  const store = new AuditStore(db);
  const id = store.append(entry("2026-01-01T10:00:00.000Z", "http:ci", "shop"));
  t.throws(() => db.prepare("UPDATE audit_log SET outcome = 'pass' WHERE id = ?").run(id), { any: true, message: "audit_log is append-only: rows cannot be updated" });
  t.throws(() => db.prepare("DELETE FROM audit_log WHERE id = ?").run(id), { any: true, message: "audit_log is append-only: rows cannot be deleted" });
  t.throws(() => db.exec("DELETE FROM audit_log"), { any: true, message: "audit_log is append-only: rows cannot be deleted" });
  t.is(store.query()[0]?.outcome, "fail", "the row is unchanged");
  t.is(store.query().length, 1);
  db.close();
});

test("the schema is at migration 003 with the remediation tables of 002", (t) => {
  const db = freshDb();
  const versions = (db.prepare("SELECT version FROM schema_migrations ORDER BY version").all() as { version: number }[]).map((r) => r.version);
  t.true(versions.includes(2) && versions.includes(3), JSON.stringify(versions));
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name);
  for (const table of ["audit_log", "fix_pending", "fix_changes"]) t.true(tables.includes(table), table);
  db.close();
});
