// Repository of the audit trail (migration 003): an append-only table of every evaluation and every change,
// queried by time range, namespace and actor. The table's triggers refuse UPDATE and DELETE; prune() (migration 006)
// is the one path that deletes, and only entries verified in an export.
import { AppError } from "../errors.js";
import type { Db } from "./db.js";

/** A prune that could not be done safely; nothing was deleted. */
export class AuditPruneError extends AppError {
  static override code = "audit_prune_refused";
  static override status = 409;
}

export interface AuditEntry {
  time: string;
  actor: string;
  action: string;
  namespace: string | null;
  resource: string | null;
  ruleIds: string[];
  outcome: string;
  details: Record<string, unknown>;
}

export interface StoredAuditEntry extends AuditEntry {
  id: number;
}

export interface AuditQuery {
  /** ISO 8601 instants, inclusive. */
  since?: string;
  until?: string;
  namespace?: string;
  actor?: string;
  action?: string;
  limit?: number;
}

/** Exact-match filters of rows() (the dashboard's audit page and its downloads); each is optional. */
export interface AuditMatch {
  actor?: string;
  action?: string;
  namespace?: string;
  /** Kind/name, as recorded. */
  resource?: string;
  /** An outcome as stored; "error" matches every error:<code> too. */
  outcome?: string;
  /** Entries whose rule ids include this one. */
  ruleId?: string;
}

/** A row as stored: rule_ids and details are the JSON texts written at append time. */
export interface AuditRow {
  id: number;
  time: string;
  actor: string;
  action: string;
  namespace: string | null;
  resource: string | null;
  rule_ids: string;
  outcome: string;
  details: string;
}

export class AuditStore {
  private readonly insert;
  private readonly select;

