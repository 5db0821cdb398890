// A standalone HTML page of the compliance report: inline CSS and an inline SVG trend chart, no script,
// no external resource (it opens from a CI artefact or an e-mail attachment as it is).
import { SEVERITIES, type Finding } from "../../policy/types.js";
import { otherResolutionsText } from "../autofix.js";
import type { ComplianceTrend } from "../trend.js";
import type { ReportInput } from "./index.js";

const FINDINGS_SHOWN = 1000;

export function htmlEscape(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

const e = htmlEscape;
const pct = (n: number | null) => (n === null ? "n/a" : `${n}%`);
const CATEGORY_COLOURS: Record<string, string> = { security: "#c0392b", compliance: "#8e44ad", performance: "#2980b9", cost: "#16a085", operations: "#d35400" };

/** Score over time (line, one per category in light colours) and new / resolved findings per scan (bars). */
export function trendSvg(trend: ComplianceTrend): string {
  const W = 760;
  const H = 300;
  const left = 44;
  const right = 16;
  const top = 16;
  const chartH = 170;
  const barsTop = top + chartH + 34;
  const barsH = 60;
  const points = trend.score.points;
  const times = points.map((p) => Date.parse(p.at));
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const x = (t: number) => (t1 === t0 ? left + (W - left - right) / 2 : left + ((t - t0) / (t1 - t0)) * (W - left - right));
  const y = (percent: number) => top + chartH - (percent / 100) * chartH;
  const line = (series: { at: string; percent: number | null }[]) => {
    // A scan without a judged rule breaks the line instead of dropping to zero.
    const segments: string[][] = [[]];
    for (const p of series) {
      if (p.percent === null) segments.push([]);
      else segments.at(-1)!.push(`${x(Date.parse(p.at)).toFixed(1)},${y(p.percent).toFixed(1)}`);
    }
    return segments.filter((s) => s.length > 0);
  };
  const parts: string[] = [];
  for (const tick of [0, 25, 50, 75, 100]) {
    parts.push(`<line x1="${left}" x2="${W - right}" y1="${y(tick)}" y2="${y(tick)}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 6}" y="${y(tick) + 4}" text-anchor="end" font-size="11" fill="#666">${tick}%</text>`);
  }
  for (const category of trend.categories) {
    for (const seg of line(category.points)) {
      parts.push(`<polyline class="category" data-category="${e(category.key)}" points="${seg.join(" ")}" fill="none" stroke="${CATEGORY_COLOURS[category.key] ?? "#999"}" stroke-opacity="0.45" stroke-width="1.5"/>`);
    }
  }
  for (const seg of line(points)) parts.push(`<polyline class="score" points="${seg.join(" ")}" fill="none" stroke="#1f2d3d" stroke-width="2.5"/>`);
  for (const p of points) {
    if (p.percent === null) continue;
    parts.push(
      `<circle cx="${x(Date.parse(p.at)).toFixed(1)}" cy="${y(p.percent).toFixed(1)}" r="${points.length > 40 ? 1.5 : 3}" fill="#1f2d3d"><title>${e(`scan ${p.scanId}, ${p.at.slice(0, 16)}Z: ${p.percent}% (${p.open} open, ${p.new} new, ${p.resolved} resolved)`)}</title></circle>`,
    );
  }
  const first = trend.scans.first.slice(0, 10);
  const last = trend.scans.latest.slice(0, 10);
  parts.push(`<text x="${left}" y="${top + chartH + 16}" font-size="11" fill="#666">${e(first)}</text>`);
  if (last !== first) parts.push(`<text x="${W - right}" y="${top + chartH + 16}" text-anchor="end" font-size="11" fill="#666">${e(last)}</text>`);
  // The first scan of a history finds everything "new": scale the bars by the others and clip that one.
  const scaled = points.length > 1 ? points.slice(1) : points;
  const maxBar = Math.max(1, ...scaled.map((p) => Math.max(p.new, p.resolved)));
  const barW = Math.max(2, Math.min(14, (W - left - right) / Math.max(1, points.length) / 2.5));
  parts.push(`<text x="${left - 6}" y="${barsTop + 10}" text-anchor="end" font-size="11" fill="#666">new</text>`);
  parts.push(`<text x="${left - 6}" y="${barsTop + barsH}" text-anchor="end" font-size="11" fill="#666">fixed</text>`);
  parts.push(`<line x1="${left}" x2="${W - right}" y1="${barsTop + barsH / 2}" y2="${barsTop + barsH / 2}" stroke="#bbb"/>`);
  for (const p of points) {
    const cx = x(Date.parse(p.at));
    const hNew = (Math.min(p.new, maxBar) / maxBar) * (barsH / 2);
    const hRes = (Math.min(p.resolved, maxBar) / maxBar) * (barsH / 2);
    parts.push(`<rect class="new" x="${(cx - barW / 2).toFixed(1)}" y="${(barsTop + barsH / 2 - hNew).toFixed(1)}" width="${barW.toFixed(1)}" height="${hNew.toFixed(1)}" fill="#e74c3c"><title>${p.new} new</title></rect>`);
    parts.push(`<rect class="resolved" x="${(cx - barW / 2).toFixed(1)}" y="${(barsTop + barsH / 2).toFixed(1)}" width="${barW.toFixed(1)}" height="${hRes.toFixed(1)}" fill="#27ae60"><title>${p.resolved} resolved</title></rect>`);
  }
  const legend = trend.categories
    .map((c, i) => `<text x="${left + 90 + i * 110}" y="${H - 4}" font-size="11" fill="${CATEGORY_COLOURS[c.key] ?? "#999"}">— ${e(c.key)}</text>`)
    .join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="Compliance score over time">${parts.join("")}<text x="${left}" y="${H - 4}" font-size="11" fill="#1f2d3d">— overall</text>${legend}</svg>`;
}

const trendDays = (report: ReportInput["report"]) => report.trend?.window.days ?? 30;

function table(headers: string[], rows: string[][], cls = ""): string {
  if (rows.length === 0) return `<p class="muted">none</p>`;
  return `<table${cls ? ` class="${cls}"` : ""}><thead><tr>${headers.map((h) => `<th>${e(h)}</th>`).join("")}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`)
    .join("")}</tbody></table>`;
}

export function renderHtml(input: ReportInput): string {
  const { report } = input;
  const scope = report.scope.namespace ? `namespace ${report.scope.namespace}` : "the whole cluster";
  const c = report.compliance;
  const tone = c.percent === null ? "none" : c.percent >= 90 ? "good" : c.percent >= 70 ? "fair" : "poor";
  const open: Finding[] = input.results.filter((r) => !r.skipped).flatMap((r) => r.findings.filter((f) => f.outcome === "violation" || f.outcome === "warning"));
  open.sort((a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) || a.ruleId.localeCompare(b.ruleId));
  const sections: string[] = [];

  sections.push(`<section class="cards">
  <div class="card ${tone}"><div class="big">${e(pct(c.percent))}</div>overall compliance</div>
  <div class="card"><div class="big">${c.rulesPassed} / ${c.rulesEvaluated}</div>rules passed</div>
  <div class="card"><div class="big">${report.workloads.failed} / ${report.workloads.evaluated}</div>workloads failing</div>
  <div class="card"><div class="big">${report.autoFixable}</div>auto-fixable findings</div>
  <div class="card"><div class="big" data-metric="autofix-percent">${report.autoFixEfficiency?.percent == null ? "no data" : e(pct(report.autoFixEfficiency.percent))}</div>auto-fix efficiency</div>
</section>`);

  const fx = report.autoFixEfficiency;
  const fxDays = trendDays(report);
  sections.push(
    fx === null
      ? `<section id="autofix"><h2>Auto-fix efficiency</h2><p class="muted">No data: no stored scan of this scope in the last ${fxDays} days.</p></section>`
      : `<section id="autofix"><h2>Auto-fix efficiency</h2>
<p>Of the <strong>${fx.violations}</strong> violation(s) open at some point in the last ${fx.window.days} days: <strong>${fx.autoRemediated}</strong> auto-remediated by kube-policy
(${e(fx.percent === null ? "no data" : pct(fx.percent))}), ${fx.resolvedOtherwise} resolved otherwise${otherResolutionsText(fx) ? ` (${e(otherResolutionsText(fx))})` : ""}, ${fx.stillOpen} still open.
Fixes applied: ${fx.fixes.applied}${fx.fixes.rolledBack ? `, ${fx.fixes.rolledBack} rolled back (not counted)` : ""}.</p>
<p>Headroom: ${fx.headroom.autoFixable} of ${fx.headroom.open} open violation(s) auto-fixable now under the current configuration; ${fx.headroom.needsApproval} need an approval, ${fx.headroom.manual} have no automatic fix.</p>
<p class="muted">${e(fx.definition)}</p></section>`,
  );

  const ex = report.exemptions;
  if (ex) {
    sections.push(`<section id="exemptions"><h2>Exemptions</h2>
<p><span data-metric="exemptions-active">${ex.counts.active}</span> active, <span data-metric="exemptions-expiring">${ex.counts.expiring}</span> expiring within ${ex.expiringWithinDays} days,
<span data-metric="exemptions-expired">${ex.counts.expired}</span> expired but still in place (their findings are no longer exempt), <span data-metric="exemptions-invalid">${ex.counts.invalid}</span> invalid;
${ex.suppressedFindings} finding(s) suppressed now.</p>
${ex.expiring.length === 0 ? "" : table(["exemption", "rules", "expires", "days left", "reason", "suppressed"], ex.expiring.map((x) => [e(x.where), e(x.rules.join(", ")), e(x.expires), String(x.daysLeft), e(x.reason ?? ""), String(x.suppressedFindings)]))}</section>`);
  }

  const trend = report.trend;
  if (trend) {
    const p = trend.sincePrevious;
    const change = (f: { ruleId: string; severity: string; resource: { kind: string; namespace: string; name: string }; resolution: string | null }) =>
      [e(f.ruleId), e(f.severity), e(`${f.resource.kind} ${f.resource.namespace}/${f.resource.name}`), e(f.resolution ?? "")];
    sections.push(`<section><h2>Trend analysis</h2>
<p>Last ${trend.window.days} days, ${trend.scans.succeeded} scan(s)${trend.scans.failed ? `, ${trend.scans.failed} failed` : ""}: ${e(pct(trend.score.first))} → <strong>${e(pct(trend.score.latest))}</strong>${trend.score.change === null ? "" : ` (${trend.score.change > 0 ? "+" : ""}${trend.score.change} points)`}.</p>
<figure>${trendSvg(trend)}</figure>
${p ? `<p>Since the previous scan (${e(p.previousAt.slice(0, 16))}Z): <strong>${p.new}</strong> new, <strong>${p.resolved}</strong> resolved, ${p.stillOpen} still open.</p>
<h3>Resolved</h3>${table(["rule", "severity", "workload", "how"], p.resolvedFindings.map(change))}
<h3>New</h3>${table(["rule", "severity", "workload", ""], p.newFindings.map(change).map((r) => r.slice(0, 3).concat([""])))}` : ""}
<h3>Scores</h3>${table(
      ["category / framework", "first", "latest", "change"],
      [...trend.categories, ...trend.frameworks].map((d) => [e(d.key), e(pct(d.first)), e(pct(d.latest)), d.change === null ? "n/a" : e(`${d.change > 0 ? "+" : ""}${d.change}`)]),
    )}
<h3>Time to resolve</h3>${table(
      ["severity", "resolved", "median", "mean", "longest", "open now", "oldest open"],
      trend.timeToResolve.bySeverity.map((s) => [
        e(s.severity),
        String(s.resolved),
        s.medianHours === null ? "" : `${s.medianHours} h`,
        s.meanHours === null ? "" : `${s.meanHours} h`,
        s.maxHours === null ? "" : `${s.maxHours} h`,
        String(s.open),
        s.oldestOpenDays === null ? "" : `${s.oldestOpenDays} days`,
      ]),
    )}
</section>`);
  }

  sections.push(`<section><h2>Violations by severity</h2>${table(
    ["severity", "failing rules", "open findings"],
    SEVERITIES.map((s) => [e(s), String(report.failedRulesBySeverity[s]), String(report.findingsBySeverity[s])]),
  )}</section>`);
  for (const framework of report.frameworks) {
    sections.push(`<section><h2>${e(framework.framework)}: ${e(pct(framework.percent))} of controls passing</h2>${table(
      ["control", "status", "rules"],
      framework.controls.map((ctl) => [e(ctl.control), `<span class="${ctl.status}">${e(ctl.status)}</span>`, e(ctl.rules.map((r) => `${r.id} (${r.status})`).join(", "))]),
    )}</section>`);
  }
  if (report.recommendations.length > 0) {
    sections.push(`<section><h2>Recommendations</h2><ul>${report.recommendations.map((r) => `<li><strong>${e(r.category)}</strong>: ${e(r.message)}</li>`).join("")}</ul></section>`);
  }
  sections.push(`<section><h2>Failing rules</h2>${table(
    ["rule", "severity", "category", "workloads", "findings", "remediation"],
    report.rules.filter((r) => r.status === "failed").map((r) => [e(r.id), e(r.severity), e(r.category), String(r.failedWorkloads), String(r.findings), e(r.remediation)]),
  )}</section>`);
  sections.push(`<section><h2>Findings (${open.length})</h2>${table(
    ["severity", "rule", "workload", "field", "message", "outcome"],
    open.slice(0, FINDINGS_SHOWN).map((f) => [
      e(f.severity),
      e(f.ruleId),
      e(`${f.resource.kind} ${f.resource.namespace ?? "default"}/${f.resource.name}`),
      `<code>${e(f.path)}</code>`,
      e(f.message),
      e(f.outcome),
    ]),
    "findings",
  )}${open.length > FINDINGS_SHOWN ? `<p class="muted">… and ${open.length - FINDINGS_SHOWN} more (the JSON, SARIF and JUnit formats list them all)</p>` : ""}</section>`);
  if (report.warnings.length > 0) {
    sections.push(`<section><h2>Could not check everything</h2><ul>${report.warnings.map((w) => `<li>${e(`${w.where ? `${w.where}: ` : ""}${w.message}`)}</li>`).join("")}</ul></section>`);
  }

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(`Compliance report: ${report.cluster}, ${scope}`)}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1100px; color: #1f2d3d; padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #eee; padding-bottom: 0.2rem; }
.muted { color: #777; }
.cards { display: flex; gap: 1rem; flex-wrap: wrap; margin-top: 1rem; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 0.8rem 1rem; min-width: 150px; }
.card .big { font-size: 1.8rem; font-weight: 600; }
.card.good { border-color: #27ae60; } .card.fair { border-color: #f1c40f; } .card.poor { border-color: #e74c3c; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0; }
th, td { text-align: left; padding: 0.25rem 0.5rem; border-bottom: 1px solid #eee; vertical-align: top; }
th { background: #f7f7f7; }
.failed { color: #c0392b; font-weight: 600; } .passed { color: #27ae60; } .not-evaluated { color: #777; }
table.findings td { font-size: 12px; }
figure { margin: 0.5rem 0; overflow-x: auto; }
</style>
</head>
<body>
<h1>Compliance report</h1>
<p class="muted">${e(`Cluster ${report.cluster}, ${scope}; generated ${report.generated.replace(/\.\d{3}Z$/, "Z")} by kube-policy-mcp`)}</p>
${sections.join("\n")}
</body>
</html>
`;
}
