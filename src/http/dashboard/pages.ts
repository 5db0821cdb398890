// The dashboard's HTML: one function per page over the read model of data.ts, all markup made with the
// escaping `html` template. Pages work without JavaScript (numbers, tables, GET filter forms); the one
// inline script only submits a filter form when a select changes, and the CSP allows that script alone.
import { createHash } from "node:crypto";
import type { AppError } from "../../errors.js";
import { CATEGORIES, SEVERITIES } from "../../policy/types.js";
import { AUTOFIX_DEFINITION, otherResolutionsText, type AutoFixEfficiency } from "../../report/autofix.js";
import { trendSvg } from "../../report/formats/html.js";
import { CLUSTER_SCOPE, SCAN_STATUSES, scopeKey, type ScanRecord, type StoredFinding } from "../../store/scan-store.js";
import type { Empty, FindingRow, Fixes, Overview, Scans, Scope, Violations, WorkloadDetail } from "./data.js";
import { href, html, trusted, type HtmlValue, type SafeHtml } from "./html.js";

export interface PageContext {
  /** Signed in with the dashboard cookie: show the sign-out button. */
  session: boolean;
  now: number;
}

// ---------------------------------------------------------------------------------------------
// Layout

const SCRIPT = `document.querySelectorAll("form.auto select").forEach(function (s) {
  s.addEventListener("change", function () { if (s.form.requestSubmit) s.form.requestSubmit(); else s.form.submit(); });
});
document.querySelectorAll("form.auto button[type=submit]").forEach(function (b) { b.hidden = true; });`;

