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
  /** What the message says (src/notify/content.ts MessageContent); null for messages recorded before migration 007. */
  content: unknown;
}

/** Unfinished messages claimed at start (see claimUnfinished). */
export interface ClaimResult {
  /** Young enough: now owned by the claimer, to be sent again. */
  resumed: NotificationRecord[];
  /** Too old: marked failed. */
  expired: NotificationRecord[];
  /** Their last recorded attempt was delivered (the process stopped before marking them sent): marked sent, not sent again. */
  delivered: NotificationRecord[];
}

/** A destination told to wait (see pauseDestination). */
export interface DestinationPause {
  until: number;
  /** The message that got the rate limit, when known. */
  notificationId: number | null;
  reason: string;
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
  /** How long this attempt waited, before it was made, for its destination's shared pause (another message's rate limit); null when it did not. */
  pausedMs: number | null;
  /** The message whose rate limit that pause was. */
  pausedBy: number | null;
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
  content: string | null;
  owner: string | null;
  lease_until: number | null;
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
  paused_ms: number | null;
  paused_by: number | null;
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
  content: r.content === null ? null : (JSON.parse(r.content) as unknown),
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
  pausedMs: r.paused_ms,
  pausedBy: r.paused_by,
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

  /**
   * Stores a pending message. `claim` makes the caller its owner until `leaseUntil` (ms) in the same
   * statement, so that no other process resuming unfinished messages can take it before it is sent.
   */
  createNotification(
    n: {
      channel: NotificationChannel;
      kind: NotificationKind;
      eventIds: number[];
      eventTypes: string[];
      subject: string;
      destination?: StoredDestination;
      content?: unknown;
      claim?: { owner: string; leaseUntil: number };
    },
    at: number,
  ): number {
    const { lastInsertRowid } = this.db
      .prepare(
        `INSERT INTO notifications (channel, kind, event_ids, event_types, subject, status, created_at, destination, content, owner, lease_until)
         VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)`,
      )
      .run(
        n.channel,
        n.kind,
        JSON.stringify(n.eventIds),
        JSON.stringify(n.eventTypes),
        n.subject,
        at,
        n.destination ? JSON.stringify(n.destination) : null,
        n.content === undefined ? null : JSON.stringify(n.content),
        n.claim?.owner ?? null,
        n.claim?.leaseUntil ?? null,
      );
    return Number(lastInsertRowid);
  }

  /** Extends the claim of every unfinished message this owner holds (its heartbeat while it delivers). */
  renewClaims(owner: string, leaseUntil: number): number {
    return this.db.prepare("UPDATE notifications SET lease_until = MAX(COALESCE(lease_until, 0), ?) WHERE owner = ? AND status = 'pending'").run(leaseUntil, owner).changes;
  }

  /**
   * Claims the unfinished messages whose owner is gone (no claim, or a claim that lapsed before `now`), in
   * one IMMEDIATE transaction, so that two processes starting together cannot both take one. A message
   * whose last attempt was delivered is marked sent; one created before `resumeSince` is marked failed with
   * `expiredError(ageMs)`; the others become the claimer's until `leaseUntil` and are returned to be sent.
   */
  claimUnfinished(owner: string, now: number, leaseUntil: number, resumeSince: number, expiredError: (ageMs: number) => string): ClaimResult {
    return this.db.transaction((): ClaimResult => {
      const rows = this.db
        .prepare("SELECT * FROM notifications WHERE status = 'pending' AND (lease_until IS NULL OR lease_until < ?) ORDER BY created_at, id")
        .all(now) as NotificationRow[];
      const result: ClaimResult = { resumed: [], expired: [], delivered: [] };
      const finish = this.db.prepare("UPDATE notifications SET status = ?, error = ?, finished_at = ?, owner = NULL, lease_until = NULL WHERE id = ?");
      const take = this.db.prepare("UPDATE notifications SET owner = ?, lease_until = ? WHERE id = ?");
      const lastAttempt = this.db.prepare("SELECT status FROM notification_attempts WHERE notification_id = ? ORDER BY attempt DESC LIMIT 1");
      for (const row of rows) {
        const last = lastAttempt.get(row.id) as { status: string } | undefined;
        if (last?.status === "sent") {
          finish.run("sent", null, now, row.id);
          result.delivered.push(notificationFrom({ ...row, status: "sent", finished_at: now }));
        } else if (row.created_at < resumeSince) {
          const error = expiredError(now - row.created_at);
          finish.run("failed", error, now, row.id);
          result.expired.push(notificationFrom({ ...row, status: "failed", error, finished_at: now }));
        } else {
          take.run(owner, leaseUntil, row.id);
          result.resumed.push(notificationFrom({ ...row, owner, lease_until: leaseUntil }));
        }
      }
      return result;
    }).immediate();
  }

