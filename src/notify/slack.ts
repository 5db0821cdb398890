// Slack delivery through an incoming webhook (@slack/webhook): a Block Kit message with a header, the
// score and its change, new violations per severity, the top violations with their fix hint, and a
// context line (scan id, time, scope). The webhook URL is a secret: it is never logged, and it is
// removed from any error text before that text is recorded. A 429 carries Slack's Retry-After (seconds),
// which @slack/webhook does not expose (its IncomingWebhookHTTPError has the status and body, not the
// headers): the fetch we hand it reads the header, and the delivery waits that long instead of backing off.
import { IncomingWebhook, IncomingWebhookHTTPError, IncomingWebhookRequestError, type IncomingWebhookSendArguments } from "@slack/webhook";
import type { SlackNotificationConfig } from "../config/types.js";
import { SEVERITIES } from "../policy/types.js";
import type { MessageContent } from "./content.js";
import { createHash } from "node:crypto";
import { DeliveryError, type Destination, type Sender } from "./delivery.js";

type Blocks = NonNullable<IncomingWebhookSendArguments["blocks"]>;

const SEVERITY_ICON = { critical: ":red_circle:", high: ":large_orange_circle:", medium: ":large_yellow_circle:", low: ":white_circle:" } as const;

// Block Kit limits: header text 150 characters, section text 3000, 50 blocks per message.
const HEADER_MAX = 150;
const TEXT_MAX = 3000;

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Slack mrkdwn treats &, < and > as control characters (links, mentions): escape them in any text we did not write. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const mrkdwn = (text: string) => ({ type: "mrkdwn" as const, text: truncate(text, TEXT_MAX) });

/** The Block Kit payload of a message (without the channel, which the webhook's defaults carry). */
export function slackMessage(content: MessageContent): { text: string; blocks: Blocks } {
  const blocks: Blocks = [
    { type: "header", text: { type: "plain_text", text: truncate(content.subject, HEADER_MAX), emoji: true } },
    { type: "section", text: mrkdwn(escapeMrkdwn(content.headline)) },
  ];
  if (content.facts.length > 0) {
    blocks.push({ type: "section", fields: content.facts.slice(0, 10).map((f) => mrkdwn(`*${escapeMrkdwn(f.label)}*\n${escapeMrkdwn(f.value)}`)) });
  }
  if (content.severityCounts) {
    const counts = content.severityCounts;
    blocks.push({
      type: "context",
      elements: SEVERITIES.map((s) => mrkdwn(`${SEVERITY_ICON[s]} ${counts[s]} ${s}`)),
    });
  }
  if (content.findings.length > 0) {
    blocks.push({ type: "divider" });
    for (const f of content.findings) {
      blocks.push({
        type: "section",
        text: mrkdwn(
          `${SEVERITY_ICON[f.severity]} *${f.severity}* · \`${escapeMrkdwn(f.ruleId)}\` · ${escapeMrkdwn(f.resource)}\n` +
            `${escapeMrkdwn(f.message)}\n_Fix:_ ${escapeMrkdwn(f.fix)}`,
        ),
      });
    }
    if (content.moreFindings > 0) blocks.push({ type: "context", elements: [mrkdwn(`…and ${content.moreFindings} more new violation(s)`)] });
  }
  for (const note of content.notes) {
    blocks.push({ type: "section", text: mrkdwn(escapeMrkdwn(note)) });
  }
  blocks.push({ type: "context", elements: [mrkdwn(content.context.map(escapeMrkdwn).join(" · "))] });
  // Slack refuses more than 50 blocks; the context line is kept last.
  if (blocks.length > 50) blocks.splice(49, blocks.length - 50);
  return { text: content.subject, blocks };
}

const RETRYABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_SOCKET", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

/** The errno-style code at the bottom of a fetch failure ("fetch failed" ← connect ECONNREFUSED). */
function causeCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && !code.startsWith("slack_")) return code;
    current = current.cause;
  }
  return undefined;
}

