// E-mail delivery with nodemailer over SMTP: an HTML part and a plain-text part with the same content.
// Host, port and TLS come from the configuration; the user and password only from the environment
// variables it names (smtp.userEnv / smtp.passwordEnv), read at send time. Neither value is logged or
// recorded: nodemailer's own logger stays off, and error texts are scrubbed before they are stored.
import nodemailer from "nodemailer";
import type { EmailNotificationConfig } from "../config/types.js";
import { SEVERITIES } from "../policy/types.js";
import type { MessageContent } from "./content.js";
import { DeliveryError, type Destination, type Sender } from "./delivery.js";

export const DEFAULT_FROM = "kube-policy@localhost";

export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

const SEVERITY_COLOUR = { critical: "#b42318", high: "#c4320a", medium: "#b54708", low: "#475467" } as const;

/** The plain-text part. */
export function emailText(content: MessageContent): string {
  const lines = [content.subject, "", content.headline, ""];
  for (const f of content.facts) lines.push(`${f.label}: ${f.value}`);
  if (content.severityCounts) {
    const counts = content.severityCounts;
    lines.push(`By severity: ${SEVERITIES.map((s) => `${counts[s]} ${s}`).join(", ")}`);
  }
  if (content.findings.length > 0) {
    lines.push("", "Top violations:");
    for (const f of content.findings) {
      lines.push(`- [${f.severity}] ${f.ruleId} on ${f.resource}`, `  ${f.message}`, `  Fix: ${f.fix}`);
    }
    if (content.moreFindings > 0) lines.push(`...and ${content.moreFindings} more new violation(s)`);
  }
  for (const note of content.notes) lines.push("", note);
  lines.push("", "--", content.context.join(" · "));
  return `${lines.join("\n")}\n`;
}

/** The HTML part: the same content as the text part, as a simple table-free document most clients render. */
export function emailHtml(content: MessageContent): string {
  const parts = [
    `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(content.subject)}</title></head>`,
    `<body style="font-family: -apple-system, Segoe UI, Helvetica, Arial, sans-serif; color: #101828; line-height: 1.4">`,
    `<h2 style="margin: 0 0 8px">${escapeHtml(content.subject)}</h2>`,
    `<p>${escapeHtml(content.headline)}</p>`,
  ];
  if (content.facts.length > 0) {
    parts.push(`<ul class="facts">${content.facts.map((f) => `<li><strong>${escapeHtml(f.label)}:</strong> ${escapeHtml(f.value)}</li>`).join("")}</ul>`);
  }
  if (content.severityCounts) {
    const counts = content.severityCounts;
    parts.push(
      `<p class="severities">By severity: ${SEVERITIES.map((s) => `<span style="color: ${SEVERITY_COLOUR[s]}">${counts[s]} ${s}</span>`).join(", ")}</p>`,
    );
  }
  if (content.findings.length > 0) {
    parts.push(`<h3>Top violations</h3><ol class="findings">`);
    for (const f of content.findings) {
      parts.push(
        `<li><strong style="color: ${SEVERITY_COLOUR[f.severity]}">${escapeHtml(f.severity)}</strong> <code>${escapeHtml(f.ruleId)}</code> on ${escapeHtml(f.resource)}` +
          `<br>${escapeHtml(f.message)}<br><em>Fix:</em> ${escapeHtml(f.fix)}</li>`,
      );
    }
    parts.push(`</ol>`);
    if (content.moreFindings > 0) parts.push(`<p>…and ${content.moreFindings} more new violation(s)</p>`);
  }
  for (const note of content.notes) parts.push(`<p style="white-space: pre-wrap">${escapeHtml(note)}</p>`);
  parts.push(`<hr><p style="color: #667085; font-size: 12px">${content.context.map(escapeHtml).join(" · ")}</p></body></html>`);
  return parts.join("\n");
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|::1|\[::1\])$/i;

// SMTP connection failures worth another attempt; authentication, envelope and configuration errors are not.
const RETRYABLE_CODES = new Set(["ECONNECTION", "ETIMEDOUT", "ESOCKET", "EDNS", "EABORT", "ECONNREFUSED", "ECONNRESET"]);

export class EmailSender implements Sender {
  readonly channel = "email" as const;