/** The Content-Security-Policy of every page: nothing from outside, and no script but the one above. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "style-src 'unsafe-inline'",
  "img-src data:",
  `script-src 'sha256-${createHash("sha256").update(SCRIPT).digest("base64")}'`,
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

const CSS = `
:root { --ink: #1f2d3d; --muted: #6b7785; --line: #e3e8ee; --bg: #f5f7fa; --accent: #2457c5; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
header.top { background: var(--ink); color: #fff; display: flex; align-items: center; gap: 1.5rem; padding: 0.6rem 1.5rem; flex-wrap: wrap; }
header.top .brand { color: #fff; font-weight: 700; font-size: 1.05rem; }
header.top nav { display: flex; gap: 0.2rem; }
header.top nav a { color: #cfd8e3; padding: 0.3rem 0.7rem; border-radius: 4px; }
header.top nav a.active, header.top nav a:hover { background: rgba(255,255,255,0.12); color: #fff; text-decoration: none; }
header.top .cluster { margin-left: auto; color: #cfd8e3; }
header.top form { margin: 0; } header.top button { background: none; border: 1px solid #5c6b7a; color: #cfd8e3; border-radius: 4px; padding: 0.2rem 0.6rem; cursor: pointer; }
main { max-width: 1240px; margin: 0 auto; padding: 1.2rem 1.5rem 2rem; }
h1 { font-size: 1.45rem; margin: 0.2rem 0 0.3rem; } h2 { font-size: 1.05rem; margin: 0 0 0.6rem; }
.sub { color: var(--muted); margin: 0 0 1rem; }
.muted { color: var(--muted); }
section.panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.1rem; margin: 0 0 1rem; overflow-x: auto; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 1rem; }
.grid > section.panel { margin: 0; } .grid + .grid, .grid + section.panel, section.panel + .grid { margin-top: 1rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 1rem; margin: 0 0 1rem; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 0.8rem 1rem; }
.card .label { color: var(--muted); font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.04em; }
.card .value { font-size: 1.9rem; font-weight: 650; line-height: 1.2; margin: 0.15rem 0; }
.card .note { color: var(--muted); font-size: 0.85rem; }
.card.score { border-top: 4px solid var(--muted); } .card.good { border-top-color: #15803d; } .card.fair { border-top-color: #d97706; } .card.poor { border-top-color: #b91c1c; }
.good .value { color: #15803d; } .fair .value { color: #b45309; } .poor .value { color: #b91c1c; }
.up { color: #15803d; } .down { color: #b91c1c; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.35rem 0.55rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 0.78rem; text-transform: uppercase; letter-spacing: 0.03em; color: var(--muted); font-weight: 600; background: #fafbfc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:hover { background: #f8fafc; }
tr.failed td { background: #fff5f5; }
code { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f1f4f8; padding: 0.05rem 0.3rem; border-radius: 3px; }
td code { word-break: break-all; } .id, time { white-space: nowrap; }
pre { background: #f1f4f8; padding: 0.6rem 0.8rem; border-radius: 6px; overflow-x: auto; font: 12px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.sev { display: inline-block; padding: 0.05rem 0.45rem; border-radius: 10px; font-size: 0.75rem; font-weight: 600; text-transform: uppercase; }
.sev-critical { background: #fee2e2; color: #991b1b; } .sev-high { background: #ffedd5; color: #9a3412; }
.sev-medium { background: #fef9c3; color: #854d0e; } .sev-low { background: #dbeafe; color: #1e40af; }
.status { display: inline-block; padding: 0.05rem 0.45rem; border-radius: 10px; font-size: 0.75rem; font-weight: 600; }
.st-succeeded, .st-applied, .st-approved { background: #dcfce7; color: #166534; } .st-failed, .st-rejected { background: #fee2e2; color: #991b1b; }
.st-running, .st-pending { background: #e0e7ff; color: #3730a3; } .st-rolled-back, .st-stale, .st-obsolete, .st-rollback { background: #f1f5f9; color: #475569; }
.bar { display: inline-block; width: 90px; height: 8px; background: #edf0f4; border-radius: 4px; vertical-align: middle; margin-right: 0.4rem; overflow: hidden; }
.bar > span { display: block; height: 100%; background: #2f9e6b; }
.alert { background: #fff4e5; border: 1px solid #f6c177; border-radius: 8px; padding: 0.7rem 1rem; margin: 0 0 1rem; }
.alert.error { background: #fff1f1; border-color: #f3a5a5; }
.note-box { background: #eef4ff; border: 1px solid #c7d7fb; border-radius: 8px; padding: 0.6rem 1rem; margin: 0 0 1rem; }
form.filters { display: flex; flex-wrap: wrap; gap: 0.6rem 1rem; align-items: end; margin: 0 0 1rem; }
form.filters label { display: flex; flex-direction: column; font-size: 0.78rem; color: var(--muted); gap: 0.2rem; }
select, input[type=text], input[type=password] { font: inherit; padding: 0.3rem 0.4rem; border: 1px solid #c9d2dc; border-radius: 4px; background: #fff; min-width: 10rem; }
button { font: inherit; padding: 0.32rem 0.9rem; border-radius: 4px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
.pager { display: flex; gap: 1rem; margin-top: 0.7rem; }
figure { margin: 0; } figure svg { width: 100%; max-width: 980px; height: auto; }
td.nowrap { white-space: nowrap; }
.hint { font-size: 0.85rem; } .hint .how { color: var(--muted); }
.crumbs { color: var(--muted); margin-bottom: 0.2rem; }
details > summary { cursor: pointer; color: var(--accent); } details pre { margin: 0.4rem 0 0; max-width: 60rem; white-space: pre-wrap; word-break: break-all; }
.st-ok, .st-sent { background: #dcfce7; color: #166534; } .st-error { background: #fee2e2; color: #991b1b; } .st-retrying { background: #fef9c3; color: #854d0e; }
input[type=text].short { min-width: 7rem; width: 9rem; }
footer { max-width: 1240px; margin: 0 auto; padding: 0 1.5rem 2rem; color: var(--muted); font-size: 0.8rem; }
`;

export type Section = "overview" | "violations" | "fixes" | "scans" | "audit" | "notifications" | "none";

export function layout(title: string, active: Section, cluster: string | null, ctx: PageContext, body: HtmlValue): string {
  const nav = (section: Section, path: string, label: string) => html`<a href="${path}"${section === active ? trusted(' class="active" aria-current="page"') : ""}>${label}</a>`;
  const page = html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title} · kube-policy</title>
<style>${trusted(CSS)}</style>
</head>
<body>
<header class="top">
<a class="brand" href="/">kube-policy</a>
<nav>${nav("overview", "/", "Overview")}${nav("violations", "/violations", "Violations")}${nav("fixes", "/fixes", "Fixes")}${nav("scans", "/scans", "Scans")}${nav("audit", "/audit", "Audit log")}${nav("notifications", "/notifications", "Notifications")}</nav>
${cluster === null ? "" : html`<span class="cluster">cluster <strong>${cluster}</strong></span>`}
${ctx.session ? html`<form method="post" action="/logout"><button type="submit">Sign out</button></form>` : ""}
</header>
<main>
${body}
</main>
<footer>kube-policy-mcp · pages rendered ${isoMinute(ctx.now)} from the local scan history; nothing here is fetched from outside this server.</footer>
<script>${trusted(SCRIPT)}</script>
</body>
</html>
`;
  return page.value;
}

// ---------------------------------------------------------------------------------------------
// Small formatters

export function isoMinute(at: number | string | null): string {
  if (at === null) return "";
  const d = new Date(at);
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

export function when(at: number | string | null, now: number): SafeHtml {
  if (at === null) return html`<span class="muted">never</span>`;
  const ms = typeof at === "number" ? at : Date.parse(at);
  return html`<time datetime="${new Date(ms).toISOString()}" title="${isoMinute(ms)}">${ago(ms, now)}</time>`;
}

function ago(ms: number, now: number): string {
  const s = Math.round((now - ms) / 1000);
  if (s < 0) return isoMinute(ms);
  if (s < 90) return "just now";
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

const pct = (n: number | null | undefined) => (n === null || n === undefined ? "n/a" : `${Math.round(n * 10) / 10}%`);
const tone = (n: number | null) => (n === null ? "" : n >= 90 ? "good" : n >= 70 ? "fair" : "poor");
const duration = (ms: number | null) => (ms === null ? "" : ms < 1000 ? `${ms} ms` : ms < 120_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60_000)} min`);

function sev(severity: string): SafeHtml {
  const known = (SEVERITIES as readonly string[]).includes(severity);
  return html`<span class="sev${known ? ` sev-${severity}` : ""}">${severity}</span>`;
}

export function id(value: string): SafeHtml {
  return html`<span class="id">${value}</span>`;
}

function status(label: string): SafeHtml {
  return html`<span class="status st-${label.replace(/[^a-z-]/g, "")}">${label}</span>`;
}

function bar(percent: number | null): SafeHtml {
  if (percent === null) return html`<span class="bar"></span>`;
  const width = Math.max(0, Math.min(100, percent));
  return html`<span class="bar" aria-hidden="true"><span style="width:${width}%"></span></span>`;
}

function scopeLabel(scan: ScanRecord): string {
  return scan.namespaces ? `namespace${scan.namespaces.length > 1 ? "s" : ""} ${scan.namespaces.join(", ")}` : "whole cluster";
}

/** The audit page filtered to one workload's entries (namespace and Kind/name, as the audit log records them). */
export function auditHref(w: { namespace: string; kind: string; name: string }): string {
  return href(["audit"], { namespace: w.namespace, resource: `${w.kind}/${w.name}` });
}

