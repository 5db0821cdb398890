// The dashboard's audit trail and notification history: their read models (the filters of a GET form,
// checked once, each problem named by its query parameter) and the audit downloads for auditors.
//
// Namespace isolation is query_audit_log's: an entry about a namespace that namespaces.allow/deny hides is
// not shown (entries without a namespace are), and asking for such a namespace is a 403. The downloads
// apply it too: the dashboard is a shared UI, and a download is the page's data in bulk, so it must not
// show more than the page. The complete log (hidden namespaces included) is `kube-policy audit export` on
// the server's host, which needs the database file itself.
//
// Pages read the log newest first in batches by id and stop after one page (limit + 1 entries shown), so the
// log is never loaded whole; the "older" link carries the id to continue below. Downloads stream every
// matching entry through writeExport (src/audit/export.ts), the CLI export's writer, with the same columns,
// and are themselves recorded in the log (action audit_export), as the CLI records its exports.
import type { ServerResponse } from "node:http";
import { Writable } from "node:stream";
import { EXPORT_COLUMNS, writeExport, type ExportFormat, type ExportSummary } from "../../audit/export.js";
import { InvalidInputError, type ErrorDetail } from "../../errors.js";
import { configuredSecrets, notificationHistory, parseHistoryQuery, type HistoryQuery, type HistoryResult } from "../../notify/history.js";
import type { Runtime } from "../../runtime.js";
import { existingScanStore } from "../../scans/scan.js";
import { auditEntryOf, auditStoreFor, type AuditMatch, type AuditRow, type AuditStore, type StoredAuditEntry } from "../../store/audit-store.js";
import { NotificationStore } from "../../store/notification-store.js";
import { namespaceParam, single, type Query } from "./data.js";

export const AUDIT_PAGE_SIZE = 50;
export const AUDIT_MAX_PAGE_SIZE = 500;
export const NOTIFICATIONS_PAGE_SIZE = 50;

/** The audit page's filters as query parameters, in form order. */
export const AUDIT_FILTER_PARAMS = ["since", "until", "actor", "action", "namespace", "resource", "outcome", "rule"] as const;
export type AuditFilterParam = (typeof AUDIT_FILTER_PARAMS)[number];

export interface AuditFilters {
  /** ISO 8601 UTC, inclusive. */
  since?: string;
  until?: string;
  match: AuditMatch;
  limit: number;
  /** The page cursor: entries with an id below this one. */
  before?: number;
  /** The values as given (what the form shows again, and what links keep). */
  form: Partial<Record<AuditFilterParam, string>>;
}

/**
 * An ISO 8601 date or date-time as stored (UTC). A bare date is the start of that day (since) or its end
 * (until), as `kube-policy audit export` reads it; a date-time without an offset is UTC.
 */
function instantParam(value: string, name: "since" | "until", problems: ErrorDetail[]): string | undefined {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const zoneless = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/.test(value);
  const text = dateOnly ? `${value}T${name === "until" ? "23:59:59.999" : "00:00:00.000"}Z` : zoneless ? `${value.replace(" ", "T")}Z` : value;
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) {
    problems.push({ where: `query.${name}`, message: `${JSON.stringify(value)} is not an ISO 8601 date or date-time (2026-01-31, 2026-01-31T12:00:00Z; UTC unless an offset is given)` });
    return undefined;
  }
  return new Date(ms).toISOString();
}

function textParam(query: Query, name: AuditFilterParam, max: number, problems: ErrorDetail[]): string | undefined {
  const value = single(query, name);
  if (value === undefined) return undefined;
  if (value.length > max) {
    problems.push({ where: `query.${name}`, message: `longer than ${max} characters` });
    return undefined;
  }
  return value;
}

