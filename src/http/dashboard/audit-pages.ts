// The audit log and notification history pages: GET filter forms, tables, details behind <details>
// (no JavaScript), every value through the escaping `html` template.
import { HISTORY_CHANNELS, HISTORY_KINDS, HISTORY_STATUSES, type HistoryAttempt, type HistoryEntry, type HistoryEvent } from "../../notify/history.js";
import { NOTIFICATION_EVENT_TYPES } from "../../notify/events.js";
import type { StoredAuditEntry } from "../../store/audit-store.js";
import { ALL_TOOLS } from "../../tools/index.js";
import { AUDIT_FILTER_PARAMS, AUDIT_MAX_PAGE_SIZE, AUDIT_PAGE_SIZE, NOTIFICATION_FILTER_PARAMS, type AuditPage, type NotificationsPage } from "./audit.js";
import { href, html, trusted, type HtmlValue, type SafeHtml } from "./html.js";
import { id, isoMinute, layout, table, when, type PageContext } from "./pages.js";

/** Actions worth suggesting: every tool, and what the command line records. */
const KNOWN_ACTIONS = [...ALL_TOOLS.map((t) => t.name), "audit_export", "audit_prune"].sort();
const KNOWN_OUTCOMES = ["ok", "error", "pass", "fail", "applied", "dry-run", "pending-approval", "rolled-back", "refused"];

const exact = (iso: string) => iso.replace("T", " ");

function timeCell(at: string, now: number): SafeHtml {
  return html`<time datetime="${at}" title="${isoMinute(at)}">${exact(at)}</time><br><span class="muted">${when(at, now)}</span>`;
}

function outcomeBadge(outcome: string): SafeHtml {
  const tone = outcome === "error" || outcome.startsWith("error:") || outcome === "failed" ? "st-error" : outcome === "ok" || outcome === "applied" || outcome === "pass" || outcome === "sent" ? "st-ok" : "";
  return html`<span class="status ${tone}">${outcome}</span>`;
}

function isolationNote(isolated: boolean, what: string): HtmlValue {
  if (!isolated) return "";
  return html`<div class="note-box" data-note="isolation">The configuration hides some namespaces (<code>namespaces.allow</code> / <code>namespaces.deny</code>): ${what} about them are not shown here${
    what === "entries" ? html`, nor in the downloads. The complete log is <code>kube-policy audit export</code> on the server's host` : ""
  }.</div>`;
}

function noStore(cluster: string): SafeHtml {
  return html`<div class="note-box" data-empty="true">There is no history database yet for cluster ${cluster}: nothing was recorded. Tool calls, scans and notifications create it.</div>`;
}

function textInput(name: string, label: string, value: string | undefined, options: { placeholder?: string; list?: string; short?: boolean } = {}): SafeHtml {
  return html`<label>${label}<input type="text" name="${name}" value="${value ?? ""}"${options.placeholder ? html` placeholder="${options.placeholder}"` : ""}${
    options.list ? html` list="${options.list}"` : ""
  }${options.short ? trusted(' class="short"') : ""}></label>`;
}

function selectInput(name: string, label: string, values: readonly string[], current: string | undefined, anyLabel: string): SafeHtml {
  return html`<label>${label}<select name="${name}"><option value="">${anyLabel}</option>${values.map(
    (v) => html`<option value="${v}"${v === current ? trusted(" selected") : ""}>${v}</option>`,
  )}</select></label>`;
}

// ---------------------------------------------------------------------------------------------
// Audit log

function resourceCell(e: StoredAuditEntry): HtmlValue {
  if (e.resource === null) return e.namespace === null ? html`<span class="muted">—</span>` : html`namespace ${e.namespace}`;
  const slash = e.resource.indexOf("/");
  if (e.namespace !== null && slash > 0 && slash < e.resource.length - 1) {
    const kind = e.resource.slice(0, slash);
    const name = e.resource.slice(slash + 1);
    return html`<a href="${href(["workloads", e.namespace, kind, name])}">${kind} ${e.namespace}/${name}</a>`;
  }
  return html`${e.namespace === null ? "" : `${e.namespace}/`}${e.resource}`;
}

function detailsCell(e: StoredAuditEntry): SafeHtml {
  const error = e.details.error as { message?: unknown } | undefined;
  const label = typeof error?.message === "string" ? error.message.slice(0, 80) : "details";
  return html`<details><summary>${label}</summary><pre>${JSON.stringify(e.details, null, 2)}</pre></details>`;
}

export function auditLogPage(model: AuditPage, ctx: PageContext): string {
  const { filters } = model;
  const keep: Record<string, string | number | undefined> = { ...filters.form };
  if (filters.limit !== AUDIT_PAGE_SIZE) keep.limit = filters.limit;
  const downloads = (format: "csv" | "jsonl") => href(["audit", `export.${format}`], { ...filters.form });
  const first = model.entries[0];
  const last = model.entries.at(-1);
  const filtered = AUDIT_FILTER_PARAMS.some((p) => filters.form[p] !== undefined);
  const body = html`<h1>Audit log</h1>
