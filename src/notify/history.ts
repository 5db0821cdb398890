// The notification history as the doors show it (list_notification_history, `kube-policy notify history`):
// the filters checked once for both (each problem names its field), and every stored message with what
// it told (events: type, scan, namespaces, rules), where it went (the Slack channel or the recipients and
// the endpoint with its secret part redacted) and every attempt (time, outcome, HTTP status or SMTP reply,
// what the other side answered, the error, Retry-After and the wait that followed). Read-only.
import type { NotificationsConfig } from "../config/types.js";
import { InvalidInputError, type ErrorDetail } from "../errors.js";
import {
  HISTORY_STATUSES,
  type HistoryFilter,
  type HistoryStatus,
  type NotificationChannel,
  type NotificationKind,
  type NotificationStore,
  type StoredDestination,
} from "../store/notification-store.js";
import { scrub } from "./delivery.js";
import { EmailSender } from "./email.js";
import { NOTIFICATION_EVENT_TYPES, type NotificationEvent } from "./events.js";
import { SlackSender } from "./slack.js";

export const HISTORY_CHANNELS = ["slack", "email"] as const satisfies readonly NotificationChannel[];
export const HISTORY_KINDS = ["alert", "digest", "test"] as const satisfies readonly NotificationKind[];
export { HISTORY_STATUSES };
export const DEFAULT_HISTORY_LIMIT = 20;
export const MAX_HISTORY_LIMIT = 500;

/** The filters as the doors receive them (strings from the command line, values from JSON). */
export interface HistoryQuery {
  channel?: string;
  to?: string;
  status?: string;
  eventType?: string;
  kind?: string;
  since?: string;
  until?: string;
  limit?: number | string;
}

export interface HistoryEvent {
  id: number;
  type: string;
  /** ISO 8601: when it happened. */
  at: string | null;
  cluster: string | null;
  scanId: number | null;
  /** The scan scope ("*": the whole cluster) or the fix's namespace. */
  scope: string;
  /** The namespaces concerned; empty for the whole cluster. */
  namespaces: string[];
  /** The workload of a fix event ("Deployment shop/web"). */
  resource: string | null;
  ruleIds: string[];
  severity: string | null;
}

export interface HistoryAttempt {
  attempt: number;
  startedAt: string;
  outcome: "sent" | "failed";
  /** "http" (Slack) or "smtp" (e-mail): what statusCode is. */
  protocol: "http" | "smtp";
  statusCode: number | null;
  /** What the other side answered to a delivered message (Slack's body, the SMTP reply). */
  response: string | null;
  error: string | null;
  retryable: boolean;
  durationMs: number;
  /** The wait the other side asked for (Retry-After), in ms. */
  retryAfterMs: number | null;
  /** How long the delivery waited before the next attempt; null when there was none. */
  waitMs: number | null;
  /** How long this attempt waited, before it was made, for its destination's pause (another message's rate limit); null when it did not. */
  pausedMs: number | null;
  /** The message whose rate limit paused the destination. */
  pausedBy: number | null;
}

export interface HistoryEntry {
  id: number;
  channel: NotificationChannel;
  kind: NotificationKind;
  status: HistoryStatus;
  subject: string;
  createdAt: string;
  finishedAt: string | null;
  /** Null for messages recorded before destinations were. */
  destination: StoredDestination | null;
  eventTypes: string[];
  events: HistoryEvent[];
  /** The last attempt's error when the message failed. */
  error: string | null;
  attempts: HistoryAttempt[];
}

export interface HistoryResult {
  notifications: HistoryEntry[];
  /** How many messages match the filters in all. */
  total: number;
  /** More match than were returned. */
  more: boolean;
}

const oneOf = (values: readonly string[]) => values.join(", ");

/** The message for a value outside its list; the door names the field. */
export function unknownValueMessage(field: "channel" | "status" | "kind" | "eventType", value: unknown): string {
  const allowed = { channel: HISTORY_CHANNELS, status: HISTORY_STATUSES, kind: HISTORY_KINDS, eventType: NOTIFICATION_EVENT_TYPES }[field];
  let message = `${JSON.stringify(value)} is not a ${field === "eventType" ? "notification event type" : field}: one of ${oneOf(allowed)}`;
  if (field === "status" && typeof value === "string" && /^(dedup|suppress)/i.test(value)) {
    message += " (deduplicated events are dropped before any message is made, so they have no delivery history)";
  }
  return message;
}

