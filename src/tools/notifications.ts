// The notification tools: send_test_notification tries a configured channel end to end (the same
// delivery, retries and recording as real alerts) and reports every attempt.
import { z } from "zod";
import { notifierFor } from "../notify/notifier.js";
import { defineTool } from "./types.js";

const attemptSchema = z.object({
  attempt: z.number().describe("1 for the first try"),
  status: z.enum(["sent", "failed"]),
  retryable: z.boolean().describe("The failure was one worth retrying (5xx, timeout, refused connection)"),
  statusCode: z.number().nullable().describe("HTTP status (Slack) or SMTP reply code (e-mail), when the other side answered"),
  error: z.string().nullable(),
  startedAt: z.string(),
  durationMs: z.number(),
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

export const NOTIFICATION_TOOLS = [sendTestNotification];