<p class="sub">Every evaluation and every change made through this server (tools over MCP and HTTP, the command line, downloads of this log), newest first. The log is append-only: entries leave it only through <code>kube-policy audit prune</code>, after an export holding them.</p>
${isolationNote(model.isolated, "entries")}
${model.store ? "" : noStore(model.cluster)}
<form class="filters" method="get" action="/audit" id="audit-filters">
${textInput("since", "Since (UTC)", filters.form.since, { placeholder: "2026-01-31", short: true })}
${textInput("until", "Until (UTC)", filters.form.until, { placeholder: "2026-01-31T18:00", short: true })}
${textInput("actor", "Actor", filters.form.actor, { placeholder: "http:ci, cli:alice" })}
${textInput("action", "Action", filters.form.action, { placeholder: "tool name", list: "audit-actions" })}
${textInput("namespace", "Namespace", filters.form.namespace, { placeholder: "all namespaces", short: true })}
${textInput("resource", "Resource", filters.form.resource, { placeholder: "Deployment/web", short: true })}
${textInput("outcome", "Outcome", filters.form.outcome, { placeholder: "ok, error, applied", list: "audit-outcomes", short: true })}
${textInput("rule", "Rule id", filters.form.rule, { placeholder: "run-as-non-root", short: true })}
<label>Per page<select name="limit">${[20, 50, 100, 200, AUDIT_MAX_PAGE_SIZE].map((n) => html`<option value="${n}"${n === filters.limit ? trusted(" selected") : ""}>${n}</option>`)}</select></label>
<button type="submit">Filter</button> <a href="/audit">Clear</a>
<datalist id="audit-actions">${KNOWN_ACTIONS.map((a) => html`<option value="${a}">`)}</datalist>
<datalist id="audit-outcomes">${KNOWN_OUTCOMES.map((o) => html`<option value="${o}">`)}</datalist>
</form>
<section class="panel">
<p class="sub"><strong data-metric="shown">${model.entries.length}</strong> entr${model.entries.length === 1 ? "y" : "ies"}${filtered ? " matching the filters" : ""}${
    first && last ? html` (ids ${last.id} to ${first.id})` : ""
  }${filters.before !== undefined ? html`, older than entry ${filters.before}` : ""}.
Download ${filtered ? "every matching entry" : "the whole log"}, oldest first, with the columns of <code>kube-policy audit export</code>:
<a data-download="csv" href="${downloads("csv")}">CSV</a> · <a data-download="jsonl" href="${downloads("jsonl")}">JSON Lines</a> (the download is recorded in this log).</p>
${table(
  ["id", "time", "actor", "action", "resource", "rules", "outcome", "details"],
  model.entries.map((e) => [
    html`<span class="id" data-entry="${e.id}">${e.id}</span>`,
    timeCell(e.time, ctx.now),
    html`<a href="${href(["audit"], { actor: e.actor })}">${e.actor}</a>`,
    html`<code>${e.action}</code>`,
    resourceCell(e),
    e.ruleIds.length > 0 ? html`${e.ruleIds.map((r, i) => html`${i ? ", " : ""}<a href="${href(["audit"], { rule: r })}">${r}</a>`)}` : "",
    outcomeBadge(e.outcome),
    detailsCell(e),
  ]),
  { id: "audit", empty: model.store ? (filtered || filters.before !== undefined ? "No entry matches these filters." : "The audit log is empty.") : "Nothing recorded yet." },
)}
${filters.before !== undefined || model.older !== null
  ? html`<nav class="pager">${filters.before !== undefined ? html`<a data-page="newest" href="${href(["audit"], keep)}">⇤ newest</a>` : ""}${
      model.older !== null ? html`<a data-page="older" href="${href(["audit"], { ...keep, before: model.older })}">older →</a>` : html`<span class="muted">the oldest matching entry is shown</span>`
    }</nav>`
  : ""}
</section>`;
  return layout("Audit log", "audit", model.cluster, ctx, body);
}

// ---------------------------------------------------------------------------------------------
// Notifications

const seconds = (ms: number | null) => (ms === null ? "" : ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`);

