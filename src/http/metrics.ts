// GET /metrics: the Prometheus text exposition format (0.0.4), written by hand: every value is read
// at scrape time from the scan history, the admission counters and the process, so there is no
// registry to keep in step and no dependency. Teams alert from their own stack on the compliance
// scores, the open findings, stale or failing scans and admission denials.
//
// Scores are ratios from 0 to 1 (Prometheus' convention; the dashboard shows the same as percent).
// Scan-derived series exist once a scan has stored them; a score with no judged rule is left out
// rather than reported as 0. Namespaces the configuration does not let tools see are left out too.
// The `scope` label is the scan series: "*" for whole-cluster scans, else the namespaces scanned,
// sorted and joined by ",".
import { readdirSync } from "node:fs";
import type { Context } from "koa";
import type { Runtime } from "../runtime.js";
import { autoFixEfficiencyOfSeries, fixabilityFor } from "../scans/autofix.js";
import { existingScanStore } from "../scans/scan.js";
import { DEFAULT_TREND_DAYS } from "../scans/trends.js";
import { scopeKey } from "../store/scan-store.js";
import { VERSION } from "../version.js";
import { admissionMetrics, type AdmissionMetricsSnapshot } from "./admission.js";

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type MetricType = "gauge" | "counter" | "histogram";
type Labels = Record<string, string>;

interface Family {
  name: string;
  type: MetricType;
  help: string;
  samples: { labels: Labels; value: number; suffix?: string }[];
}

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const escapeHelp = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");

function formatValue(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}

/** Families in the order declared, each with its HELP and TYPE; a family without samples is still listed. */
class Exposition {
  private readonly families: Family[] = [];

  family(name: string, type: MetricType, help: string): (labels: Labels, value: number, suffix?: string) => void {
    const family: Family = { name, type, help, samples: [] };
    this.families.push(family);
    return (labels, value, suffix) => family.samples.push({ labels, value, suffix });
  }

  render(): string {
    const lines: string[] = [];
    for (const f of this.families) {
      lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
      for (const s of f.samples) {
        const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
        lines.push(`${f.name}${s.suffix ?? ""}${labels.length ? `{${labels.join(",")}}` : ""} ${formatValue(s.value)}`);
      }
    }
    return `${lines.join("\n")}\n`;
  }
}

const SEVERITIES = ["critical", "high", "medium", "low"] as const;
const seconds = (iso: string | null) => (iso === null ? null : Date.parse(iso) / 1000);
// Stored percents have one decimal: 85.7 → 0.857, not 0.8570000000000001.
const ratio = (percent: number) => Math.round(percent * 10) / 1000;

