// Repository of the audit trail (migration 003): an append-only table of every evaluation and every change,
// queried by time range, namespace and actor. The table's triggers refuse UPDATE and DELETE.
import type { Db } from "./db.js";

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

interface AuditRow {
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

  constructor(db: Db) {
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
    return rows.map((r) => ({
      id: r.id,
      time: r.time,
      actor: r.actor,
      action: r.action,
      namespace: r.namespace,
      resource: r.resource,
      ruleIds: JSON.parse(r.rule_ids) as string[],
      outcome: r.outcome,
      details: JSON.parse(r.details) as Record<string, unknown>,
    }));
  }
}

const stores = new WeakMap<Db, AuditStore>();

/** The audit store of a database, its statements prepared once however many callers append. */
export function auditStoreFor(db: Db): AuditStore {
  let store = stores.get(db);
  if (!store) stores.set(db, (store = new AuditStore(db)));
  return store;
}