function workloadLink(w: { namespace: string; kind: string; name: string }): SafeHtml {
  return html`<a href="${href(["workloads", w.namespace, w.kind, w.name])}">${w.kind} ${w.namespace}/${w.name}</a>`;
}

export function table(headers: (string | [string, "num"])[], rows: HtmlValue[][], options: { id?: string; empty?: string; rowClass?: (i: number) => string } = {}): SafeHtml {
  if (rows.length === 0) return html`<p class="muted">${options.empty ?? "None."}</p>`;
  const head = headers.map((h) => (Array.isArray(h) ? html`<th class="num">${h[0]}</th>` : html`<th>${h}</th>`));
  const numeric = headers.map((h) => Array.isArray(h));
  // Numbers and bars stay on one line: a wrapped "85.7%" under its bar reads as two values.
  const body = rows.map((r, i) => {
    const cls = options.rowClass?.(i) ?? "";
    return html`<tr${cls ? html` class="${cls}"` : ""}>${r.map((c, j) => (numeric[j] ? html`<td class="num nowrap">${c}</td>` : html`<td>${c}</td>`))}</tr>`;
  });
  return html`<table${options.id ? html` id="${options.id}"` : ""}><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function sourceLine(scope: Scope, ctx: PageContext): SafeHtml {
  const s = scope.latest;
  return html`<p class="sub">Scope: <strong>${scope.namespace === null ? "whole cluster" : `namespace ${scope.namespace}`}</strong> · latest scan
<a href="${href(["scans"])}">#${s.id}</a> “${s.name}” (${scopeLabel(s)}) finished ${when(s.finishedAt, ctx.now)}${s.durationMs === null ? "" : ` in ${duration(s.durationMs)}`}</p>`;
}

function scopeForm(action: string, scope: Scope): SafeHtml {
  return html`<form class="filters auto" method="get" action="${action}">
<label>Namespace<select name="namespace">
${scope.hasClusterSeries ? html`<option value=""${scope.namespace === null ? trusted(" selected") : ""}>whole cluster</option>` : ""}
${scope.namespaces.map((ns) => html`<option value="${ns}"${ns === scope.namespace ? trusted(" selected") : ""}>${ns}</option>`)}
</select></label>
<button type="submit">Show</button>
</form>`;
}

function defaultedNote(scope: Scope): HtmlValue {
  if (!scope.defaulted) return "";
  return html`<div class="note-box">No whole-cluster scan is stored, only scans of some namespaces: showing namespace <strong>${scope.namespace}</strong>. Pick another namespace above, or run a whole-cluster scan (<code>kube-policy scan</code>).</div>`;
}

// ---------------------------------------------------------------------------------------------
// Pages

export function emptyPage(model: Empty, ctx: PageContext): string {
  const body = html`<h1>No compliance scan stored yet</h1>
<p class="sub" data-empty="true">${model.store ? `The history database has no succeeded scan of cluster ${model.cluster}.` : `There is no history database yet for cluster ${model.cluster}.`}
The dashboard shows what scans stored; it never evaluates the cluster itself.</p>
<section class="panel"><h2>Run a first scan</h2>
<p>From a terminal, with the same configuration and cluster as this server:</p>
<pre>kube-policy scan                          # the whole cluster
kube-policy scan --namespace production   # one namespace</pre>
<p>Or through the API or an assistant, with the <code>run_compliance_scan</code> tool:</p>
<pre>curl -X POST http://localhost:3000/tools/run_compliance_scan -H 'Authorization: Bearer …' -d '{}'</pre>
<p>For a history that keeps itself up to date, configure scheduled scans (<code>scans</code> in the policy configuration), then reload this page.</p>
</section>
${model.failed.length > 0 ? html`<section class="panel"><h2>Scans that failed</h2>${scanTable(model.failed, ctx)}</section>` : ""}
${model.otherClusters.length > 0 ? html`<section class="panel"><h2>Other clusters in this history</h2><p>Scans are stored for ${model.otherClusters.join(", ")}; a kube-policy server pointed at that cluster shows them.</p></section>` : ""}`;
  return layout("No scan yet", "overview", model.cluster, ctx, body);
}