/** The audit filters of a request; throws one InvalidInputError naming every bad parameter (403 for a hidden namespace). */
export function parseAuditQuery(runtime: Runtime, query: Query): AuditFilters {
  const problems: ErrorDetail[] = [];
  const form: AuditFilters["form"] = {};
  const sinceText = textParam(query, "since", 64, problems);
  const untilText = textParam(query, "until", 64, problems);
  const since = sinceText === undefined ? undefined : instantParam(sinceText, "since", problems);
  const until = untilText === undefined ? undefined : instantParam(untilText, "until", problems);
  if (since && until && since > until) problems.push({ where: "query.until", message: `${untilText} is before since (${sinceText})` });
  const match: AuditMatch = {};
  const actor = textParam(query, "actor", 253, problems);
  const action = textParam(query, "action", 100, problems);
  const resource = textParam(query, "resource", 400, problems);
  const outcome = textParam(query, "outcome", 100, problems);
  const ruleId = textParam(query, "rule", 200, problems);
  if (actor !== undefined) match.actor = actor;
  if (action !== undefined) match.action = action;
  if (resource !== undefined) match.resource = resource;
  if (outcome !== undefined) match.outcome = outcome;
  if (ruleId !== undefined) match.ruleId = ruleId;
  Object.assign(form, { since: sinceText, until: untilText, actor, action, resource, outcome, rule: ruleId });

  let limit = AUDIT_PAGE_SIZE;
  const limitText = single(query, "limit");
  if (limitText !== undefined) {
    const n = /^\d{1,6}$/.test(limitText) ? Number(limitText) : Number.NaN;
    if (!Number.isInteger(n) || n < 1 || n > AUDIT_MAX_PAGE_SIZE) problems.push({ where: "query.limit", message: `${JSON.stringify(limitText)} is not a whole number from 1 to ${AUDIT_MAX_PAGE_SIZE}` });
    else limit = n;
  }
  let before: number | undefined;
  const beforeText = single(query, "before");
  if (beforeText !== undefined) {
    const n = /^\d{1,15}$/.test(beforeText) ? Number(beforeText) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < 1) problems.push({ where: "query.before", message: `${JSON.stringify(beforeText)} is not an audit entry id (the "older" link's cursor)` });
    else before = n;
  }
  // The namespace last: a malformed one is a 400 with the rest, a hidden one a 403 (as query_audit_log answers).
  if (problems.length > 0) {
    try {
      namespaceParam(runtime, query);
    } catch (error) {
      if (error instanceof InvalidInputError) problems.push(...error.details);
    }
    throw new InvalidInputError(`invalid audit filter${problems.length > 1 ? "s" : ""}: ${[...new Set(problems.map((p) => p.where))].join(", ")}`, { details: problems });
  }
  const namespace = namespaceParam(runtime, query);
  if (namespace !== null) {
    match.namespace = namespace;
    form.namespace = namespace;
  }
  return { since, until, match, limit, before, form };
}

/** Namespace isolation as query_audit_log applies it: entries of hidden namespaces are left out. */
export function auditVisible(runtime: Runtime): (row: AuditRow) => boolean {
  return (row) => row.namespace === null || runtime.namespaceAllowed(row.namespace);
}

/** Whether the configuration hides namespaces at all (the pages say that entries may be left out). */
export function isolates(runtime: Runtime): boolean {
  const ns = runtime.config.namespaces;
  return (ns?.allow?.length ?? 0) > 0 || (ns?.deny?.length ?? 0) > 0;
}

/** The audit store of an existing history database; null when there is none (the dashboard never creates it). */
function existingAuditStore(runtime: Runtime): AuditStore | null {
  const store = existingScanStore(runtime);
  return store ? auditStoreFor(store.db) : null;
}

export interface AuditPage {
  kind: "audit";
  cluster: string;
  /** Whether a history database exists. */
  store: boolean;
  filters: AuditFilters;
  /** Newest first: at most filters.limit. */
  entries: StoredAuditEntry[];
  /** The cursor of the next (older) page; null when this page reaches the oldest match. */
  older: number | null;
  isolated: boolean;
}

export function auditPage(runtime: Runtime, query: Query): AuditPage {
  const filters = parseAuditQuery(runtime, query);
  const store = existingAuditStore(runtime);
  const page: AuditPage = { kind: "audit", cluster: runtime.source.clusterName, store: store !== null, filters, entries: [], older: null, isolated: isolates(runtime) };
  if (!store) return page;
  const visible = auditVisible(runtime);
  const rows = store.rows({ since: filters.since, until: filters.until, belowId: filters.before, descending: true, match: filters.match, batchSize: Math.min(filters.limit + 1, 500) });
  for (const row of rows) {
    if (!visible(row)) continue;
    if (page.entries.length === filters.limit) {
      page.older = page.entries[page.entries.length - 1]!.id;
      break;
    }
    page.entries.push(auditEntryOf(row));
  }
  return page;
}

export const EXPORT_TYPES: Record<ExportFormat, string> = {
  csv: "text/csv; charset=utf-8",
  jsonl: "application/x-ndjson; charset=utf-8",
};

/** kube-policy-audit-2026-01-31T1205Z.csv: the date and time of the download, UTC. */
export function exportFilename(format: ExportFormat, now: number): string {
  const stamp = new Date(now).toISOString().slice(0, 16).replace(":", "");
  return `kube-policy-audit-${stamp}Z.${format}`;
}

/**
 * A Writable onto the HTTP response that waits for each chunk to be handed to the socket (so a slow client
 * slows the reading of the log) and fails the export when the client goes away, instead of waiting forever.
 */
function responseWriter(res: ServerResponse): Writable {
  return new Writable({
    highWaterMark: 64 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      if (res.destroyed || res.writableEnded) return callback(new Error("the client closed the connection"));
      let done = false;
      const finish = (error?: Error | null) => {
        if (done) return;
        done = true;
        res.off("close", onClose);
        callback(error ?? null);
      };
      const onClose = () => finish(new Error("the client closed the connection"));
      res.once("close", onClose);
      res.write(chunk, (error) => finish(error));
    },
  });
}

