// The notification tools: send_test_notification tries a configured channel end to end (the same
// delivery, retries and recording as real alerts) and reports every attempt; list_notification_history
// reads what was sent, where, and every attempt (read-only, so also offered in read-only mode).
import { z } from "zod";
import { NOTIFICATION_EVENT_TYPES } from "../notify/events.js";
import {
  DEFAULT_HISTORY_LIMIT,
  HISTORY_CHANNELS,
  HISTORY_KINDS,
  HISTORY_STATUSES,
  MAX_HISTORY_LIMIT,
  configuredSecrets,
  historyText,
  notificationHistory,
  parseHistoryQuery,
  unknownValueMessage,
} from "../notify/history.js";
import { notifierFor } from "../notify/notifier.js";
import { NotificationStore } from "../store/notification-store.js";
import { defineTool } from "./types.js";

const attemptSchema = z.object({
  attempt: z.number().describe("1 for the first try"),
  status: z.enum(["sent", "failed"]),
  retryable: z.boolean().describe("The failure was one worth retrying (5xx, timeout, refused connection)"),
  statusCode: z.number().nullable().describe("HTTP status (Slack) or SMTP reply code (e-mail), when the other side answered"),
  error: z.string().nullable(),
  startedAt: z.string(),
  durationMs: z.number(),
  response: z.string().nullable().describe("What the other side answered to a delivered message (Slack's body, the SMTP reply)"),
  retryAfterMs: z.number().nullable().describe("The wait Slack asked for (Retry-After on HTTP 429), in ms"),
  waitMs: z.number().nullable().describe("How long the delivery waited before the next attempt (backoff or Retry-After); null when there was none"),
  pausedMs: z.number().nullable().describe("How long this attempt waited, before it was made, for its destination's rate limit met by another message; null when it did not"),
  pausedBy: z.number().nullable().describe("The message whose rate limit (Slack 429, SMTP 421) paused the destination"),
});