export function overviewPage(model: Overview, ctx: PageContext): string {
  const { scope, score, totals, trend } = model;
  const change = score.latest !== null && score.previous !== null ? Math.round((score.latest - score.previous) * 10) / 10 : null;
  const delta =
    change === null
      ? html`<span class="muted">first scan in the window</span>`
      : change === 0
        ? html`<span class="muted">no change since the previous scan</span>`
        : html`<span class="${change > 0 ? "up" : "down"}">${change > 0 ? "▲ +" : "▼ "}${change} points</span> since the previous scan`;
  const failing = model.failing.length
    ? html`<div class="alert error" data-alert="failed-scans"><strong>${model.failing.length === 1 ? "A scan failed" : `${model.failing.length} scans failed`}:</strong>
${model.failing.map((s) => html` “${s.name}” at ${isoMinute(s.finishedAt)} (${s.reason ?? s.errorCode ?? "no reason recorded"});`)}
the numbers below come from the last scan that succeeded. <a href="${href(["scans"], { status: "failed" })}">Failed scans</a></div>`
    : "";
  const trendSection = trend
    ? html`<section class="panel" id="trend"><h2>Compliance score over time</h2>
<p class="sub"><span data-metric="trend-scans">${trend.scans.succeeded}</span> scan(s) in the last ${trend.window.days} days${trend.scans.failed ? html`, <a href="${href(["scans"], { status: "failed" })}">${trend.scans.failed} failed</a>` : ""}:
${pct(trend.score.first)} → <strong>${pct(trend.score.latest)}</strong>${trend.score.change === null ? "" : ` (${trend.score.change > 0 ? "+" : ""}${trend.score.change} points)`}.
Bars: findings new (up) and resolved (down) per scan.</p>
<figure>${trusted(trendSvg(trend))}</figure>
</section>`
    : html`<section class="panel" id="trend"><h2>Compliance score over time</h2><p class="muted">No succeeded scan in the last ${scope.days} days; the numbers above come from scan #${scope.latest.id}.</p></section>`;

  const body = html`<h1>Compliance overview</h1>
${sourceLine(scope, ctx)}
${scopeForm("/", scope)}
${defaultedNote(scope)}
${failing}
<div class="cards">
<div class="card score ${tone(score.latest)}"><div class="label">Compliance score</div><div class="value" data-metric="score">${pct(score.latest)}</div><div class="note">${delta}</div></div>
<div class="card"><div class="label">Open findings</div><div class="value" data-metric="open">${totals.open}</div><div class="note">${SEVERITIES.map((s, i) => html`${i ? " · " : ""}<a href="${href(["violations"], { namespace: scope.namespace, severity: s })}">${totals.bySeverity[s]} ${s}</a>`)}</div></div>
<div class="card"><div class="label">Failing workloads</div><div class="value" data-metric="workloads-failed">${totals.workloadsFailed}</div><div class="note">of <span data-metric="workloads">${totals.workloads}</span> evaluated</div></div>
<div class="card"><div class="label">Failing rules</div><div class="value" data-metric="failing-rules">${totals.failingRules}</div><div class="note"><a href="${href(["violations"], { namespace: scope.namespace })}">all violations</a></div></div>
${autoFixCard(model.autoFix, scope.days)}
<div class="card"><div class="label">Latest scan</div><div class="value">${when(scope.latest.finishedAt, ctx.now)}</div><div class="note">#${scope.latest.id} “${scope.latest.name}”</div></div>
</div>
${trendSection}
${autoFixSection(model.autoFix, scope.days)}
<div class="grid">
<section class="panel" id="categories"><h2>By category</h2>${table(
    ["category", ["score", "num"], ["rules passed", "num"], ["rules failing", "num"], ["open findings", "num"]],
    model.categories.map((c) => [
      html`<a href="${href(["violations"], { namespace: scope.namespace, category: c.key })}">${c.key}</a>`,
      html`${bar(c.percent)}<span data-category-score="${c.key}">${pct(c.percent)}</span>`,
      c.passed,
      c.failed,
      c.open,
    ]),
  )}</section>
<section class="panel" id="severities"><h2>By severity</h2>${table(
    ["severity", ["failing rules", "num"], ["open findings", "num"]],
    model.severities.map((s) => [
      html`<a href="${href(["violations"], { namespace: scope.namespace, severity: s.severity })}">${sev(s.severity)}</a>`,
      s.rules,
      html`<span data-severity-open="${s.severity}">${s.open}</span>`,
    ]),
  )}</section>
</div>
<section class="panel" id="frameworks"><h2>By framework</h2><p class="sub">Controls passing of those judged; frameworks the organisation follows first.</p>${table(
    ["framework", ["controls passing", "num"], ["passed", "num"], ["failing", "num"], ""],
    model.frameworks.map((f) => [
      html`<a href="${href(["violations"], { namespace: scope.namespace, framework: f.key })}">${f.key}</a>`,
      html`${bar(f.percent)}<span data-framework-score="${f.key}">${pct(f.percent)}</span>`,
      f.passed,
      f.failed,
      f.followed ? html`<span class="muted">followed</span>` : "",
    ]),
    { empty: "No framework scores in this scan." },
  )}</section>
<div class="grid">
<section class="panel" id="top-rules"><h2>Top failing rules</h2>${table(
    ["rule", "severity", "category", ["findings", "num"], ["workloads", "num"]],
    model.topRules.map((r) => [
      html`<a href="${href(["violations"], { namespace: scope.namespace, rule: r.ruleId })}" title="${r.title}">${r.ruleId}</a>`,
      sev(r.severity),
      r.category,
      r.open,
      r.workloads,
    ]),
    { empty: "No rule is failing." },
  )}</section>
<section class="panel" id="top-workloads"><h2>Top failing workloads</h2>${table(
    ["workload", ["critical", "num"], ["high", "num"], ["all findings", "num"]],
    model.topWorkloads.map((w) => [workloadLink(w), w.bySeverity.critical, w.bySeverity.high, w.open]),
    { empty: "No workload has an open finding." },
  )}</section>
</div>
${scope.namespace === null && model.namespaceScores.length > 0
    ? html`<section class="panel" id="namespaces"><h2>Namespaces</h2>${table(
        ["namespace", ["score", "num"], ["open findings", "num"], ["failing workloads", "num"]],
        model.namespaceScores.map((n) => [
          html`<a href="${href([], { namespace: n.namespace })}">${n.namespace}</a>`,
          html`${bar(n.percent)}${pct(n.percent)}`,
          n.open,
          `${n.workloadsFailed} of ${n.workloads}`,
        ]),
      )}</section>`
    : ""}`;
  return layout("Overview", "overview", scope.cluster, ctx, body);
}