interface ExportLogger {
  warn(obj: object, msg?: string): void;
}

/**
 * Streams a download (headers already validated: call after parseAuditQuery) to `res`, then records it in
 * the audit log as the CLI records its exports. A failure midway destroys the response, so the client sees
 * a broken download rather than a complete-looking short one.
 */
export async function streamAuditExport(
  runtime: Runtime,
  filters: AuditFilters,
  format: ExportFormat,
  res: ServerResponse,
  who: { actor: string; logger?: ExportLogger },
): Promise<ExportSummary | null> {
  const store = existingAuditStore(runtime);
  const out = responseWriter(res);
  const started = Date.now();
  let summary: ExportSummary | null = null;
  let failure: Error | null = null;
  try {
    if (store) {
      summary = await writeExport(store, { since: filters.since, until: filters.until, format, match: filters.match, include: auditVisible(runtime) }, out);
    } else if (format === "csv") {
      // No database yet: an empty export, with the header the CLI would write.
      res.write(`${EXPORT_COLUMNS.join(",")}\r\n`);
    }
    res.end();
  } catch (error) {
    failure = error as Error;
    who.logger?.warn({ err: failure.message }, "audit download failed");
    res.destroy(failure);
  }
  if (store) {
    const { form } = filters;
    try {
      store.append({
        time: new Date().toISOString(),
        actor: who.actor,
        action: "audit_export",
        namespace: filters.match.namespace ?? null,
        resource: null,
        ruleIds: [],
        outcome: failure ? "error:aborted" : "ok",
        details: {
          since: filters.since ?? null,
          until: filters.until ?? null,
          filters: Object.fromEntries(Object.entries(form).filter(([, v]) => v !== undefined)),
          output: "dashboard download",
          format,
          ...(summary ?? {}),
          ...(failure ? { error: failure.message.slice(0, 500) } : {}),
          namespaceIsolation: isolates(runtime),
          durationMs: Date.now() - started,
          via: { door: "dashboard" },
        },
      });
    } catch (error) {
      who.logger?.warn({ err: (error as Error).message }, "audit log unavailable: the download is not recorded");
    }
  }
  return summary;
}

// ---------------------------------------------------------------------------------------------
// Notification history

/** The notification page's filters as query parameters (list_notification_history's names), in form order. */
export const NOTIFICATION_FILTER_PARAMS = ["channel", "status", "eventType", "kind", "to", "since", "until"] as const;
type NotificationFilterParam = (typeof NOTIFICATION_FILTER_PARAMS)[number];

export interface NotificationsPage {
  kind: "notifications";
  cluster: string;
  store: boolean;
  form: Partial<Record<NotificationFilterParam, string>>;
  limit: number;
  result: HistoryResult;
  isolated: boolean;
  /** Whether any channel is configured (an empty history then means nothing was sent yet). */
  channels: string[];
}

/** A date-time without an offset is UTC here, as on the audit page. */
const utc = (value: string | undefined) => (value !== undefined && /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/.test(value) ? `${value.replace(" ", "T")}Z` : value);

export function notificationsPage(runtime: Runtime, query: Query): NotificationsPage {
  const form: NotificationsPage["form"] = {};
  for (const name of NOTIFICATION_FILTER_PARAMS) form[name] = single(query, name);
  const limitText = single(query, "limit");
  const asked: HistoryQuery = { ...form, since: utc(form.since), until: utc(form.until), limit: limitText ?? NOTIFICATIONS_PAGE_SIZE };
  let filter;
  try {
    filter = parseHistoryQuery(asked);
  } catch (error) {
    // The same checks as list_notification_history; named as this page's query parameters.
    if (error instanceof InvalidInputError) {
      const details = error.details.map((d) => ({ ...d, where: d.where ? `query.${d.where}` : d.where }));
      throw new InvalidInputError(`invalid notification history filter${details.length > 1 ? "s" : ""}: ${details.map((d) => d.where).join(", ")}`, { details });
    }
    throw error;
  }
  const channels = Object.entries(runtime.config.notifications ?? {})
    .filter(([key, value]) => (key === "slack" || key === "email") && value && (value as { enabled?: boolean }).enabled !== false)
    .map(([key]) => key);
  const store = existingScanStore(runtime);
  const page: NotificationsPage = {
    kind: "notifications",
    cluster: runtime.source.clusterName,
    store: store !== null,
    form,
    limit: filter.limit,
    result: { notifications: [], total: 0, more: false },
    isolated: isolates(runtime),
    channels,
  };
  if (!store) return page;
  page.result = notificationHistory(new NotificationStore(store.db), filter, configuredSecrets(runtime.config.notifications), (ns) => runtime.namespaceAllowed(ns));
  return page;
}
