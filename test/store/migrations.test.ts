// Covers migrate() in src/store/db.ts: migrations apply in order and once, and the ways a database and
// a build can disagree are refused with a message that says what to do, before anything is applied:
// two files with one number (a stale file left in dist/), a database migrated by a build whose
// migration N was another one, a database newer than the program. Real SQLite files.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import test from "ava";
import Database from "better-sqlite3";
import { loadMigrations, migrate, openDatabase, StoreError } from "../../src/store/db.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "kube-policy-migrations-"));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => path.join(dir, `db-${n++}.db`);
const versions = (db: Database.Database) => (db.prepare("SELECT version, name FROM schema_migrations ORDER BY version").all() as { version: number; name: string }[]);

test("the shipped migrations have distinct numbers and apply once", (t) => {
  const shipped = loadMigrations();
  t.true(shipped.length >= 7);
  t.is(new Set(shipped.map((m) => m.version)).size, shipped.length);
  const f = file();
  openDatabase(f).close();
  const db = openDatabase(f); // a second open applies nothing twice
  t.deepEqual(versions(db).map((r) => r.version), shipped.map((m) => m.version));
  db.close();
});

test("two migration files with one number are refused before anything is applied", (t) => {
  const folder = path.join(dir, "dup");
  mkdirSync(folder);
  writeFileSync(path.join(folder, "000-base.sql"), "CREATE TABLE a (x INTEGER);");
  writeFileSync(path.join(folder, "001-one.sql"), "CREATE TABLE b (x INTEGER);");
  writeFileSync(path.join(folder, "001-other.sql"), "CREATE TABLE c (x INTEGER);");
  const db = new Database(file());
  const error = t.throws(() => migrate(db, loadMigrations(folder)), { instanceOf: StoreError });
  t.is(error.message, "two migrations are numbered 001: one and other (a stale file left in the migrations folder? rebuild with npm run build)");
  t.deepEqual(versions(db), [], "nothing applied");
  db.close();
});

test("a database whose migration N is another one than this build's is refused, untouched", (t) => {
  const db = new Database(file());
  migrate(db, [
    { version: 0, name: "base", sql: "CREATE TABLE a (x INTEGER);" },
    { version: 1, name: "audit-prune", sql: "CREATE TABLE b (x INTEGER);" },
  ]);
  const error = t.throws(
    () =>
      migrate(db, [
        { version: 0, name: "base", sql: "CREATE TABLE a (x INTEGER);" },
        { version: 1, name: "notification-history", sql: "CREATE TABLE c (x INTEGER);" },
        { version: 2, name: "later", sql: "CREATE TABLE d (x INTEGER);" },
      ]),
    { instanceOf: StoreError },
  );
  t.is(error.message, 'the database\'s migration 001 is "audit-prune", but this program\'s is "notification-history": it was created by another build of kube-policy-mcp; use a new database file or that build');
  t.deepEqual(versions(db).map((r) => r.name), ["base", "audit-prune"]);
  t.is((db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'd'").get() as { n: number }).n, 0, "later migrations not applied");
  db.close();
});

test("a database newer than the program is refused", (t) => {
  const db = new Database(file());
  migrate(db, [
    { version: 0, name: "base", sql: "CREATE TABLE a (x INTEGER);" },
    { version: 1, name: "next", sql: "CREATE TABLE b (x INTEGER);" },
  ]);
  const error = t.throws(() => migrate(db, [{ version: 0, name: "base", sql: "CREATE TABLE a (x INTEGER);" }]), { instanceOf: StoreError });
  t.regex(error.message, /schema is at version 1, newer than this program knows \(0\)/);
  db.close();
});