  constructor(private readonly db: Db) {
    this.insert = db.prepare(
      "INSERT INTO audit_log (time, actor, action, namespace, resource, rule_ids, outcome, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    // Times are stored as ISO 8601 UTC strings (toISOString), which sort and compare as text.
    this.select = db.prepare(
      `SELECT * FROM audit_log
       WHERE (@since IS NULL OR time >= @since) AND (@until IS NULL OR time <= @until)
         AND (@namespace IS NULL OR namespace = @namespace) AND (@actor IS NULL OR actor = @actor) AND (@action IS NULL OR action = @action)
       ORDER BY time DESC, id DESC LIMIT @limit`,
    );
  }

  append(entry: AuditEntry): number {
    const result = this.insert.run(
      entry.time,
      entry.actor,
      entry.action,
      entry.namespace,
      entry.resource,
      JSON.stringify(entry.ruleIds),
      entry.outcome,
      JSON.stringify(entry.details),
    );
    return Number(result.lastInsertRowid);
  }

  /** The id of the newest entry (0 when the log is empty): a snapshot bound for exports and prunes. */
  maxId(): number {
    return (this.db.prepare("SELECT COALESCE(MAX(id), 0) AS id FROM audit_log").get() as { id: number }).id;
  }

  /**
   * Entries in append (id) order, read in batches by id so a large log never sits in memory and no
   * statement stays open between batches. `since`/`until` are inclusive, `before` exclusive (ISO 8601 UTC);
   * `upToId` bounds the read to a snapshot taken before it started.
   */
  *rows(
    filter: {
      since?: string;
      until?: string;
      before?: string;
      upToId?: number;
      batchSize?: number;
      /** Only entries with an id below this one (a page cursor). */
      belowId?: number;
      /** Newest (highest id) first instead of append order. */
      descending?: boolean;
      match?: AuditMatch;
    } = {},
  ): Generator<AuditRow> {
    const statement = this.db.prepare(
      `SELECT * FROM audit_log
       WHERE id > @after AND id < @below AND id <= @upTo AND (@since IS NULL OR time >= @since) AND (@until IS NULL OR time <= @until) AND (@before IS NULL OR time < @before)
         AND (@actor IS NULL OR actor = @actor) AND (@action IS NULL OR action = @action) AND (@namespace IS NULL OR namespace = @namespace)
         AND (@resource IS NULL OR resource = @resource)
         AND (@outcome IS NULL OR outcome = @outcome OR (@outcome = 'error' AND substr(outcome, 1, 6) = 'error:'))
         AND (@ruleId IS NULL OR EXISTS (SELECT 1 FROM json_each(audit_log.rule_ids) WHERE value = @ruleId))
       ORDER BY id ${filter.descending ? "DESC" : ""} LIMIT @batch`,
    );
    const upTo = filter.upToId ?? this.maxId();
    const m = filter.match ?? {};
    let after = 0;
    let below = filter.belowId ?? Number.MAX_SAFE_INTEGER;
    for (;;) {
      const batch = statement.all({
        after,
        below,
        upTo,
        since: filter.since ?? null,
        until: filter.until ?? null,
        before: filter.before ?? null,
        actor: m.actor ?? null,
        action: m.action ?? null,
        namespace: m.namespace ?? null,
        resource: m.resource ?? null,
        outcome: m.outcome ?? null,
        ruleId: m.ruleId ?? null,
        batch: filter.batchSize ?? 500,
      }) as AuditRow[];
      if (batch.length === 0) return;
      yield* batch;
      if (filter.descending) below = batch[batch.length - 1]!.id;
      else after = batch[batch.length - 1]!.id;
    }
  }

  /** How many entries are older than `before`, up to an id or after it. */
  countBefore(before: string, range: { upToId?: number; afterId?: number } = {}): number {
    return (
      this.db
        .prepare("SELECT COUNT(*) AS n FROM audit_log WHERE time < @before AND id <= @upTo AND id > @after")
        .get({ before, upTo: range.upToId ?? Number.MAX_SAFE_INTEGER, after: range.afterId ?? 0 }) as { n: number }
    ).n;
  }

  /**
   * The only way entries leave the log (migration 006): in one IMMEDIATE transaction, check that exactly
   * the `expected` entries older than `before` (ids up to `maxId`, the ones verified in the export) exist
   * and none newer than the check, authorize their deletion, delete them, withdraw the authorization and
   * append `record` (the prune's own entry, with the count). Throws (and changes nothing) otherwise.
   */
  prune(request: { before: string; maxId: number; expected: number; exportSha256: string }, record: (deleted: number) => AuditEntry): { deleted: number; recordId: number } {
    return this.db
      .transaction(() => {
        const now = this.countBefore(request.before, { upToId: request.maxId });
        const newer = this.countBefore(request.before, { afterId: request.maxId });
        if (now !== request.expected || newer > 0) {
          throw new AuditPruneError(
            `the audit log changed since the export was checked (${now} entries older than ${request.before} up to id ${request.maxId}, ${request.expected} verified; ${newer} newer entries older than the date): nothing was deleted, export again`,
          );
        }
        this.db.prepare("INSERT INTO audit_prune_authorization (id, before, max_id, export_sha256) VALUES (1, ?, ?, ?)").run(request.before, request.maxId, request.exportSha256);
        const deleted = this.db.prepare("DELETE FROM audit_log WHERE time < ? AND id <= ?").run(request.before, request.maxId).changes;
        this.db.prepare("DELETE FROM audit_prune_authorization").run();
        if (deleted !== request.expected) throw new AuditPruneError(`deleted ${deleted} entries instead of ${request.expected}: rolled back, nothing was deleted`);
        const recordId = this.append(record(deleted));
        return { deleted, recordId };
      })
      .immediate();
  }

  /** Newest first. */
  query(filter: AuditQuery = {}): StoredAuditEntry[] {
    const rows = this.select.all({
      since: filter.since ?? null,
      until: filter.until ?? null,
      namespace: filter.namespace ?? null,
      actor: filter.actor ?? null,
      action: filter.action ?? null,
      limit: filter.limit ?? 100,
    }) as AuditRow[];
    return rows.map(auditEntryOf);
  }
}

/** A stored row with its JSON texts parsed. */
export function auditEntryOf(r: AuditRow): StoredAuditEntry {
  return {
    id: r.id,
    time: r.time,
    actor: r.actor,
    action: r.action,
    namespace: r.namespace,
    resource: r.resource,
    ruleIds: JSON.parse(r.rule_ids) as string[],
    outcome: r.outcome,
    details: JSON.parse(r.details) as Record<string, unknown>,
  };
}

const stores = new WeakMap<Db, AuditStore>();

/** The audit store of a database, its statements prepared once however many callers append. */
export function auditStoreFor(db: Db): AuditStore {
  let store = stores.get(db);
  if (!store) stores.set(db, (store = new AuditStore(db)));
  return store;
}