function scanMetrics(out: Exposition, runtime: Runtime): void {
  const score = out.family("kube_policy_compliance_score_ratio", "gauge", "Compliance (rules passed / rules judged) of the latest succeeded scan of each scan series, 0 to 1.");
  const category = out.family("kube_policy_category_compliance_score_ratio", "gauge", "Rules passed / rules judged per category in the latest succeeded scan of each series, 0 to 1.");
  const framework = out.family("kube_policy_framework_compliance_score_ratio", "gauge", "Framework controls passing / judged in the latest succeeded scan of each series, 0 to 1.");
  const namespaceScore = out.family(
    "kube_policy_namespace_compliance_score_ratio",
    "gauge",
    "Compliance of each namespace in the newest succeeded scan that covered it, 0 to 1.",
  );
  const open = out.family("kube_policy_open_findings", "gauge", "Open findings (violations and warnings) by severity after the latest succeeded scan of each series.");
  const namespaceOpen = out.family("kube_policy_namespace_open_findings", "gauge", "Open findings by severity in each namespace, from the newest succeeded scan that covered it.");
  const workloads = out.family("kube_policy_workloads", "gauge", "Workloads in the latest succeeded scan of each series, by result (passed, failed, skipped).");
  const lastScan = out.family("kube_policy_series_last_success_timestamp_seconds", "gauge", "When the latest succeeded scan of each series finished (Unix time).");
  const stored = out.family("kube_policy_scans", "gauge", "Scans in the history database by name and status (retention removes old ones, so this can go down).");
  const lastSuccess = out.family("kube_policy_scan_last_success_timestamp_seconds", "gauge", "When a scan of this name last succeeded (Unix time).");
  const lastFailure = out.family("kube_policy_scan_last_failure_timestamp_seconds", "gauge", "When a scan of this name last failed, including missed and interrupted runs (Unix time).");
  const lastFailed = out.family("kube_policy_scan_last_failed", "gauge", "1 when the newest finished scan of this name failed, else 0.");
  const lastDuration = out.family("kube_policy_scan_last_duration_seconds", "gauge", "How long the newest finished scan of this name ran.");

  const store = existingScanStore(runtime);
  if (!store) return;
  const seenNamespaces = new Set<string>();
  // Newest first: a namespace covered by several series takes its numbers from the freshest scan.
  for (const scan of store.latestSucceededPerSeries()) {
    const base = { cluster: scan.cluster, scope: scopeKey(scan.namespaces) };
    const scores = store.scoresOfScan(scan.id);
    const counts = store.countsOfScan(scan.id);
    // This scan's namespaces that no newer scan already answered for (and that tools may see).
    const fresh = new Set(
      [...scores.map((s) => s.namespace), ...counts.map((c) => c.namespace)].filter(
        (ns) => ns !== "" && !seenNamespaces.has(`${scan.cluster}\u0000${ns}`) && runtime.namespaceAllowed(ns),
      ),
    );
    for (const s of scores) {
      if (s.percent === null) continue;
      if (s.namespace === "") {
        if (s.dimension === "overall") score(base, ratio(s.percent));
        else if (s.dimension === "category") category({ ...base, category: s.key }, ratio(s.percent));
        else framework({ ...base, framework: s.key }, ratio(s.percent));
      } else if (s.dimension === "overall" && fresh.has(s.namespace)) {
        namespaceScore({ cluster: scan.cluster, namespace: s.namespace }, ratio(s.percent));
      }
    }
    const whole = counts.find((c) => c.namespace === "");
    for (const severity of SEVERITIES) open({ ...base, severity }, whole?.bySeverity[severity] ?? 0);
    for (const c of counts) {
      if (!fresh.has(c.namespace)) continue;
      for (const severity of SEVERITIES) namespaceOpen({ cluster: scan.cluster, namespace: c.namespace, severity }, c.bySeverity[severity]);
    }
    for (const ns of [...scores.map((s) => s.namespace), ...counts.map((c) => c.namespace)]) seenNamespaces.add(`${scan.cluster}\u0000${ns}`);
    workloads({ ...base, result: "passed" }, scan.workloads.passed);
    workloads({ ...base, result: "failed" }, scan.workloads.failed);
    workloads({ ...base, result: "skipped" }, scan.workloads.skipped);
    const finished = seconds(scan.finishedAt);
    if (finished !== null) lastScan(base, finished);
  }
  for (const n of store.scanNameStats()) {
    stored({ name: n.name, status: "succeeded" }, n.succeeded);
    stored({ name: n.name, status: "failed" }, n.failed);
    stored({ name: n.name, status: "running" }, n.running);
    if (n.lastSuccessAt !== null) lastSuccess({ name: n.name }, n.lastSuccessAt / 1000);
    if (n.lastFailureAt !== null) lastFailure({ name: n.name }, n.lastFailureAt / 1000);
    if (n.lastFinished) {
      lastFailed({ name: n.name }, n.lastFinished.status === "failed" ? 1 : 0);
      if (n.lastFinished.durationMs !== null) lastDuration({ name: n.name }, n.lastFinished.durationMs / 1000);
    }
  }
}

/**
 * Auto-Fix Efficiency per scan series over the last DEFAULT_TREND_DAYS days (the definition is
 * report/autofix.ts), for the series with a succeeded scan in that window: the same numbers as the
 * report, get_compliance_trends and the dashboard for that scope.
 */
function autoFixMetrics(out: Exposition, runtime: Runtime): void {
  const efficiency = out.family(
    "kube_policy_autofix_efficiency_ratio",
    "gauge",
    `Of the violations open at some point in the last ${DEFAULT_TREND_DAYS} days, the share remediated by a fix kube-policy applied and did not roll back, 0 to 1, per scan series; left out when no violation was open.`,
  );
  const violations = out.family(
    "kube_policy_autofix_violations",
    "gauge",
    `Violations open at some point in the last ${DEFAULT_TREND_DAYS} days per scan series, by state now (auto_remediated, resolved_otherwise, still_open).`,
  );
  const headroom = out.family(
    "kube_policy_autofix_headroom_violations",
    "gauge",
    "Violations open now per scan series by what the current configuration lets kube-policy fix: auto (on request), approval (after an approval), manual (no automatic fix).",
  );
  const fixes = out.family(
    "kube_policy_autofix_fixes",
    "gauge",
    `Fixes kube-policy applied in the last ${DEFAULT_TREND_DAYS} days to workloads of each scan series, by state (applied, rolled_back: applied and rolled back since).`,
  );
  const store = existingScanStore(runtime);
  if (!store) return;
  const now = Date.now();
  const since = now - DEFAULT_TREND_DAYS * 86_400_000;
  const fixability = fixabilityFor(runtime.evaluator.catalogue(), runtime.config);
  for (const scan of store.latestSucceededPerSeries()) {
    if (Date.parse(scan.startedAt) < since) continue;
    const series = { cluster: scan.cluster, scope: scopeKey(scan.namespaces) };
    const e = autoFixEfficiencyOfSeries(store, series, { namespace: null, days: DEFAULT_TREND_DAYS, now, fixability });
    if (e.ratio !== null) efficiency(series, e.ratio);
    violations({ ...series, state: "auto_remediated" }, e.autoRemediated);
    violations({ ...series, state: "resolved_otherwise" }, e.resolvedOtherwise);
    violations({ ...series, state: "still_open" }, e.stillOpen);
    headroom({ ...series, fix: "auto" }, e.headroom.autoFixable);
    headroom({ ...series, fix: "approval" }, e.headroom.needsApproval);
    headroom({ ...series, fix: "manual" }, e.headroom.manual);
    fixes({ ...series, state: "applied" }, e.fixes.applied);
    fixes({ ...series, state: "rolled_back" }, e.fixes.rolledBack);
  }
}

