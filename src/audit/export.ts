// Export of the audit log for auditors (JSON Lines or CSV, stable columns, append order, streamed in
// batches) and the check a prune relies on: every entry it would delete is in the export file, unchanged.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import type { Writable } from "node:stream";
import { AuditStore, type AuditMatch, type AuditRow } from "../store/audit-store.js";

export type ExportFormat = "jsonl" | "csv";

/** The columns, in this order, of every export (the CSV header; the keys of each JSON line). */
export const EXPORT_COLUMNS = ["id", "time", "actor", "action", "namespace", "resource", "rule_ids", "outcome", "details"] as const;

export interface ExportSummary {
  format: ExportFormat;
  entries: number;
  firstId: number | null;
  lastId: number | null;
  /** The newest entry included: ids above it were appended after the export started. */
  snapshotId: number;
  bytes: number;
  sha256: string;
}

function csvField(value: string | number | null): string {
  if (value === null) return "";
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One entry as a line of the export, newline included. */
export function exportLine(row: AuditRow, format: ExportFormat): string {
  if (format === "csv") {
    return `${[row.id, row.time, row.actor, row.action, row.namespace, row.resource, row.rule_ids, row.outcome, row.details].map(csvField).join(",")}\r\n`;
  }
  return `${JSON.stringify({
    id: row.id,
    time: row.time,
    actor: row.actor,
    action: row.action,
    namespace: row.namespace,
    resource: row.resource,
    rule_ids: JSON.parse(row.rule_ids) as unknown,
    outcome: row.outcome,
    details: JSON.parse(row.details) as unknown,
  })}\n`;
}

function write(out: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    out.once("error", onError);
    const flushed = out.write(text, (error) => {
      if (error) reject(error);
    });
    const done = () => {
      out.off("error", onError);
      resolve();
    };
    if (flushed) done();
    else out.once("drain", done);
  });
}

/**
 * Streams the entries (time filters inclusive) to `out`, in append order, waiting for the stream to drain.
 * `match` narrows them as the dashboard's filters do; `include` leaves out rows it refuses (namespace isolation).
 */
export async function writeExport(
  store: AuditStore,
  filter: { since?: string; until?: string; format: ExportFormat; match?: AuditMatch; include?: (row: AuditRow) => boolean },
  out: Writable,
): Promise<ExportSummary> {
  const hash = createHash("sha256");
  const snapshotId = store.maxId();
  const summary: ExportSummary = { format: filter.format, entries: 0, firstId: null, lastId: null, snapshotId, bytes: 0, sha256: "" };
  let chunk = "";
  const flush = async () => {
    if (chunk === "") return;
    hash.update(chunk);
    summary.bytes += Buffer.byteLength(chunk);
    await write(out, chunk);
    chunk = "";
  };
  if (filter.format === "csv") chunk = `${EXPORT_COLUMNS.join(",")}\r\n`;
  for (const row of store.rows({ since: filter.since, until: filter.until, upToId: snapshotId, match: filter.match })) {
    if (filter.include && !filter.include(row)) continue;
    chunk += exportLine(row, filter.format);
    summary.entries++;
    summary.firstId ??= row.id;
    summary.lastId = row.id;
    if (chunk.length > 64 * 1024) await flush();
  }
  await flush();
  summary.sha256 = hash.digest("hex");
  return summary;
}

/** One entry of an export file, in the stored form (null namespace / resource; JSON texts normalised). */
interface ExportedEntry {
  line: number;
  id: number;
  fields: (string | null)[];
}

/** A row's comparable fields in the file's representation (CSV cannot tell null from ""). */
function comparable(row: AuditRow, format: ExportFormat): (string | null)[] {
  const nullable = (v: string | null) => (format === "csv" ? (v ?? "") : v);
  return [row.time, row.actor, row.action, nullable(row.namespace), nullable(row.resource), JSON.stringify(JSON.parse(row.rule_ids)), row.outcome, JSON.stringify(JSON.parse(row.details))];
}

