// The SQLite store (better-sqlite3 on a real file, WAL): opening, versioned migrations, transactions.
// store/ owns the schema; the rest of the code calls the repository modules beside this file and never
// writes SQL itself. Migrations are the numbered .sql files in store/migrations, applied in order, once.
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { AppError } from "../errors.js";

export class StoreError extends AppError {
  static override code = "store_error";
  static override status = 500;
}

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "migrations");

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The migrations shipped with the code: store/migrations/NNN-name.sql (copied beside dist/ by the build). */
export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{3}-[\w-]+\.sql$/.test(f))
    .sort()
    .map((file) => ({ version: Number(file.slice(0, 3)), name: file.slice(4, -4), sql: readFileSync(path.join(dir, file), "utf8") }));
}

export type Db = Database.Database;

/** Opens (creating if needed) the database file and brings its schema up to date. */
export function openDatabase(file: string, options: { migrations?: Migration[] } = {}): Db {
  let db: Db;
  try {
    if (file !== ":memory:") mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    db = new Database(file);
  } catch (error) {
    throw new StoreError(`cannot open the database ${file}: ${(error as Error).message}`, { cause: error });
  }
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  migrate(db, options.migrations ?? loadMigrations());
  return db;
}

export function migrate(db: Db, migrations: Migration[]): void {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
  const byVersion = new Map<number, Migration>();
  for (const migration of migrations) {
    const other = byVersion.get(migration.version);
    if (other) {
      throw new StoreError(
        `two migrations are numbered ${String(migration.version).padStart(3, "0")}: ${other.name} and ${migration.name} (a stale file left in the migrations folder? rebuild with npm run build)`,
      );
    }
    byVersion.set(migration.version, migration);
  }
  const rows = db.prepare("SELECT version, name FROM schema_migrations").all() as { version: number; name: string }[];
  // A database migrated by another build (a migration renumbered since) must not be taken for this one.
  for (const row of rows) {
    const known = byVersion.get(row.version);
    if (known && known.name !== row.name) {
      throw new StoreError(
        `the database's migration ${String(row.version).padStart(3, "0")} is "${row.name}", but this program's is "${known.name}": it was created by another build of kube-policy-mcp; use a new database file or that build`,
      );
    }
  }
  const applied = new Set(rows.map((r) => r.version));
  const newest = Math.max(0, ...applied);
  const known = Math.max(0, ...migrations.map((m) => m.version));
  if (newest > known) {
    throw new StoreError(`the database schema is at version ${newest}, newer than this program knows (${known}): upgrade kube-policy-mcp`);
  }
  for (const migration of migrations) {
    if (applied.has(migration.version)) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(migration.version, migration.name, new Date().toISOString());
    })();
  }
}
