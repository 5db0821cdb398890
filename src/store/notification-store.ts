// Repository of the notifications (migration 004): events kept after deduplication, the messages sent to
// each channel, every delivery attempt, and what was last seen of each scan series for the stale check.
// The only SQL about notifications; callers pass plain values and get plain records back.
import type { Db } from "./db.js";

export type NotificationChannel = "slack" | "email";
export type NotificationKind = "alert" | "digest" | "test";
export type NotificationStatus = "pending" | "sent" | "failed";
/** The status the history shows: a pending message with a failed attempt behind it is retrying. */
export const HISTORY_STATUSES = ["pending", "retrying", "sent", "failed"] as const;
export type HistoryStatus = (typeof HISTORY_STATUSES)[number];

/** Where a message went, secrets removed (see src/notify/delivery.ts Destination). */
export interface StoredDestination {
  targets: string[];
  endpoint: string;
}

export interface StoredEvent<P = unknown> {
  id: number;
  type: string;
  fingerprint: string;
  scope: string;
  scanId: number | null;
  severity: string | null;
  payload: P;
  createdAt: string;
}

export interface NotificationRecord {
  id: number;
  channel: NotificationChannel;
  kind: NotificationKind;
  eventIds: number[];
  eventTypes: string[];
  subject: string;
  status: NotificationStatus;
  attempts: number;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
  /** Null for messages recorded before the destination was (migration 005). */
  destination: StoredDestination | null;
}

/** A filter of the notification history; times in ms, inclusive. */
export interface HistoryFilter {
  channel?: NotificationChannel;
  kind?: NotificationKind;
  status?: HistoryStatus;
  eventType?: string;
  /** A Slack channel (with or without #) or an e-mail recipient, case-insensitive. */
  target?: string;
  since?: number;
  until?: number;
  limit: number;
}

export interface AttemptRecord {
  notificationId: number;
  attempt: number;
  status: "sent" | "failed";
  retryable: boolean;
  /** HTTP status (Slack) or SMTP reply code (e-mail), when the other side answered. */
  statusCode: number | null;
  error: string | null;
  startedAt: string;
  durationMs: number;
  /** What the other side answered to a delivered message (Slack's body, the SMTP reply). */
  response: string | null;
  /** The wait the other side asked for (Retry-After), in ms. */
  retryAfterMs: number | null;
  /** How long the delivery waited before the next attempt; null when there was none. */
  waitMs: number | null;
}

export interface ScopeState {
  cluster: string;
  scope: string;
  firstSeenAt: number;
  lastScanId: number | null;
  lastScanAt: number | null;
  lastStatus: string | null;
  lastSuccessId: number | null;
  lastSuccessAt: number | null;
}

interface EventRow {
  id: number;
  type: string;
  fingerprint: string;
  scope: string;
  scan_id: number | null;
  severity: string | null;
  payload: string;
  created_at: number;
}

interface NotificationRow {
  id: number;
  channel: NotificationChannel;
  kind: NotificationKind;
  event_ids: string;
  event_types: string;
  subject: string;
  status: NotificationStatus;
  attempts: number;
  error: string | null;
  created_at: number;
  finished_at: number | null;
  destination: string | null;
}

interface AttemptRow {
  notification_id: number;
  attempt: number;
  status: "sent" | "failed";
  retryable: number;
  status_code: number | null;
  error: string | null;
  started_at: number;
  duration_ms: number;
  response: string | null;
  retry_after_ms: number | null;
  wait_ms: number | null;
}

interface ScopeRow {
  cluster: string;
  scope: string;
  first_seen_at: number;
  last_scan_id: number | null;
  last_scan_at: number | null;
  last_status: string | null;
  last_success_id: number | null;
  last_success_at: number | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

const eventFrom = <P>(r: EventRow): StoredEvent<P> => ({
  id: r.id,
  type: r.type,
  fingerprint: r.fingerprint,
  scope: r.scope,
  scanId: r.scan_id,
  severity: r.severity,
  payload: JSON.parse(r.payload) as P,
  createdAt: iso(r.created_at),
});

const notificationFrom = (r: NotificationRow): NotificationRecord => ({
  id: r.id,
  channel: r.channel,
  kind: r.kind,
  eventIds: JSON.parse(r.event_ids) as number[],
  eventTypes: JSON.parse(r.event_types) as string[],
  subject: r.subject,
  status: r.status,
  attempts: r.attempts,
  error: r.error,
  createdAt: iso(r.created_at),
  finishedAt: r.finished_at === null ? null : iso(r.finished_at),
  destination: r.destination === null ? null : (JSON.parse(r.destination) as StoredDestination),
});

const attemptFrom = (r: AttemptRow): AttemptRecord => ({
  notificationId: r.notification_id,
  attempt: r.attempt,
  status: r.status,
  retryable: r.retryable === 1,
  statusCode: r.status_code,
  error: r.error,
  startedAt: iso(r.started_at),
  durationMs: r.duration_ms,
  response: r.response,
  retryAfterMs: r.retry_after_ms,
  waitMs: r.wait_ms,
});

// The history's status of a row, as SQL: pending splits into pending (no attempt yet) and retrying.
const HISTORY_STATUS_SQL = "CASE WHEN status = 'pending' AND attempts > 0 THEN 'retrying' ELSE status END";

export class NotificationStore {
  constructor(private readonly db: Db) {}