function admissionFamilies(out: Exposition, snapshot: AdmissionMetricsSnapshot): void {
  const reviews = out.family("kube_policy_admission_reviews_total", "counter", "Admission reviews answered by this process, by namespace and decision (allowed, warned, denied, error).");
  const dryRun = out.family("kube_policy_admission_dry_run_reviews_total", "counter", "Of the admission reviews decided, how many were dry runs.");
  for (const [namespace, counts] of Object.entries(snapshot.namespaces)) {
    reviews({ namespace, decision: "allowed" }, counts.allowed);
    reviews({ namespace, decision: "warned" }, counts.warned);
    reviews({ namespace, decision: "denied" }, counts.denied);
    reviews({ namespace, decision: "error" }, counts.errors);
    dryRun({ namespace }, counts.dryRun);
  }
  const duration = out.family(
    "kube_policy_admission_review_duration_seconds",
    "histogram",
    "Time from the arrival of an admission review (POST /admission/validate) to its answer handed to the socket, in seconds.",
  );
  if (snapshot.duration) {
    for (const bucket of snapshot.duration.buckets) duration({ le: String(bucket.le) }, bucket.count, "_bucket");
    duration({ le: "+Inf" }, snapshot.duration.count, "_bucket");
    duration({}, snapshot.duration.sumSeconds, "_sum");
    duration({}, snapshot.duration.count, "_count");
  }
  const expiry = out.family(
    "kube_policy_admission_certificate_expiry_timestamp_seconds",
    "gauge",
    "When the admission webhook's serving certificate, as served now (after any reload), expires (Unix time).",
  );
  for (const certificate of snapshot.certificates ?? []) expiry({ port: String(certificate.port), subject: certificate.subject }, certificate.notAfterSeconds);
}

function openFileDescriptors(): number | null {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return null; // not Linux: left out, as client libraries do
  }
}

function processFamilies(out: Exposition, runtime: Runtime): void {
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  out.family("kube_policy_build_info", "gauge", "The running version and the hash of the compiled rule set; always 1.")({ version: VERSION, rule_set: runtime.evaluator.bundle.hash }, 1);
  out.family("process_cpu_user_seconds_total", "counter", "User CPU time spent, in seconds.")({}, cpu.user / 1e6);
  out.family("process_cpu_system_seconds_total", "counter", "System CPU time spent, in seconds.")({}, cpu.system / 1e6);
  out.family("process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds.")({}, (cpu.user + cpu.system) / 1e6);
  out.family("process_start_time_seconds", "gauge", "When the process started (Unix time).")({}, Math.round(Date.now() / 1000 - process.uptime()));
  out.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.")({}, memory.rss);
  const fds = openFileDescriptors();
  if (fds !== null) out.family("process_open_fds", "gauge", "Open file descriptors.")({}, fds);
  out.family("nodejs_heap_size_total_bytes", "gauge", "V8 heap size in bytes.")({}, memory.heapTotal);
  out.family("nodejs_heap_size_used_bytes", "gauge", "V8 heap used in bytes.")({}, memory.heapUsed);
  out.family("nodejs_external_memory_bytes", "gauge", "Memory of C++ objects bound to JavaScript, in bytes.")({}, memory.external);
  out.family("nodejs_version_info", "gauge", "The Node.js version; always 1.")({ version: process.version }, 1);
}

/** The whole exposition; `admission` defaults to this process's webhook counters. */
export function renderMetrics(runtime: Runtime, admission: AdmissionMetricsSnapshot = admissionMetrics()): string {
  const out = new Exposition();
  scanMetrics(out, runtime);
  autoFixMetrics(out, runtime);
  admissionFamilies(out, admission);
  processFamilies(out, runtime);
  return out.render();
}

export function metricsRoute(runtime: Runtime): (ctx: Context) => void {
  return (ctx) => {
    ctx.set("Cache-Control", "no-store");
    ctx.type = METRICS_CONTENT_TYPE;
    ctx.body = renderMetrics(runtime);
  };
}