  /** Tells every delivery to a destination to wait until `until` (ms); a pause already longer stays. */
  pauseDestination(destination: string, until: number, notificationId: number | null, reason: string): void {
    this.db
      .prepare(
        `INSERT INTO notification_pauses (destination, until, notification_id, reason) VALUES (?, ?, ?, ?)
         ON CONFLICT (destination) DO UPDATE SET until = excluded.until, notification_id = excluded.notification_id, reason = excluded.reason
         WHERE excluded.until > notification_pauses.until`,
      )
      .run(destination, until, notificationId, reason);
  }

  /** The destination's pause if it lasts beyond `now`; null when it may be sent to. */
  destinationPause(destination: string, now: number): DestinationPause | null {
    const row = this.db.prepare("SELECT until, notification_id, reason FROM notification_pauses WHERE destination = ? AND until > ?").get(destination, now) as
      | { until: number; notification_id: number | null; reason: string }
      | undefined;
    return row ? { until: row.until, notificationId: row.notification_id, reason: row.reason } : null;
  }

  /**
   * Notification history retention: deletes the finished messages (sent, failed) created before the cutoff
   * with their attempts, the events before it that no remaining message carries, and lapsed pauses. Kept
   * whatever their age: unfinished messages (and their events), each channel's last delivered digest (the
   * next digest starts where it ended) and events newer than `keepEventsSince` (deduplication still needs them).
   */
  applyRetention(retentionDays: number, now: number, keepEventsSince: number = now): { notifications: number; attempts: number; events: number } {
    const cutoff = now - retentionDays * 86_400_000;
    const eventCutoff = Math.min(cutoff, keepEventsSince);
    return this.db.transaction(() => {
      const doomed = `SELECT id FROM notifications WHERE status IN ('sent', 'failed') AND created_at < @cutoff
        AND id NOT IN (SELECT d.id FROM notifications d WHERE d.kind = 'digest' AND d.status = 'sent' AND d.created_at =
          (SELECT MAX(l.created_at) FROM notifications l WHERE l.channel = d.channel AND l.kind = 'digest' AND l.status = 'sent'))`;
      const attempts = this.db.prepare(`DELETE FROM notification_attempts WHERE notification_id IN (${doomed})`).run({ cutoff }).changes;
      const notifications = this.db.prepare(`DELETE FROM notifications WHERE id IN (${doomed})`).run({ cutoff }).changes;
      const events = this.db
        .prepare(
          `DELETE FROM notification_events WHERE created_at < @eventCutoff
           AND id NOT IN (SELECT j.value FROM notifications n, json_each(n.event_ids) j)`,
        )
        .run({ eventCutoff }).changes;
      this.db.prepare("DELETE FROM notification_pauses WHERE until < ?").run(now);
      return { notifications, attempts, events };
    })();
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
    pausedMs?: number | null;
    pausedBy?: number | null;
  }): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO notification_attempts (notification_id, attempt, status, retryable, status_code, error, started_at, duration_ms, response, retry_after_ms, wait_ms, paused_ms, paused_by)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
          a.pausedMs ?? null,
          a.pausedBy ?? null,
        );
      this.db.prepare("UPDATE notifications SET attempts = MAX(attempts, ?) WHERE id = ?").run(a.attempt, a.notificationId);
    })();
  }

  finishNotification(id: number, status: "sent" | "failed", error: string | null, at: number): void {
    this.db.prepare("UPDATE notifications SET status = ?, error = ?, finished_at = ?, owner = NULL, lease_until = NULL WHERE id = ?").run(status, error, at, id);
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
