// The trend section of a compliance report: score over time, what changed since the previous scan,
// per category and framework, and how long violations stay open. Computed from the scan history by
// scans/trends.ts; this module is the shape and its text rendering, so report/ needs no store.
import { SEVERITIES, type Severity } from "../policy/types.js";

export interface TrendPoint {
  scanId: number;
  at: string;
  /** Rules passed / rules judged, rounded; null when no rule could be judged. */
  percent: number | null;
  workloads: number;
  /** Findings open after this scan, opened by it, resolved by it. */
  open: number;
  new: number;
  resolved: number;
  bySeverity: Record<Severity, number>;
}

export interface DimensionTrend {
  /** A category (security, ...) or a framework (SOC2, ...). */
  key: string;
  first: number | null;
  latest: number | null;
  change: number | null;
  points: { scanId: number; at: string; percent: number | null }[];
}

export interface FindingChange {
  ruleId: string;
  severity: string;
  resource: { kind: string; namespace: string; name: string };
  /** JSON Pointer of the field, "" when the rule names none. */
  field: string;
  message: string;
  firstSeen: string;
  resolvedAt: string | null;
  /** fixed, exempted, excluded, workload-removed or rule-disabled; null while open. */
  resolution: string | null;
}

export interface ResolveTime {
  ruleId: string | null;
  severity: string;
  /** Findings resolved in the window, and how long they had been open. */
  resolved: number;
  meanHours: number | null;
  medianHours: number | null;
  maxHours: number | null;
  /** Findings open now, and the age of the oldest. */
  open: number;
  oldestOpenDays: number | null;
}

export interface ComplianceTrend {
  scope: {
    cluster: string;
    namespace: string | null;
    /** The scans the history comes from: null = whole-cluster scans, else the namespaces they covered. */
    scannedNamespaces: string[] | null;
  };
  window: { days: number; from: string; to: string };
  scans: { succeeded: number; failed: number; first: string; latest: string };
  score: { first: number | null; latest: number | null; change: number | null; points: TrendPoint[] };
  sincePrevious: {
    scanId: number;
    at: string;
    previousScanId: number;
    previousAt: string;
    new: number;
    resolved: number;
    stillOpen: number;
    scoreChange: number | null;
    /** The most severe new and resolved findings (at most 20 each). */
    newFindings: FindingChange[];
    resolvedFindings: FindingChange[];
  } | null;
  categories: DimensionTrend[];
  frameworks: DimensionTrend[];
  timeToResolve: { bySeverity: ResolveTime[]; byRule: ResolveTime[] };
}

const signed = (n: number | null) => (n === null ? "n/a" : n > 0 ? `+${n}` : String(n));
const pct = (n: number | null) => (n === null ? "n/a" : `${n}%`);
const duration = (hours: number | null) => (hours === null ? "n/a" : hours < 48 ? `${hours.toFixed(1)} h` : `${(hours / 24).toFixed(1)} days`);

/** The product document's "Trend analysis (if available)" section. */
export function renderTrendText(trend: ComplianceTrend, options: { frameworks?: string[] } = {}): string[] {
  const lines = [
    `Trend Analysis (last ${trend.window.days} days, ${trend.scans.succeeded} scan(s)${trend.scans.failed ? `, ${trend.scans.failed} failed` : ""}):`,
    `- Compliance: ${pct(trend.score.first)} → ${pct(trend.score.latest)} (${signed(trend.score.change)} points)`,
  ];
  const p = trend.sincePrevious;
  if (p) {
    lines.push(
      `- Since the previous scan (${p.previousAt.slice(0, 16).replace("T", " ")}Z): ${p.new} new, ${p.resolved} resolved, ${p.stillOpen} still open`,
    );
    for (const f of p.resolvedFindings.slice(0, 5)) {
      lines.push(`  ✅ resolved (${f.resolution}): ${f.ruleId} on ${f.resource.kind} ${f.resource.namespace}/${f.resource.name}`);
    }
    for (const f of p.newFindings.slice(0, 5)) lines.push(`  🆕 new [${f.severity}]: ${f.ruleId} on ${f.resource.kind} ${f.resource.namespace}/${f.resource.name}`);
  }
  const moved = trend.categories.filter((c) => c.change !== null && c.change !== 0);
  if (moved.length > 0) lines.push(`- By category: ${moved.map((c) => `${c.key} ${pct(c.first)} → ${pct(c.latest)}`).join(", ")}`);
  const wanted = options.frameworks && options.frameworks.length > 0 ? new Set(options.frameworks) : null;
  const frameworks = trend.frameworks.filter((f) => (wanted ? wanted.has(f.key) : f.change !== null && f.change !== 0));
  if (frameworks.length > 0) lines.push(`- By framework: ${frameworks.map((f) => `${f.key} ${pct(f.first)} → ${pct(f.latest)}`).join(", ")}`);
  const bySeverity = [...trend.timeToResolve.bySeverity].sort((a, b) => SEVERITIES.indexOf(a.severity as Severity) - SEVERITIES.indexOf(b.severity as Severity));
  const resolvedLine = bySeverity.filter((s) => s.resolved > 0).map((s) => `${s.severity} ${duration(s.medianHours)} median (${s.resolved} resolved)`);
  if (resolvedLine.length > 0) lines.push(`- Time to resolve: ${resolvedLine.join(", ")}`);
  const oldest = [...trend.timeToResolve.byRule].filter((r) => r.open > 0).sort((a, b) => (b.oldestOpenDays ?? 0) - (a.oldestOpenDays ?? 0))[0];
  if (oldest) lines.push(`- Longest open: ${oldest.ruleId} (${oldest.severity}), ${oldest.open} open, oldest for ${oldest.oldestOpenDays} days`);
  return lines;
}