export const sendTestNotification = defineTool({
  name: "send_test_notification",
  title: "Send a test notification",
  description:
    "Sends a test message to a configured notification channel (slack: the incoming webhook of notifications.slack; email: the " +
    "recipients of notifications.email over its SMTP server) and waits for the outcome, with the same retries and per-attempt " +
    "timeout as real alerts. Works on a channel that is configured but not yet enabled. Every attempt is recorded in the " +
    "notification history. Fails with the attempts' errors when the message could not be delivered.",
  inputSchema: {
    channel: z.enum(["slack", "email"]).describe("The channel to try"),
  },
  outputSchema: {
    notificationId: z.number(),
    channel: z.enum(["slack", "email"]),
    status: z.enum(["sent", "failed"]),
    attempts: z.array(attemptSchema),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async handler(args, ctx) {
    const result = await notifierFor(ctx.runtime).sendTest(args.channel, ctx.actor);
    const last = result.attempts.at(-1);
    const text =
      `Test notification sent to ${args.channel} after ${result.attempts.length} attempt(s)` +
      `${last?.statusCode ? ` (${args.channel === "slack" ? "HTTP" : "SMTP"} ${last.statusCode})` : ""}.\n`;
    return { structured: { ...result }, text };
  },
});


/** An enum argument whose refusal says what the value should have been. */
const choice = <T extends [string, ...string[]]>(field: "channel" | "status" | "kind" | "eventType", values: T) =>
  z.enum(values, { errorMap: (issue, ctx) => ({ message: issue.code === "invalid_enum_value" ? unknownValueMessage(field, ctx.data) : ctx.defaultError }) });

const historyAttemptSchema = z.object({
  attempt: z.number(),
  startedAt: z.string(),
  outcome: z.enum(["sent", "failed"]),
  protocol: z.enum(["http", "smtp"]).describe("What statusCode is: an HTTP status (Slack) or an SMTP reply code (e-mail)"),
  statusCode: z.number().nullable(),
  response: z.string().nullable().describe("What the other side answered to a delivered message"),
  error: z.string().nullable().describe("Why the attempt failed (secrets removed)"),
  retryable: z.boolean(),
  durationMs: z.number(),
  retryAfterMs: z.number().nullable().describe("The wait Slack asked for (Retry-After on HTTP 429), in ms"),
  waitMs: z.number().nullable().describe("How long the delivery waited before the next attempt; null when there was none"),
  pausedMs: z.number().nullable().describe("How long this attempt waited, before it was made, for its destination's rate limit met by another message; null when it did not"),
  pausedBy: z.number().nullable().describe("The message whose rate limit (Slack 429, SMTP 421) paused the destination"),
});

const historyEntrySchema = z.object({
  id: z.number(),
  channel: z.enum(HISTORY_CHANNELS),
  kind: z.enum(HISTORY_KINDS),
  status: z.enum(HISTORY_STATUSES),
  subject: z.string(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  destination: z
    .object({ targets: z.array(z.string()).describe("The Slack channel or the e-mail recipients"), endpoint: z.string().describe("Webhook or SMTP server, secret part redacted") })
    .nullable(),
  eventTypes: z.array(z.string()),
  events: z.array(
    z.object({
      id: z.number(),
      type: z.string(),
      at: z.string().nullable(),
      cluster: z.string().nullable(),
      scanId: z.number().nullable(),
      scope: z.string(),
      namespaces: z.array(z.string()),
      resource: z.string().nullable(),
      ruleIds: z.array(z.string()),
      severity: z.string().nullable(),
    }),
  ),
  error: z.string().nullable(),
  attempts: z.array(historyAttemptSchema),
});

const instantArg = (what: string) => z.string().min(1).max(64).optional().describe(`${what}, an ISO 8601 date or date-time (2026-01-31, 2026-01-31T12:00:00Z); inclusive`);

export const listNotificationHistory = defineTool({
  name: "list_notification_history",
  title: "List the notification history",
  description:
    "The Slack and e-mail notifications this server sent or tried to send, newest first: what each told (event types, scan id, " +
    "namespaces, rule ids), where it went (Slack channel or recipients; the webhook URL and SMTP credentials are never shown), its " +
    "status (pending, retrying, sent, failed) and every delivery attempt with its time, outcome, HTTP status or SMTP reply, error, " +
    "the Retry-After Slack asked for and the wait that followed. Filters: channel, to, status, eventType, kind, since, until; " +
    "`more` says whether more match than `limit`.",
  inputSchema: {
    channel: choice("channel", [...HISTORY_CHANNELS]).optional().describe("Only this channel type"),
    to: z.string().min(1).max(320).optional().describe("Only messages to this Slack channel (#alerts) or e-mail recipient"),
    status: choice("status", [...HISTORY_STATUSES]).optional().describe("pending (no attempt yet), retrying, sent or failed"),
    eventType: choice("eventType", [...NOTIFICATION_EVENT_TYPES]).optional().describe("Only messages carrying this event type"),
    kind: choice("kind", [...HISTORY_KINDS]).optional().describe("alert, digest or test"),
    since: instantArg("Earliest creation time"),
    until: instantArg("Latest creation time"),
    limit: z.number().int().min(1).max(MAX_HISTORY_LIMIT).optional().describe(`At most this many (default ${DEFAULT_HISTORY_LIMIT})`),
  },
  outputSchema: {
    notifications: z.array(historyEntrySchema),
    total: z.number().describe("How many messages match the filters"),
    more: z.boolean().describe("More messages match than were returned"),
  },
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  async handler(args, ctx) {
    const filter = parseHistoryQuery(args);
    const result = notificationHistory(new NotificationStore(ctx.runtime.db()), filter, configuredSecrets(ctx.runtime.config.notifications), (ns) =>
      ctx.runtime.namespaceAllowed(ns),
    );
    return { structured: { ...result }, text: historyText(result) };
  },
});

export const NOTIFICATION_TOOLS = [sendTestNotification, listNotificationHistory];