/** Parses CSV records across chunk boundaries (RFC 4180: quoted fields may hold commas, quotes, newlines). */
async function* csvRecords(chunks: AsyncIterable<string>): AsyncGenerator<{ line: number; fields: string[] }> {
  let field = "";
  let fields: string[] = [];
  let quoted = false;
  let afterQuote = false;
  let line = 1;
  let recordLine = 1;
  let pendingCr = false;
  for await (const chunk of chunks) {
    for (const ch of chunk) {
      if (quoted) {
        if (ch === '"') {
          quoted = false;
          afterQuote = true;
        } else {
          if (ch === "\n") line++;
          field += ch;
        }
        continue;
      }
      if (ch === '"') {
        if (afterQuote) field += '"';
        quoted = true;
        afterQuote = false;
        continue;
      }
      afterQuote = false;
      if (ch === "\r") {
        pendingCr = true;
        continue;
      }
      if (pendingCr && ch !== "\n") field += "\r";
      pendingCr = false;
      if (ch === ",") {
        fields.push(field);
        field = "";
      } else if (ch === "\n") {
        fields.push(field);
        yield { line: recordLine, fields };
        fields = [];
        field = "";
        line++;
        recordLine = line;
      } else field += ch;
    }
  }
  if (field !== "" || fields.length > 0) {
    fields.push(field);
    yield { line: recordLine, fields };
  }
}

async function* jsonlLines(chunks: AsyncIterable<string>): AsyncGenerator<{ line: number; text: string }> {
  let rest = "";
  let line = 0;
  for await (const chunk of chunks) {
    rest += chunk;
    let at: number;
    while ((at = rest.indexOf("\n")) >= 0) {
      line++;
      yield { line, text: rest.slice(0, at) };
      rest = rest.slice(at + 1);
    }
  }
  if (rest.trim() !== "") yield { line: line + 1, text: rest };
}

export class ExportFileError extends Error {}

/** The entries of an export file, streamed, and (once read to the end) the file's sha256 and size. */
export function readExport(file: string): { format: Promise<ExportFormat>; entries: AsyncGenerator<ExportedEntry>; digest: () => { sha256: string; bytes: number } } {
  const hash = createHash("sha256");
  let bytes = 0;
  async function* chunks(): AsyncGenerator<string> {
    const stream = createReadStream(file);
    const decoder = new TextDecoder("utf-8", { fatal: true });
    for await (const buffer of stream as AsyncIterable<Buffer>) {
      hash.update(buffer);
      bytes += buffer.length;
      yield decoder.decode(buffer, { stream: true });
    }
    const tail = decoder.decode();
    if (tail) yield tail;
  }
  let resolveFormat!: (f: ExportFormat) => void;
  const format = new Promise<ExportFormat>((resolve) => (resolveFormat = resolve));
  async function* entries(): AsyncGenerator<ExportedEntry> {
    // The format is told by the first bytes: the CSV header, or a JSON object.
    const source = chunks();
    const first = await source.next();
    const head = first.done ? "" : first.value;
    async function* all(): AsyncGenerator<string> {
      if (head) yield head;
      yield* source;
    }
    if (head.startsWith(EXPORT_COLUMNS.join(","))) {
      resolveFormat("csv");
      let header = true;
      for await (const record of csvRecords(all())) {
        if (header) {
          header = false;
          if (record.fields.join(",") !== EXPORT_COLUMNS.join(",")) throw new ExportFileError(`line ${record.line}: the CSV header is not ${EXPORT_COLUMNS.join(",")}`);
          continue;
        }
        if (record.fields.length !== EXPORT_COLUMNS.length) throw new ExportFileError(`line ${record.line}: ${record.fields.length} fields, expected ${EXPORT_COLUMNS.length}`);
        const [id, time, actor, action, namespace, resource, ruleIds, outcome, details] = record.fields as string[];
        yield { line: record.line, id: parseId(id!, record.line), fields: [time!, actor!, action!, namespace!, resource!, normaliseJson(ruleIds!, record.line), outcome!, normaliseJson(details!, record.line)] };
      }
      return;
    }
    resolveFormat("jsonl");
    for await (const { line, text } of jsonlLines(all())) {
      if (text.trim() === "") continue;
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(text) as Record<string, unknown>;
      } catch {
        throw new ExportFileError(`line ${line}: not JSON (the export is neither JSON Lines nor CSV from kube-policy audit export)`);
      }
      const text_ = (v: unknown) => (typeof v === "string" ? v : null);
      yield {
        line,
        id: parseId(o.id, line),
        fields: [text_(o.time), text_(o.actor), text_(o.action), text_(o.namespace), text_(o.resource), JSON.stringify(o.rule_ids), text_(o.outcome), JSON.stringify(o.details)],
      };
    }
  }
  return { format, entries: entries(), digest: () => ({ sha256: hash.digest("hex"), bytes }) };
}