  constructor(
    private readonly config: EmailNotificationConfig,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** The credentials from the environment; a named variable that is unset is a configuration error, not an anonymous send. */
  private credentials(): { user: string; pass: string } | null {
    const smtp = this.config.smtp ?? {};
    if (!smtp.userEnv && !smtp.passwordEnv) return null;
    const missing = [
      ...(smtp.userEnv && !this.env[smtp.userEnv] ? [`${smtp.userEnv} (smtp.userEnv)`] : []),
      ...(smtp.passwordEnv && !this.env[smtp.passwordEnv] ? [`${smtp.passwordEnv} (smtp.passwordEnv)`] : []),
    ];
    if (!smtp.userEnv || !smtp.passwordEnv) {
      throw new DeliveryError("SMTP authentication needs both smtp.userEnv and smtp.passwordEnv", { retryable: false });
    }
    if (missing.length > 0) {
      throw new DeliveryError(`the environment variable(s) holding the SMTP credentials are not set: ${missing.join(", ")}`, { retryable: false });
    }
    return { user: this.env[smtp.userEnv]!, pass: this.env[smtp.passwordEnv]! };
  }

  secrets(): string[] {
    const smtp = this.config.smtp ?? {};
    return [smtp.passwordEnv && this.env[smtp.passwordEnv], smtp.userEnv && this.env[smtp.userEnv]].filter((v): v is string => typeof v === "string" && v !== "");
  }

  destination(): Destination {
    const smtp = this.config.smtp ?? {};
    // No user name: it is a credential too.
    return { targets: [...this.config.recipients], endpoint: `${smtp.secure ? "smtps" : "smtp"}://${smtp.host ?? "localhost"}${smtp.port !== undefined ? `:${smtp.port}` : ""}` };
  }

  destinationKey(): string {
    // nodemailer's default ports: 465 with TLS from the start, 587 otherwise.
    const smtp = this.config.smtp ?? {};
    return `smtp://${(smtp.host ?? "localhost").toLowerCase()}:${smtp.port ?? (smtp.secure ? 465 : 587)}`;
  }

  async send(content: MessageContent, signal: AbortSignal): Promise<{ statusCode: number | null; response?: string }> {
    const smtp = this.config.smtp ?? {};
    const auth = this.credentials();
    const host = smtp.host ?? "localhost";
    const timeout = { connectionTimeout: 30_000, greetingTimeout: 30_000, socketTimeout: 60_000 };
    const transport = nodemailer.createTransport({
      host,
      ...(smtp.port !== undefined ? { port: smtp.port } : {}),
      secure: smtp.secure ?? false,
      // Credentials over a network in clear text are refused unless the configuration insists.
      requireTLS: smtp.requireTLS ?? (auth !== null && !smtp.secure && !LOOPBACK.test(host)),
      ...(auth ? { auth } : {}),
      ...timeout,
      logger: false,
      debug: false,
    });
    try {
      const info = await transport.sendMail({
        from: this.config.from ?? DEFAULT_FROM,
        to: this.config.recipients,
        subject: content.subject,
        text: emailText(content),
        html: emailHtml(content),
        signal,
      });
      const response = typeof info.response === "string" ? info.response : "";
      const code = /^(\d{3})/.exec(response)?.[1];
      return { statusCode: code ? Number(code) : null, ...(response ? { response: response.slice(0, 200) } : {}) };
    } catch (error) {
      if (signal.aborted && signal.reason instanceof DeliveryError) throw signal.reason;
      const e = error as { code?: string; responseCode?: number; message?: string };
      const responseCode = typeof e.responseCode === "number" ? e.responseCode : null;
      // SMTP 4xx replies are transient by definition (try again later); 5xx are permanent.
      const retryable = responseCode !== null ? responseCode >= 400 && responseCode < 500 : RETRYABLE_CODES.has(e.code ?? "");
      throw new DeliveryError(`SMTP delivery to ${host} failed: ${e.code ? `${e.code} ` : ""}${e.message ?? String(error)}`, {
        retryable,
        statusCode: responseCode,
        // 421: the server as a whole asks us to come back later (other 4xx concern one message or mailbox).
        pausesDestination: responseCode === 421,
        cause: error,
      });
    } finally {
      transport.close();
    }
  }
}