function autoFixCard(e: AutoFixEfficiency | null, days: number): SafeHtml {
  const note =
    e === null
      ? html`no scan in the last ${days} days`
      : e.percent === null
        ? html`no violation open in the last ${e.window.days} days`
        : html`<span data-metric="autofix-auto">${e.autoRemediated}</span> of <span data-metric="autofix-violations">${e.violations}</span> in ${e.window.days} days`;
  return html`<div class="card"><div class="label">Auto-fix efficiency</div><div class="value" data-metric="autofix-percent">${e === null || e.percent === null ? "no data" : pct(e.percent)}</div><div class="note">${note}</div></div>`;
}

function autoFixSection(e: AutoFixEfficiency | null, days: number): SafeHtml {
  const head = html`<h2>Auto-fix efficiency</h2>`;
  if (e === null) return html`<section class="panel" id="autofix">${head}<p class="muted" data-autofix="no-data">No data: no succeeded scan of this scope in the last ${days} days.</p></section>`;
  const h = e.headroom;
  const others = otherResolutionsText(e);
  return html`<section class="panel" id="autofix">${head}
<p class="sub" title="${AUTOFIX_DEFINITION}">Of the violations open at some point in the last ${e.window.days} days, those a fix applied by kube-policy remediated
(same workload and rule, applied after the last scan that still saw the violation and before the scan that saw it resolved, not rolled back).</p>
${table(
  ["violations in the period", ["count", "num"], ["share", "num"]],
  [
    ["auto-remediated by kube-policy", html`<span data-autofix="auto">${e.autoRemediated}</span>`, html`<span data-autofix="percent">${e.percent === null ? "no data" : pct(e.percent)}</span>`],
    [html`resolved otherwise${others ? html` <span class="muted">(${others})</span>` : ""}`, html`<span data-autofix="otherwise">${e.resolvedOtherwise}</span>`, pct(percentOfTotal(e.resolvedOtherwise, e.violations))],
    ["still open", html`<span data-autofix="open">${e.stillOpen}</span>`, pct(percentOfTotal(e.stillOpen, e.violations))],
    [html`<strong>open at some point</strong>`, html`<strong data-autofix="violations">${e.violations}</strong>`, ""],
  ],
)}
<p>Fixes applied by kube-policy in the period: <strong data-autofix="fixes-applied">${e.fixes.applied}</strong>${e.fixes.rolledBack ? html`, <span data-autofix="fixes-rolled-back">${e.fixes.rolledBack}</span> of them rolled back (not counted)` : ""}.
<a href="/fixes">Fix history</a></p>
<p>Headroom: <strong data-autofix="headroom-auto">${h.autoFixable}</strong> of the <span data-autofix="headroom-open">${h.open}</span> open violation(s) can be fixed on request under the current configuration${h.percent === null ? "" : ` (${pct(h.percent)})`};
${h.needsApproval} need an approval, ${h.manual} have no automatic fix.${h.rules.length ? html` Rules: ${h.rules.slice(0, 8).map((r, i) => html`${i ? ", " : ""}<a href="${href(["violations"], { namespace: e.scope.namespace, rule: r.ruleId })}">${r.ruleId}</a> (${r.open})`)}` : ""}</p>
</section>`;
}