/** An ISO 8601 date or date-time as ms; a bare date is its first (since) or last (until) millisecond, UTC. */
function instant(value: string | undefined, where: "since" | "until", problems: ErrorDetail[]): number | undefined {
  if (value === undefined) return undefined;
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const ms = Date.parse(dateOnly ? `${value}T${where === "since" ? "00:00:00.000" : "23:59:59.999"}Z` : value);
  if (!/^\d{4}-\d{2}-\d{2}(T|$)/.test(value) || Number.isNaN(ms)) {
    problems.push({ where, message: `${JSON.stringify(value)} is not an ISO 8601 date or date-time (2026-01-31, 2026-01-31T12:00:00Z)` });
    return undefined;
  }
  return ms;
}

/** Checks the filters; throws InvalidInputError listing every problem with its field. */
export function parseHistoryQuery(query: HistoryQuery): HistoryFilter {
  const problems: ErrorDetail[] = [];
  const pick = <T extends string>(field: "channel" | "status" | "kind" | "eventType", value: string | undefined, allowed: readonly T[]): T | undefined => {
    if (value === undefined) return undefined;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    problems.push({ where: field, message: unknownValueMessage(field, value) });
    return undefined;
  };
  const channel = pick("channel", query.channel, HISTORY_CHANNELS);
  const status = pick("status", query.status, HISTORY_STATUSES);
  const kind = pick("kind", query.kind, HISTORY_KINDS);
  const eventType = pick("eventType", query.eventType, NOTIFICATION_EVENT_TYPES);
  const since = instant(query.since, "since", problems);
  const until = instant(query.until, "until", problems);
  if (since !== undefined && until !== undefined && since > until) {
    problems.push({ where: "until", message: `${query.until} is before since (${query.since})` });
  }
  let limit = DEFAULT_HISTORY_LIMIT;
  if (query.limit !== undefined) {
    const n = typeof query.limit === "number" ? query.limit : /^\s*\d+\s*$/.test(query.limit) ? Number(query.limit) : Number.NaN;
    if (!Number.isInteger(n) || n < 1 || n > MAX_HISTORY_LIMIT) {
      problems.push({ where: "limit", message: `${JSON.stringify(query.limit)} is not a whole number from 1 to ${MAX_HISTORY_LIMIT}` });
    } else {
      limit = n;
    }
  }
  let to: string | undefined;
  if (query.to !== undefined) {
    to = query.to.trim();
    if (to === "" || to === "#") problems.push({ where: "to", message: "is empty: give a Slack channel (#alerts) or an e-mail recipient" });
  }
  if (problems.length > 0) throw new InvalidInputError("invalid notification history filter", { details: problems });
  return {
    limit,
    ...(channel ? { channel } : {}),
    ...(status ? { status } : {}),
    ...(kind ? { kind } : {}),
    ...(eventType ? { eventType } : {}),
    ...(to ? { target: to } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
  };
}

function summariseEvent(id: number, e: NotificationEvent): HistoryEvent {
  const fix = "workload" in e ? e.workload : null;
  const ruleIds = e.type === "scan-new-violations" ? [...new Set(e.newFindings.map((f) => f.ruleId))] : "ruleIds" in e ? [...e.ruleIds] : [];
  const severity = e.type === "scan-new-violations" ? (e.newFindings[0]?.severity ?? null) : "severity" in e && typeof e.severity === "string" ? e.severity : null;
  return {
    id,
    type: e.type,
    at: e.at ?? null,
    cluster: e.cluster ?? null,
    scanId: "scanId" in e ? e.scanId : null,
    scope: e.scope,
    namespaces: fix ? [fix.namespace] : e.scope === "*" ? [] : e.scope.split(",").filter((s) => s !== ""),
    resource: fix ? `${fix.kind} ${fix.namespace}/${fix.name}` : null,
    ruleIds,
    severity,
  };
}

/** The secrets of the configured channels (webhook URL and path, SMTP credentials from the environment). */
export function configuredSecrets(config: NotificationsConfig | undefined, env: NodeJS.ProcessEnv = process.env): string[] {
  return [...(config?.slack ? new SlackSender(config.slack).secrets() : []), ...(config?.email ? new EmailSender(config.email, env).secrets() : [])];
}

/** Every string in a value with the secrets replaced (a second line of defence: stored texts are scrubbed already). */
function scrubDeep<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  if (typeof value === "string") return scrub(value, secrets) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => scrubDeep(v, secrets)) as T;
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubDeep(v, secrets)])) as T;
  return value;
}