  /**
   * Stores an event unless one with the same fingerprint was stored at or after `dedupeSince` (ms).
   * Check and insert are one transaction, so two scans finishing together cannot both pass.
   * Returns the stored event, or null for a duplicate.
   */
  recordEventOnce<P>(
    event: { type: string; fingerprint: string; scope: string; scanId: number | null; severity: string | null; payload: P },
    at: number,
    dedupeSince: number,
  ): StoredEvent<P> | null {
    return this.db.transaction(() => {
      const duplicate = this.db
        .prepare("SELECT 1 FROM notification_events WHERE fingerprint = ? AND created_at >= ? LIMIT 1")
        .get(event.fingerprint, dedupeSince);
      if (duplicate) return null;
      const { lastInsertRowid } = this.db
        .prepare("INSERT INTO notification_events (type, fingerprint, scope, scan_id, severity, payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .run(event.type, event.fingerprint, event.scope, event.scanId, event.severity, JSON.stringify(event.payload), at);
      return eventFrom<P>(this.db.prepare("SELECT * FROM notification_events WHERE id = ?").get(lastInsertRowid) as EventRow);
    }).immediate();
  }

  /** Events stored in [from, to), oldest first. */
  eventsBetween<P>(from: number, to: number): StoredEvent<P>[] {
    const rows = this.db
      .prepare("SELECT * FROM notification_events WHERE created_at >= ? AND created_at < ? ORDER BY created_at, id")
      .all(from, to) as EventRow[];
    return rows.map((r) => eventFrom<P>(r));
  }

  createNotification(
    n: { channel: NotificationChannel; kind: NotificationKind; eventIds: number[]; eventTypes: string[]; subject: string; destination?: StoredDestination },
    at: number,
  ): number {
    const { lastInsertRowid } = this.db
      .prepare("INSERT INTO notifications (channel, kind, event_ids, event_types, subject, status, created_at, destination) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)")
      .run(n.channel, n.kind, JSON.stringify(n.eventIds), JSON.stringify(n.eventTypes), n.subject, at, n.destination ? JSON.stringify(n.destination) : null);
    return Number(lastInsertRowid);
  }

  recordAttempt(a: {
    notificationId: number;
    attempt: number;
    status: "sent" | "failed";
    retryable: boolean;
    statusCode: number | null;
    error: string | null;
    startedAt: number;
    durationMs: number;
    response?: string | null;
    retryAfterMs?: number | null;
    waitMs?: number | null;
  }): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO notification_attempts (notification_id, attempt, status, retryable, status_code, error, started_at, duration_ms, response, retry_after_ms, wait_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          a.notificationId,
          a.attempt,
          a.status,
          a.retryable ? 1 : 0,
          a.statusCode,
          a.error,
          a.startedAt,
          Math.round(a.durationMs),
          a.response ?? null,
          a.retryAfterMs ?? null,
          a.waitMs ?? null,
        );
      this.db.prepare("UPDATE notifications SET attempts = MAX(attempts, ?) WHERE id = ?").run(a.attempt, a.notificationId);
    })();
  }

  finishNotification(id: number, status: "sent" | "failed", error: string | null, at: number): void {
    this.db.prepare("UPDATE notifications SET status = ?, error = ?, finished_at = ? WHERE id = ?").run(status, error, at, id);
  }

  notification(id: number): NotificationRecord | undefined {
    const row = this.db.prepare("SELECT * FROM notifications WHERE id = ?").get(id) as NotificationRow | undefined;
    return row && notificationFrom(row);
  }

  /** Newest first. */
  listNotifications(filter: { channel?: NotificationChannel; kind?: NotificationKind; limit?: number } = {}): NotificationRecord[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM notifications WHERE (@channel IS NULL OR channel = @channel) AND (@kind IS NULL OR kind = @kind)
         ORDER BY created_at DESC, id DESC LIMIT @limit`,
      )
      .all({ channel: filter.channel ?? null, kind: filter.kind ?? null, limit: filter.limit ?? 100 }) as NotificationRow[];
    return rows.map(notificationFrom);
  }

  /**
   * The history: messages matching the filter, newest first, at most `limit`, and how many match in all.
   * The status is the history's (pending, retrying, sent, failed).
   */
  history(filter: HistoryFilter): { notifications: (NotificationRecord & { historyStatus: HistoryStatus })[]; total: number } {
    const where = `(@channel IS NULL OR channel = @channel)
      AND (@kind IS NULL OR kind = @kind)
      AND (@status IS NULL OR ${HISTORY_STATUS_SQL} = @status)
      AND (@eventType IS NULL OR EXISTS (SELECT 1 FROM json_each(notifications.event_types) WHERE value = @eventType))
      AND (@target IS NULL OR EXISTS (SELECT 1 FROM json_each(notifications.destination, '$.targets') WHERE lower(ltrim(value, '#')) = lower(ltrim(@target, '#'))))
      AND (@since IS NULL OR created_at >= @since)
      AND (@until IS NULL OR created_at <= @until)`;
    const params = {
      channel: filter.channel ?? null,
      kind: filter.kind ?? null,
      status: filter.status ?? null,
      eventType: filter.eventType ?? null,
      target: filter.target ?? null,
      since: filter.since ?? null,
      until: filter.until ?? null,
    };
    const rows = this.db
      .prepare(`SELECT *, ${HISTORY_STATUS_SQL} AS history_status FROM notifications WHERE ${where} ORDER BY created_at DESC, id DESC LIMIT @limit`)
      .all({ ...params, limit: filter.limit }) as (NotificationRow & { history_status: HistoryStatus })[];
    const { total } = this.db.prepare(`SELECT COUNT(*) AS total FROM notifications WHERE ${where}`).get(params) as { total: number };
    return { notifications: rows.map((r) => ({ ...notificationFrom(r), historyStatus: r.history_status })), total };
  }

  /** Stored events by id (those still present), in id order. */
  eventsByIds<P>(ids: readonly number[]): StoredEvent<P>[] {
    if (ids.length === 0) return [];
    const rows = this.db
      .prepare("SELECT * FROM notification_events WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id")
      .all(JSON.stringify(ids)) as EventRow[];
    return rows.map((r) => eventFrom<P>(r));
  }

  /** The attempts of one message, in order. */
  attempts(notificationId: number): AttemptRecord[] {
    const rows = this.db
      .prepare("SELECT * FROM notification_attempts WHERE notification_id = ? ORDER BY attempt")
      .all(notificationId) as AttemptRow[];
    return rows.map(attemptFrom);
  }

  /** When the last digest to this channel was delivered (ms); null when none was. */
  lastDigestSentAt(channel: NotificationChannel): number | null {
    const row = this.db
      .prepare("SELECT MAX(created_at) AS at FROM notifications WHERE channel = ? AND kind = 'digest' AND status = 'sent'")
      .get(channel) as { at: number | null };
    return row.at;
  }

  /** Records that a scan of this series finished (the stale check's input). */
  recordScan(s: { cluster: string; scope: string; scanId: number; status: string; at: number }): void {
    const succeeded = s.status === "succeeded";
    this.db
      .prepare(
        `INSERT INTO notification_scopes (cluster, scope, first_seen_at, last_scan_id, last_scan_at, last_status, last_success_id, last_success_at)
         VALUES (@cluster, @scope, @at, @scanId, @at, @status, @successId, @successAt)
         ON CONFLICT (cluster, scope) DO UPDATE SET
           last_scan_id = CASE WHEN excluded.last_scan_at >= COALESCE(last_scan_at, 0) THEN excluded.last_scan_id ELSE last_scan_id END,
           last_status = CASE WHEN excluded.last_scan_at >= COALESCE(last_scan_at, 0) THEN excluded.last_status ELSE last_status END,
           last_scan_at = MAX(COALESCE(last_scan_at, 0), excluded.last_scan_at),
           last_success_id = CASE WHEN excluded.last_success_at >= COALESCE(last_success_at, 0) THEN excluded.last_success_id ELSE last_success_id END,
           last_success_at = CASE WHEN excluded.last_success_at >= COALESCE(last_success_at, 0) THEN excluded.last_success_at ELSE last_success_at END`,
      )
      .run({ cluster: s.cluster, scope: s.scope, at: s.at, scanId: s.scanId, status: s.status, successId: succeeded ? s.scanId : null, successAt: succeeded ? s.at : null });
  }

  scopes(): ScopeState[] {
    const rows = this.db.prepare("SELECT * FROM notification_scopes ORDER BY cluster, scope").all() as ScopeRow[];
    return rows.map((r) => ({
      cluster: r.cluster,
      scope: r.scope,
      firstSeenAt: r.first_seen_at,
      lastScanId: r.last_scan_id,
      lastScanAt: r.last_scan_at,
      lastStatus: r.last_status,
      lastSuccessId: r.last_success_id,
      lastSuccessAt: r.last_success_at,
    }));
  }
}