const percentOfTotal = (part: number, whole: number) => (whole === 0 ? null : Math.round((part / whole) * 1000) / 10);

function fixHint(row: FindingRow): SafeHtml {
  const h = row.hint;
  const automatic = h.fixRisk
    ? h.approval
      ? html`Automatic fix (${h.fixRisk} risk) after an approval: ${h.approval}.`
      : html`Automatic fix (${h.fixRisk} risk) applies on request.`
    : html`No automatic fix: change the manifest.`;
  return html`<div class="hint">${h.remediation}<div class="how">${automatic}</div></div>`;
}

function findingNote(f: StoredFinding): HtmlValue {
  if (f.resolvedAt === null && f.lastSeenAt !== null) return html` <span class="muted" title="the latest scan could not judge this finding (missing facts or permissions); it stays open">(not re-checked since ${isoMinute(f.lastSeenAt)})</span>`;
  return "";
}

export function violationsPage(model: Violations, ctx: PageContext): string {
  const { scope, filters, options } = model;
  const select = (name: string, label: string, values: readonly string[], current: string | null | undefined, anyLabel: string | null) =>
    html`<label>${label}<select name="${name}">${anyLabel === null ? "" : html`<option value="">${anyLabel}</option>`}${values.map(
      (v) => html`<option value="${v}"${v === current ? trusted(" selected") : ""}>${v}</option>`,
    )}</select></label>`;
  const pages = Math.max(1, Math.ceil(model.total / model.pageSize));
  const keep = { namespace: filters.namespace, severity: filters.severity, category: filters.category, framework: filters.framework, rule: filters.rule };
  const first = (filters.page - 1) * model.pageSize + 1;
  const body = html`<h1>Violations</h1>
${sourceLine(scope, ctx)}
${defaultedNote(scope)}
<form class="filters" method="get" action="/violations" id="filters">
${select("namespace", "Namespace", options.namespaces, filters.namespace, scope.hasClusterSeries ? "all namespaces" : null)}
${select("severity", "Severity", SEVERITIES, filters.severity, "any severity")}
${select("category", "Category", CATEGORIES, filters.category, "any category")}
${select("framework", "Framework", options.frameworks, filters.framework, "any framework")}
${select("rule", "Rule", options.rules, filters.rule, "any rule")}
<button type="submit">Filter</button> <a href="/violations">Clear</a>
</form>
<section class="panel">
<p class="sub"><strong data-metric="matching">${model.total}</strong> open finding(s) match${model.total > model.pageSize ? `; showing ${first} to ${Math.min(model.total, filters.page * model.pageSize)}` : ""}.</p>
${table(
  ["severity", "rule", "category", "workload", "field", "message", "first seen"],
  model.rows.map((f) => [
    sev(f.severity),
    html`<span title="${f.hint.title}">${f.ruleId}</span>`,
    f.category,
    workloadLink(f),
    f.pointer ? html`<code>${f.pointer}</code>` : "",
    html`${f.message}${findingNote(f)}`,
    when(f.firstSeenAt, ctx.now),
  ]),
  { id: "violations", empty: "No open finding matches these filters." },
)}
${pages > 1
  ? html`<nav class="pager">${filters.page > 1 ? html`<a href="${href(["violations"], { ...keep, page: filters.page - 1 })}">← previous</a>` : ""}<span class="muted">page ${filters.page} of ${pages}</span>${filters.page < pages ? html`<a href="${href(["violations"], { ...keep, page: filters.page + 1 })}">next →</a>` : ""}</nav>`
  : ""}
</section>`;
  return layout("Violations", "violations", scope.cluster, ctx, body);
}

function fixCommand(w: { namespace: string; kind: string; name: string }): string {
  return w.kind === "Deployment"
    ? `POST /tools/auto_fix_policy_violations  {"namespace": ${JSON.stringify(w.namespace)}, "deployment": ${JSON.stringify(w.name)}, "dryRun": true}`
    : `POST /tools/fix_workload  {"namespace": ${JSON.stringify(w.namespace)}, "kind": ${JSON.stringify(w.kind)}, "name": ${JSON.stringify(w.name)}, "dryRun": true}`;
}