/**
 * Retry-After as milliseconds: delay-seconds (RFC 9110) or an HTTP date (relative to `now`); null when
 * absent or unreadable (the delivery then backs off as for any retryable failure).
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | null {
  if (value === null || value === undefined) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return null; // "-1", "1.5": not a Retry-After
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** A webhook URL as it may be shown: scheme and host, the secret path redacted, and a short key telling two webhooks apart. */
export function redactWebhookUrl(webhookUrl: string): string {
  const key = createHash("sha256").update(webhookUrl).digest("hex").slice(0, 8);
  try {
    const url = new URL(webhookUrl);
    return `${url.protocol}//${url.host}/[redacted] (key ${key})`;
  } catch {
    return `[redacted] (key ${key})`;
  }
}

export class SlackSender implements Sender {
  readonly channel = "slack" as const;

  constructor(private readonly config: SlackNotificationConfig) {}

  secrets(): string[] {
    const secrets = [this.config.webhookUrl];
    try {
      const url = new URL(this.config.webhookUrl);
      // The path alone is the credential (https://hooks.slack.com/services/T…/B…/<token>).
      if (url.pathname.length > 1) secrets.push(url.pathname + url.search);
    } catch {
      // validated at load time; nothing more to hide
    }
    return secrets;
  }

  destination(): Destination {
    return { targets: this.config.channel ? [this.config.channel] : [], endpoint: redactWebhookUrl(this.config.webhookUrl) };
  }

  destinationKey(): string {
    // Slack rate-limits per webhook: the URL is the destination, and its hash is all that is stored.
    return `slack:${createHash("sha256").update(this.config.webhookUrl).digest("hex")}`;
  }

  async send(content: MessageContent, signal: AbortSignal): Promise<{ statusCode: number | null; response?: string }> {
    let statusCode: number | null = null;
    let retryAfter: string | null = null;
    const webhook = new IncomingWebhook(this.config.webhookUrl, {
      ...(this.config.channel ? { channel: this.config.channel } : {}),
      // Retries are ours (each attempt is recorded), and so is the timeout: the attempt's signal aborts the request.
      retryConfig: { retries: 0 },
      fetch: async (url, init) => {
        const response = await fetch(url, { ...init, signal });
        statusCode = response.status;
        retryAfter = response.headers.get("retry-after");
        return response;
      },
    });
    try {
      const result = await webhook.send(slackMessage(content));
      return { statusCode, ...(result.text ? { response: result.text.slice(0, 200) } : {}) };
    } catch (error) {
      if (signal.aborted && signal.reason instanceof DeliveryError) throw signal.reason;
      if (error instanceof IncomingWebhookHTTPError) {
        const status = error.statusCode;
        // 5xx is Slack (or a proxy) failing; 429 is a rate limit: both pass. Other 4xx (no_service, invalid_token) will not.
        const retryable = status >= 500 || status === 429;
        const body = typeof error.body === "string" && error.body ? `: ${error.body.slice(0, 200)}` : "";
        if (status === 429) {
          const retryAfterMs = parseRetryAfter(retryAfter);
          const wait = retryAfterMs === null ? "no Retry-After" : `Retry-After ${Math.round(retryAfterMs / 100) / 10} s`;
          throw new DeliveryError(`Slack rate-limited us (HTTP 429, ${wait})${body}`, { retryable, statusCode: status, retryAfterMs, pausesDestination: true, cause: error });
        }
        throw new DeliveryError(`Slack answered HTTP ${status}${body}`, { retryable, statusCode: status, cause: error });
      }
      if (error instanceof IncomingWebhookRequestError) {
        const code = causeCode(error.original);
        const retryable = code === undefined || RETRYABLE_CODES.has(code);
        throw new DeliveryError(`cannot reach the Slack webhook: ${code ?? error.original.message}`, { retryable, cause: error });
      }
      throw new DeliveryError(`Slack delivery failed: ${error instanceof Error ? error.message : String(error)}`, { retryable: false, cause: error });
    }
  }
}
