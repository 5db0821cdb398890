// kube-policy audit export | prune: the audit log as evidence (every entry, stable columns, streamed) and
// its retention. Entries leave the log only through prune, only when an export holding each of them
// unchanged is given, and the prune is itself recorded (who, when, range, count, sha256 of the export).
// Exit codes: 0 done (or, without --confirm, the prune would be allowed), 1 refused (the export does not
// cover the entries, the log changed meanwhile, the file cannot be written), 2 bad input.
import { createWriteStream, existsSync, renameSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { Command, Option } from "commander";
import { checkExport, EXPORT_COLUMNS, ExportFileError, writeExport, type ExportFormat } from "../audit/export.js";
import { loadConfig } from "../config/load.js";
import { AppError, ConfigError, InvalidInputError, toAppError } from "../errors.js";
import { defaultDatabasePath } from "../runtime.js";
import { AuditStore } from "../store/audit-store.js";
import { openDatabase, type Db } from "../store/db.js";
import { cliActor, cliVia } from "./actor.js";

interface AuditCommonOptions {
  config?: string;
  db?: string;
}

/** An ISO 8601 date or date-time as stored (UTC); a bare date is the start of that day, or its end for `until`. */
export function parseInstant(value: string, where: string, end = false): string {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const parsed = new Date(dateOnly ? `${value}T${end ? "23:59:59.999" : "00:00:00.000"}Z` : value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(parsed.getTime())) {
    throw new InvalidInputError(`invalid ${where}`, { details: [{ where, message: `${JSON.stringify(value)} is not an ISO 8601 date or date-time (2026-01-31, 2026-01-31T12:00:00Z)` }] });
  }
  return parsed.toISOString();
}

function fail(error: unknown): number {
  const e = error instanceof ExportFileError ? new AppError(`the export file is not usable: ${error.message}`) : toAppError(error);
  process.stderr.write(`kube-policy: ${e.describe()}\n`);
  if (!(error instanceof AppError) && !(error instanceof ExportFileError) && process.env.KUBE_POLICY_DEBUG) console.error(error);
  return e instanceof InvalidInputError || e instanceof ConfigError ? 2 : 1;
}

async function withStore(options: AuditCommonOptions, body: (store: AuditStore, db: Db) => Promise<number>): Promise<number> {
  let db: Db | undefined;
  try {
    const file = options.db ?? defaultDatabasePath((await loadConfig(options.config)).config);
    db = openDatabase(file);
    return await body(new AuditStore(db), db);
  } catch (error) {
    return fail(error);
  } finally {
    db?.close();
  }
}

export interface AuditExportOptions extends AuditCommonOptions {
  since?: string;
  until?: string;
  format: ExportFormat;
  output?: string;
}

export async function auditExportCommand(options: AuditExportOptions): Promise<number> {
  return withStore(options, async (store) => {
    const since = options.since === undefined ? undefined : parseInstant(options.since, "--since");
    const until = options.until === undefined ? undefined : parseInstant(options.until, "--until", true);
    if (since && until && since > until) throw new InvalidInputError("invalid --until", { details: [{ where: "--until", message: `${options.until} is before --since ${options.since}` }] });
    let summary;
    if (options.output) {
      // Written beside the target and renamed when complete: a half-written export never looks like one.
      const target = path.resolve(options.output);
      const partial = `${target}.partial`;
      try {
        const out = createWriteStream(partial, { mode: 0o600 });
        summary = await writeExport(store, { since, until, format: options.format }, out);
        await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
        renameSync(partial, target);
      } catch (error) {
        rmSync(partial, { force: true });
        throw new AppError(`cannot write the export to --output ${options.output}: ${(error as Error).message}`, { cause: error });
      }
    } else {
      summary = await writeExport(store, { since, until, format: options.format }, process.stdout);
    }
    // Reading the evidence is itself recorded.
    store.append({
      time: new Date().toISOString(),
      actor: cliActor(),
      action: "audit_export",
      namespace: null,
      resource: null,
      ruleIds: [],
      outcome: "ok",
      details: { since: since ?? null, until: until ?? null, output: options.output ? path.resolve(options.output) : "stdout", ...summary, via: cliVia(undefined) },
    });
    process.stderr.write(
      `kube-policy: exported ${summary.entries} audit entr${summary.entries === 1 ? "y" : "ies"}${summary.firstId !== null ? ` (ids ${summary.firstId}-${summary.lastId})` : ""} as ${options.format}${options.output ? ` to ${options.output}` : ""}; sha256 ${summary.sha256}\n`,
    );
    return 0;
  });
}

export interface AuditPruneOptions extends AuditCommonOptions {
  before: string;
  exportedTo: string;
  confirm?: boolean;
}

export async function auditPruneCommand(options: AuditPruneOptions, now: Date = new Date()): Promise<number> {
  return withStore(options, async (store) => {
    const before = parseInstant(options.before, "--before");
    if (before > now.toISOString()) {
      throw new InvalidInputError("invalid --before", { details: [{ where: "--before", message: `${options.before} is in the future: a prune removes entries older than a past date` }] });
    }
    const file = path.resolve(options.exportedTo);
    if (!existsSync(file) || !statSync(file).isFile()) {
      throw new InvalidInputError("invalid --exported-to", { details: [{ where: "--exported-to", message: `${options.exportedTo} does not exist or is not a file (write one with kube-policy audit export --output)` }] });
    }
    const check = await checkExport(store, before, file);
    if (check.problems.length > 0) {
      process.stderr.write(
        `kube-policy: refused: ${options.exportedTo} does not hold every audit entry older than ${before} as stored, so nothing was deleted. Export them first (kube-policy audit export --until ${before} --output FILE).\n${check.problems.map((p) => `  - ${p}`).join("\n")}\n`,
      );
      return 1;
    }
    const range = check.verified > 0 ? `entries ${check.firstId}-${check.lastId} (${check.oldest} to ${check.newest})` : "no entries";
    if (check.verified === 0) {
      process.stdout.write(`No audit entry is older than ${before}: nothing to prune.\n`);
      return 0;
    }
    if (!options.confirm) {
      process.stdout.write(`Would delete ${check.verified} audit entr${check.verified === 1 ? "y" : "ies"} older than ${before}: ${range}, each found unchanged in ${options.exportedTo} (sha256 ${check.sha256}). Nothing was deleted: add --confirm.\n`);
      return 0;
    }
    const actor = cliActor();
    const { deleted, recordId } = store.prune({ before, maxId: check.snapshotId, expected: check.verified, exportSha256: check.sha256 }, (count) => ({
      time: new Date().toISOString(),
      actor,
      action: "audit_prune",
      namespace: null,
      resource: null,
      ruleIds: [],
      outcome: "ok",
      details: {
        before,
        deleted: count,
        firstId: check.firstId,
        lastId: check.lastId,
        oldest: check.oldest,
        newest: check.newest,
        export: { path: file, format: check.format, sha256: check.sha256, bytes: check.bytes, entries: check.fileEntries },
        via: cliVia(undefined),
      },
    }));
    process.stdout.write(`Deleted ${deleted} audit entr${deleted === 1 ? "y" : "ies"} older than ${before}: ${range}. Recorded as audit entry ${recordId} (export sha256 ${check.sha256}).\n`);
    return 0;
  });
}

export function registerAuditCommands(program: Command, setExitCode: (code: number) => void): void {
  const audit = program.command("audit").description("the append-only audit log: export it for auditors, prune exported entries");
  const common = (command: Command) =>
    command
      .option("-c, --config <file|preset>", "policy configuration file (storage.path)")
      .option("--db <file>", "history database (default: storage.path, $KUBE_POLICY_DB, ~/.local/share/kube-policy-mcp)");
  common(
    audit
      .command("export")
      .description(`every entry (in the time range), oldest first, with the columns ${EXPORT_COLUMNS.join(", ")}`)
      .option("--since <date>", "earliest time, inclusive (ISO 8601 date or date-time)")
      .option("--until <date>", "latest time, inclusive (a bare date means its end)")
      .addOption(new Option("--format <format>", "jsonl (one JSON object a line) or csv (RFC 4180 with a header)").choices(["jsonl", "csv"]).default("jsonl"))
      .option("--output <file>", "write to this file instead of stdout"),
  ).action(async (options: AuditExportOptions) => setExitCode(await auditExportCommand(options)));
  common(
    audit
      .command("prune")
      .description("delete entries older than a date, only when --exported-to holds each of them unchanged; the prune is recorded in the log")
      .requiredOption("--before <date>", "delete entries older than this (ISO 8601; a bare date means its start, UTC)")
      .requiredOption("--exported-to <file>", "the export (kube-policy audit export) that holds those entries")
      .option("--confirm", "delete; without it, only say what would be deleted"),
  ).action(async (options: AuditPruneOptions) => setExitCode(await auditPruneCommand(options)));
}