function changeState(c: { action: string; rolledBackBy: string | null; rollbackOf: string | null }): SafeHtml {
  if (c.rolledBackBy) return html`${status("rolled-back")} <span class="muted">by ${c.rolledBackBy}</span>`;
  if (c.action === "rollback") return html`${status("rollback")} <span class="muted">of ${c.rollbackOf ?? "?"}</span>`;
  return status("applied");
}

function patchPaths(patch: { op: string; path: string }[]): SafeHtml {
  // Paths only: values can carry whatever the workload's spec holds, and the page shows no object content.
  const ops = patch.filter((p) => p.op !== "test");
  return html`${ops.slice(0, 6).map((p, i) => html`${i ? html`<br>` : ""}<code>${p.op} ${p.path}</code>`)}${ops.length > 6 ? html`<br><span class="muted">… ${ops.length - 6} more</span>` : ""}`;
}

export function workloadPage(model: WorkloadDetail, ctx: PageContext): string {
  const w = model.workload;
  const fixable = model.open.some((f) => f.hint.fixRisk !== null);
  const critical = model.open.filter((f) => f.severity === "critical" || f.severity === "high").length;
  const body = html`<div class="crumbs"><a href="/">Overview</a> › <a href="${href([], { namespace: w.namespace })}">${w.namespace}</a> › ${w.kind}</div>
<h1 data-workload="${w.kind}/${w.namespace}/${w.name}">${w.kind} ${w.namespace}/${w.name}</h1>
${sourceLine(model.scope, ctx)}
<p class="sub"><a data-link="audit" href="${auditHref(w)}">Audit log of this workload</a>: every evaluation, fix, approval and rollback recorded for it.</p>
<div class="cards">
<div class="card"><div class="label">Open findings</div><div class="value" data-metric="open">${model.open.length}</div></div>
<div class="card"><div class="label">Critical or high</div><div class="value">${critical}</div></div>
<div class="card"><div class="label">Waiting for approval</div><div class="value">${model.pending.filter((p) => p.status === "pending").length}</div></div>
<div class="card"><div class="label">Changes recorded</div><div class="value">${model.changes.length}</div></div>
</div>
<section class="panel"><h2>Open findings and how to fix them</h2>${table(
    ["severity", "rule", "field", "message", "first seen", "fix"],
    model.open.map((f) => [sev(f.severity), html`<span title="${f.hint.title}">${f.ruleId}</span>`, f.pointer ? html`<code>${f.pointer}</code>` : "", html`${f.message}${findingNote(f)}`, when(f.firstSeenAt, ctx.now), fixHint(f)]),
    { id: "findings", empty: "The latest scan found nothing open on this workload (or never saw it)." },
  )}
${fixable ? html`<p>Preview the automatic fixes (a server-side dry run changes nothing), then apply without <code>dryRun</code>:</p><pre>${fixCommand(w)}</pre>` : ""}
</section>
<section class="panel"><h2>Proposed fixes</h2>${table(
    ["id", "rule", "severity", "risk", "why an approval", "status", "proposed"],
    model.pending.map((p) => [id(p.id), p.ruleId, sev(p.severity), p.risk, p.reason, status(p.status), when(p.createdAt, ctx.now)]),
    { empty: "No fix proposed for this workload." },
  )}</section>
<section class="panel"><h2>Change history</h2>${table(
    ["change", "when", "action", "by", "rules", "patch", "state"],
    model.changes.map((c) => [id(c.id), when(c.createdAt, ctx.now), c.action, c.actor, c.ruleIds.join(", "), patchPaths(c.patch), changeState(c)]),
    { empty: "No fix was applied to this workload." },
  )}</section>
<section class="panel"><h2>Resolved findings</h2>${table(
    ["severity", "rule", "field", "resolved", "how", "open since"],
    model.resolved.map((f) => [sev(f.severity), f.ruleId, f.pointer ? html`<code>${f.pointer}</code>` : "", when(f.resolvedAt, ctx.now), f.resolution ?? "", isoMinute(f.firstSeenAt)]),
    { empty: "None resolved in the stored history." },
  )}</section>`;
  return layout(`${w.kind} ${w.namespace}/${w.name}`, "none", model.scope.cluster, ctx, body);
}