/** The history for a filter; `secrets` (the configured webhook URL, SMTP credentials) are removed from every text. */
export function notificationHistory(
  store: NotificationStore,
  filter: HistoryFilter,
  secrets: readonly string[] = [],
  /** Namespace isolation (namespaces.allow/deny): events of namespaces it refuses are left out, and messages with nothing else. */
  visible: (namespace: string) => boolean = () => true,
): HistoryResult {
  const { notifications, total: matching } = store.history(filter);
  let hidden = 0;
  const entries = notifications.flatMap((n): HistoryEntry[] => {
    const all = store.eventsByIds<NotificationEvent>(n.eventIds).map((e) => summariseEvent(e.id, e.payload));
    const events = all.filter((e) => e.namespaces.length === 0 || e.namespaces.some(visible));
    if (all.length > 0 && events.length === 0) {
      hidden++;
      return [];
    }
    for (const e of events) {
      e.namespaces = e.namespaces.filter(visible);
      if (e.scope !== "*") e.scope = e.namespaces.join(",");
    }
    const protocol = n.channel === "slack" ? "http" : "smtp";
    const entry: HistoryEntry = {
      id: n.id,
      channel: n.channel,
      kind: n.kind,
      status: n.historyStatus,
      subject: n.subject,
      createdAt: n.createdAt,
      finishedAt: n.finishedAt,
      destination: n.destination,
      eventTypes: n.eventTypes,
      events,
      error: n.error,
      attempts: store.attempts(n.id).map((a) => ({
        attempt: a.attempt,
        startedAt: a.startedAt,
        outcome: a.status,
        protocol,
        statusCode: a.statusCode,
        response: a.response,
        error: a.error,
        retryable: a.retryable,
        durationMs: a.durationMs,
        retryAfterMs: a.retryAfterMs,
        waitMs: a.waitMs,
        pausedMs: a.pausedMs,
        pausedBy: a.pausedBy,
      })),
    };
    return [entry];
  });
  // Hidden messages are not counted either (so `more` may say false while hidden ones were beyond the page).
  const total = matching - hidden;
  return scrubDeep({ notifications: entries, total, more: total > entries.length }, secrets);
}

const secondsText = (ms: number) => `${Math.round(ms / 100) / 10} s`;

function eventLine(e: HistoryEvent): string {
  const parts = [
    e.scanId !== null ? `scan #${e.scanId}` : null,
    e.resource ?? (e.namespaces.length > 0 ? `namespace${e.namespaces.length > 1 ? "s" : ""} ${e.namespaces.join(", ")}` : e.scope === "*" ? "whole cluster" : null),
    e.ruleIds.length > 0 ? `rule${e.ruleIds.length > 1 ? "s" : ""} ${e.ruleIds.join(", ")}` : null,
  ].filter((p): p is string => p !== null);
  return `${e.type}${parts.length > 0 ? `: ${parts.join(", ")}` : ""}`;
}

function attemptLine(a: HistoryAttempt): string {
  const code = a.statusCode !== null ? `, ${a.protocol.toUpperCase()} ${a.statusCode}` : "";
  let line = `attempt ${a.attempt} at ${a.startedAt}: ${a.outcome}${code}, ${a.durationMs} ms`;
  if (a.pausedMs !== null) line += ` (after waiting ${secondsText(a.pausedMs)} for the destination's rate limit${a.pausedBy !== null ? ` met by #${a.pausedBy}` : ""})`;
  if (a.error) line += `: ${a.error}`;
  else if (a.response) line += `: ${a.response}`;
  if (a.waitMs !== null) line += `; waited ${secondsText(a.waitMs)}${a.retryAfterMs !== null ? " (Retry-After)" : " (backoff)"}`;
  return line;
}

/** The history as text: one block per message, newest first. */
export function historyText(result: HistoryResult): string {
  const lines: string[] = [];
  const n = result.notifications.length;
  if (n === 0) lines.push(result.total === 0 ? "No notifications match." : `No notifications shown (${result.total} match).`);
  else lines.push(`${n} of ${result.total} notification(s), newest first${result.more ? ` (${result.total - n} more: raise the limit or narrow the filters)` : ""}.`);
  for (const e of result.notifications) {
    const to = e.destination
      ? `${e.destination.targets.length > 0 ? e.destination.targets.join(", ") : "(the webhook's channel)"} via ${e.destination.endpoint}`
      : "(destination not recorded)";
    lines.push("", `#${e.id} ${e.createdAt} ${e.channel} ${e.kind} ${e.status} → ${to}`, `  ${e.subject}`);
    for (const ev of e.events) lines.push(`  event ${eventLine(ev)}`);
    for (const a of e.attempts) lines.push(`  ${attemptLine(a)}`);
    if (e.attempts.length === 0) lines.push("  no attempt yet");
  }
  return `${lines.join("\n")}\n`;
}