function eventText(e: HistoryEvent): SafeHtml {
  const where = e.resource ?? (e.namespaces.length > 0 ? `namespace${e.namespaces.length > 1 ? "s" : ""} ${e.namespaces.join(", ")}` : e.scope === "*" ? "whole cluster" : "");
  return html`<li><code>${e.type}</code>${e.scanId !== null ? html` scan #${e.scanId}` : ""}${where ? html` · ${where}` : ""}${e.ruleIds.length > 0 ? html` · ${e.ruleIds.join(", ")}` : ""}${
    e.severity ? html` · ${e.severity}` : ""
  }</li>`;
}

function attemptsTable(attempts: HistoryAttempt[], ctx: PageContext): SafeHtml {
  if (attempts.length === 0) return html`<span class="muted">no attempt yet</span>`;
  return table(
    ["#", "time", "outcome", "code", "answer / error", ["Retry-After", "num"], ["waited", "num"]],
    attempts.map((a) => [
      a.attempt,
      html`<time datetime="${a.startedAt}" title="${isoMinute(a.startedAt)}">${exact(a.startedAt)}</time>`,
      html`${outcomeBadge(a.outcome)}${a.retryable && a.outcome === "failed" ? html` <span class="muted">retryable</span>` : ""}`,
      a.statusCode === null ? "" : `${a.protocol === "http" ? "HTTP" : "SMTP"} ${a.statusCode}`,
      a.error ? html`<span class="down">${a.error}</span>` : (a.response ?? ""),
      seconds(a.retryAfterMs),
      a.waitMs === null ? "" : html`${seconds(a.waitMs)} <span class="muted">(${a.retryAfterMs !== null ? "Retry-After" : "backoff"})</span>`,
    ]),
  );
}

function destination(n: HistoryEntry): SafeHtml {
  if (!n.destination) return html`<span class="muted">not recorded</span>`;
  const targets = n.destination.targets.length > 0 ? n.destination.targets.join(", ") : "the webhook's channel";
  return html`${targets}<br><span class="muted">via <code>${n.destination.endpoint}</code></span>`;
}

export function notificationHistoryPage(model: NotificationsPage, ctx: PageContext): string {
  const { form, result } = model;
  const filtered = NOTIFICATION_FILTER_PARAMS.some((p) => form[p] !== undefined);
  const shown = result.notifications.length;
  const more = Math.min(500, model.limit + 50);
  const body = html`<h1>Notifications</h1>
<p class="sub">Alerts, digests and test messages sent or tried to Slack and e-mail, newest first, each with every delivery attempt: when, the outcome, the HTTP status or SMTP reply,
the error, the Retry-After Slack asked for and the wait that followed. Webhook URLs and SMTP credentials are redacted. Deduplicated events make no message and are not listed.</p>
${isolationNote(model.isolated, "messages")}
${model.store ? "" : noStore(model.cluster)}
<form class="filters" method="get" action="/notifications" id="notification-filters">
${selectInput("channel", "Channel", HISTORY_CHANNELS, form.channel, "any channel")}
${selectInput("status", "Status", HISTORY_STATUSES, form.status, "any status")}
${selectInput("eventType", "Event type", NOTIFICATION_EVENT_TYPES, form.eventType, "any event")}
${selectInput("kind", "Kind", HISTORY_KINDS, form.kind, "any kind")}
${textInput("to", "To", form.to, { placeholder: "#alerts, ops@example.com", short: true })}
${textInput("since", "Since (UTC)", form.since, { placeholder: "2026-01-31", short: true })}
${textInput("until", "Until (UTC)", form.until, { placeholder: "2026-01-31T18:00", short: true })}
<button type="submit">Filter</button> <a href="/notifications">Clear</a>
</form>
<section class="panel">
<p class="sub"><strong data-metric="shown">${shown}</strong> of <strong data-metric="total">${result.total}</strong> message(s)${filtered ? " matching the filters" : ""}.${
    model.channels.length === 0 ? html` <span class="muted">No channel is configured (<code>notifications.slack</code>, <code>notifications.email</code>).</span>` : ""
  }</p>
${table(
  ["#", "created", "channel", "status", "to", "message", "attempts"],
  result.notifications.map((n) => [
    html`<span class="id" data-notification="${n.id}">${n.id}</span>`,
    timeCell(n.createdAt, ctx.now),
    html`${n.channel}<br><span class="muted">${n.kind}</span>`,
    html`${outcomeBadge(n.status)}${n.finishedAt ? html`<br><span class="muted">${exact(n.finishedAt)}</span>` : ""}`,
    destination(n),
    html`${n.subject}${n.events.length > 0 ? html`<ul class="events">${n.events.map(eventText)}</ul>` : ""}${n.error ? html`<div class="down">${n.error}</div>` : ""}`,
    attemptsTable(n.attempts, ctx),
  ]),
  {
    id: "notifications",
    empty: !model.store
      ? "Nothing recorded yet."
      : result.total > 0
        ? "The newest matching messages are about namespaces this configuration hides: show more below."
        : filtered
          ? "No message matches these filters."
          : "No notification was sent or tried yet.",
  },
)}
${result.more
  ? html`<nav class="pager">${
      model.limit < 500
        ? html`<a data-page="more" href="${href(["notifications"], { ...form, limit: more })}">show ${more - model.limit} more</a>`
        : html`<span class="muted">${result.total - shown} more match: narrow the filters (until ${id(result.notifications.at(-1)!.createdAt)})</span>`
    }</nav>`
  : ""}
</section>`;
  return layout("Notifications", "notifications", model.cluster, ctx, body);
}