export function fixesPage(model: Fixes, ctx: PageContext): string {
  const body = html`<h1>Fixes</h1>
<p class="sub">Fixes waiting for an approval and every change the fix tools made, with its rollback state. Approve, reject or roll back with the
<code>approve_fix</code>, <code>reject_fix</code> and <code>rollback_fix</code> tools.</p>
<form class="filters" method="get" action="/fixes"><label>Namespace<input type="text" name="namespace" value="${model.namespace ?? ""}" placeholder="all namespaces" pattern="[a-z0-9]([-a-z0-9]*[a-z0-9])?"></label><button type="submit">Filter</button> <a href="/fixes">Clear</a></form>
<section class="panel"><h2>Proposed fixes</h2>${table(
    ["id", "workload", "rule", "severity", "risk", "why an approval", "status", "proposed", "decided"],
    model.pending.map((p) => [
      id(p.id),
      html`${workloadLink(p)} <a class="muted" data-link="audit" href="${auditHref(p)}">audit</a>`,
      p.ruleId,
      sev(p.severity),
      p.risk,
      p.reason,
      status(p.status),
      when(p.createdAt, ctx.now),
      p.decidedAt ? html`${when(p.decidedAt, ctx.now)} <span class="muted">by ${p.decidedBy ?? "?"}</span>` : "",
    ]),
    { id: "pending", empty: "No fix was proposed for an approval." },
  )}</section>
<section class="panel"><h2>Changes made</h2>${table(
    ["change", "when", "workload", "action", "by", "rules", "patch", "state"],
    model.changes.map((c) => [id(c.id), when(c.createdAt, ctx.now), html`${workloadLink(c)} <a class="muted" data-link="audit" href="${auditHref(c)}">audit</a>`, c.action, c.actor, c.ruleIds.join(", "), patchPaths(c.patch), changeState(c)]),
    { id: "changes", empty: "No fix was applied yet." },
  )}</section>`;
  return layout("Fixes", "fixes", model.cluster, ctx, body);
}

function scanTable(scans: ScanRecord[], ctx: PageContext): SafeHtml {
  return table(
    ["#", "name", "cluster", "scope", "status", "started", ["duration", "num"], ["workloads", "num"], ["score", "num"], ["new / resolved", "num"], "reason"],
    scans.map((s) => [
      s.id,
      id(s.name),
      id(s.cluster),
      scopeKey(s.namespaces) === CLUSTER_SCOPE ? "whole cluster" : (s.namespaces ?? []).join(", "),
      status(s.status),
      html`${when(s.startedAt, ctx.now)}${s.trigger === "manual" ? "" : html` <span class="muted">(${s.trigger})</span>`}`,
      duration(s.durationMs),
      s.status === "succeeded" ? `${s.workloads.failed} / ${s.workloads.evaluated} failing` : "",
      s.status === "succeeded" ? pct(s.compliancePercent) : "",
      s.status === "succeeded" ? `+${s.findings.new} / −${s.findings.resolved}` : "",
      s.reason ?? "",
    ]),
    { id: "scans", empty: "No scan matches.", rowClass: (i) => (scans[i]!.status === "failed" ? "failed" : "") },
  );
}

export function scansPage(model: Scans, ctx: PageContext): string {
  const body = html`<h1>Scans</h1>
<p class="sub">Every stored scan, newest first, failed ones with their reason (cluster unreachable, forbidden, interrupted, missed runs).</p>
<section class="panel"><h2>By scan name</h2>${table(
    ["name", "latest", ["succeeded", "num"], ["failed", "num"], "last success", "last failure"],
    model.byName.map((n) => [n.name, n.lastStatus ? status(n.lastStatus) : status("running"), n.succeeded, n.failed, when(n.lastSuccessAt, ctx.now), when(n.lastFailureAt, ctx.now)]),
    { id: "scan-names", empty: "No scan stored yet: run kube-policy scan or the run_compliance_scan tool." },
  )}</section>
<form class="filters auto" method="get" action="/scans"><label>Status<select name="status"><option value="">any status</option>${SCAN_STATUSES.map(
    (s) => html`<option value="${s}"${s === model.status ? trusted(" selected") : ""}>${s}</option>`,
  )}</select></label><button type="submit">Filter</button></form>
<section class="panel"><h2>History</h2>${scanTable(model.scans, ctx)}</section>`;
  return layout("Scans", "scans", model.cluster, ctx, body);
}

export function errorPage(error: AppError, ctx: PageContext): string {
  const body = html`<h1>${error.status} · ${error.code.replace(/_/g, " ")}</h1>
<section class="panel"><p data-error="${error.code}">${error.message}</p>
${error.details.length ? html`<ul>${error.details.map((d) => html`<li>${d.where ? html`<code>${d.where}</code>: ` : ""}${d.message}</li>`)}</ul>` : ""}
<p><a href="/">Back to the overview</a></p></section>`;
  return layout(`Error ${error.status}`, "none", null, ctx, body);
}

export function loginPage(options: { next: string; failed: boolean }, ctx: PageContext): string {
  const body = html`<h1>Sign in</h1>
<section class="panel" style="max-width: 32rem">
${options.failed ? html`<p class="alert error">That token is not valid.</p>` : ""}
<p>This server requires one of its API tokens (<code>KUBE_POLICY_TOKEN</code> or <code>KUBE_POLICY_TOKENS</code>). The browser keeps a session cookie
(HttpOnly, SameSite=Strict, 12 hours) and never the token itself.</p>
<form method="post" action="/login"><input type="hidden" name="next" value="${options.next}">
<p><label>Token <input type="password" name="token" autocomplete="current-password" required autofocus></label></p>
<p><button type="submit">Sign in</button></p></form>
</section>`;
  return layout("Sign in", "none", null, ctx, body);
}