function parseId(value: unknown, line: number): number {
  const id = typeof value === "number" ? value : typeof value === "string" && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(id) || id < 1) throw new ExportFileError(`line ${line}: ${JSON.stringify(value)} is not an entry id`);
  return id;
}

function normaliseJson(text: string, line: number): string {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    throw new ExportFileError(`line ${line}: ${JSON.stringify(text.slice(0, 80))} is not JSON`);
  }
}

export interface ExportCheck {
  /** Entries older than the date, up to the snapshot id, each found unchanged in the file. */
  verified: number;
  snapshotId: number;
  firstId: number | null;
  lastId: number | null;
  oldest: string | null;
  newest: string | null;
  format: ExportFormat;
  sha256: string;
  bytes: number;
  fileEntries: number;
  /** Why the file does not cover them; empty when it does. */
  problems: string[];
}

/**
 * Does `file` hold every entry older than `before` exactly as stored? A merge of the log (in id order,
 * in batches) with the file (streamed), so neither is loaded whole. The file may hold more (newer entries).
 */
export async function checkExport(store: AuditStore, before: string, file: string): Promise<ExportCheck> {
  const snapshotId = store.maxId();
  const doomed = store.rows({ before, upToId: snapshotId });
  const reader = readExport(file);
  const check: ExportCheck = { verified: 0, snapshotId, firstId: null, lastId: null, oldest: null, newest: null, format: "jsonl", sha256: "", bytes: 0, fileEntries: 0, problems: [] };
  const problem = (text: string) => {
    if (check.problems.length < 10) check.problems.push(text);
  };
  let next = doomed.next();
  let previousId = 0;
  const format = () => reader.format;
  for await (const entry of reader.entries) {
    check.fileEntries++;
    if (entry.id <= previousId) throw new ExportFileError(`line ${entry.line}: entry ${entry.id} comes after entry ${previousId}; an export lists entries in id order`);
    previousId = entry.id;
    while (!next.done && next.value.id < entry.id) {
      problem(`entry ${next.value.id} (${next.value.time}) is not in the export`);
      next = doomed.next();
    }
    if (next.done || next.value.id !== entry.id) continue;
    const row = next.value;
    const expected = comparable(row, await format());
    const differs = EXPORT_COLUMNS.slice(1).filter((_, i) => expected[i] !== entry.fields[i]);
    if (differs.length > 0) problem(`line ${entry.line}: entry ${row.id} differs from the log in ${differs.join(", ")}`);
    else {
      check.verified++;
      check.firstId ??= row.id;
      check.lastId = row.id;
      if (check.oldest === null || row.time < check.oldest) check.oldest = row.time;
      if (check.newest === null || row.time > check.newest) check.newest = row.time;
    }
    next = doomed.next();
  }
  while (!next.done) {
    problem(`entry ${next.value.id} (${next.value.time}) is not in the export${check.fileEntries > 0 ? ` (the export ends at entry ${previousId})` : " (it is empty)"}`);
    next = doomed.next();
  }
  check.format = await format().catch(() => "jsonl" as const);
  Object.assign(check, reader.digest());
  const total = store.countBefore(before, { upToId: snapshotId });
  if (check.problems.length === 0 && check.verified !== total) problem(`${check.verified} of the ${total} entries older than ${before} were found in the export`);
  return check;
}
