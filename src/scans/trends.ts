// Compliance over time, from the scan history: the trend section of reports and get_compliance_trends.
// Everything is read from per-scan aggregates and the findings' lifecycle, so the cost grows with the
// number of scans and of resolved findings in the window, not with findings times scans.
import { SEVERITIES } from "../policy/types.js";
import type { ComplianceTrend, DimensionTrend, FindingChange, ResolveTime } from "../report/trend.js";
import { scopeNamespaces, type FindingChangeRow, type ScanStore } from "../store/scan-store.js";

export const DEFAULT_TREND_DAYS = 30;
const CHANGES_LISTED = 20;

const iso = (ms: number) => new Date(ms).toISOString();
const round1 = (n: number) => Math.round(n * 10) / 10;
const change = (first: number | null, latest: number | null) => (first === null || latest === null ? null : round1(latest - first));

function toChange(row: FindingChangeRow): FindingChange {
  return {
    ruleId: row.ruleId,
    severity: row.severity,
    resource: { kind: row.kind, namespace: row.namespace, name: row.name },
    field: row.pointer,
    message: row.message,
    firstSeen: iso(row.firstSeenAt),
    resolvedAt: row.resolvedAt === null ? null : iso(row.resolvedAt),
    resolution: row.resolution,
  };
}

/** The trend of a scope over the last `days` days; null when no succeeded scan covers it in that window. */
export function computeTrend(
  store: ScanStore,
  input: { cluster: string; namespace?: string | null; days?: number; now?: number },
): ComplianceTrend | null {
  const days = input.days ?? DEFAULT_TREND_DAYS;
  const now = input.now ?? Date.now();
  const since = now - days * 86_400_000;
  const namespace = input.namespace ?? null;
  const series = store.seriesFor(input.cluster, namespace, since);
  if (!series) return null;
  const countsNamespace = namespace ?? "";
  const points = store.trendPoints(series, countsNamespace, since);
  if (points.length === 0) return null;

  const scores = store.trendScores(series, countsNamespace, since);
  const atOf = new Map(points.map((p) => [p.scanId, iso(p.at)]));
  const overall = new Map<number, number | null>();
  const dims = { category: new Map<string, DimensionTrend["points"]>(), framework: new Map<string, DimensionTrend["points"]>() };
  for (const s of scores) {
    if (s.dimension === "overall") {
      overall.set(s.scanId, s.percent);
      continue;
    }
    const byKey = dims[s.dimension];
    const list = byKey.get(s.key) ?? byKey.set(s.key, []).get(s.key)!;
    list.push({ scanId: s.scanId, at: atOf.get(s.scanId) ?? "", percent: s.percent });
  }
  const dimension = (byKey: Map<string, DimensionTrend["points"]>): DimensionTrend[] =>
    [...byKey.entries()]
      .map(([key, pts]) => {
        const first = pts[0]?.percent ?? null;
        const latest = pts.at(-1)?.percent ?? null;
        return { key, first, latest, change: change(first, latest), points: pts };
      })
      .sort((a, b) => a.key.localeCompare(b.key));

  const trendPoints = points.map((p) => ({
    scanId: p.scanId,
    at: iso(p.at),
    percent: overall.get(p.scanId) ?? null,
    workloads: p.workloads,
    open: p.open,
    new: p.new,
    resolved: p.resolved,
    bySeverity: p.bySeverity,
  }));
  const first = trendPoints[0]!;
  const latest = trendPoints.at(-1)!;
  const previous = trendPoints.length > 1 ? trendPoints.at(-2)! : null;

  // Time to resolve: findings resolved in the window, by rule and severity and by severity alone, and
  // what is still open after the latest scan.
  const hours = (ms: number | null) => (ms === null ? null : round1(ms / 3_600_000));
  const ruleKey = (ruleId: string | null, severity: string) => `${ruleId ?? ""}\u0000${severity}`;
  const resolvedByRule = new Map(store.resolutionStats(series, namespace, since, "rule").map((r) => [ruleKey(r.ruleId, r.severity), r]));
  const resolvedBySeverity = new Map(store.resolutionStats(series, namespace, since, "severity").map((r) => [r.severity, r]));
  const open = store.openByRule(latest.scanId, countsNamespace);
  const openByRule = new Map(open.map((o) => [ruleKey(o.ruleId, o.severity), o]));
  const resolveTime = (
    ruleId: string | null,
    severity: string,
    resolved: { resolved: number; meanMs: number; medianMs: number; maxMs: number } | undefined,
    openCount: number,
    oldest: number | null,
  ): ResolveTime => ({
    ruleId,
    severity,
    resolved: resolved?.resolved ?? 0,
    meanHours: hours(resolved?.meanMs ?? null),
    medianHours: hours(resolved?.medianMs ?? null),
    maxHours: hours(resolved?.maxMs ?? null),
    open: openCount,
    oldestOpenDays: oldest === null ? null : round1((now - oldest) / 86_400_000),
  });
  const severityRank = (s: string) => {
    const i = (SEVERITIES as readonly string[]).indexOf(s);
    return i < 0 ? SEVERITIES.length : i;
  };
  const ruleTimes = [...new Set([...resolvedByRule.keys(), ...openByRule.keys()])]
    .map((key) => {
      const [ruleId, severity] = key.split("\u0000") as [string, string];
      const o = openByRule.get(key);
      return resolveTime(ruleId, severity, resolvedByRule.get(key), o?.open ?? 0, o?.oldest ?? null);
    })
    .sort((a, b) => severityRank(a.severity) - severityRank(b.severity) || (a.ruleId ?? "").localeCompare(b.ruleId ?? ""));
  const severityTimes = SEVERITIES.map((severity) => {
    const opens = open.filter((o) => o.severity === severity);
    const oldest = opens.length ? Math.min(...opens.map((o) => o.oldest)) : null;
    return resolveTime(null, severity, resolvedBySeverity.get(severity), opens.reduce((a, o) => a + o.open, 0), oldest);
  });

  return {
    scope: { cluster: series.cluster, namespace, scannedNamespaces: scopeNamespaces(series.scope) },
    window: { days, from: iso(since), to: iso(now) },
    scans: { succeeded: trendPoints.length, failed: store.failedScans(series, since), first: first.at, latest: latest.at },
    score: { first: first.percent, latest: latest.percent, change: change(first.percent, latest.percent), points: trendPoints },
    sincePrevious: previous
      ? {
          scanId: latest.scanId,
          at: latest.at,
          previousScanId: previous.scanId,
          previousAt: previous.at,
          new: latest.new,
          resolved: latest.resolved,
          stillOpen: latest.open - latest.new,
          scoreChange: change(previous.percent, latest.percent),
          newFindings: store.changesOf(latest.scanId, "new", namespace, CHANGES_LISTED).map(toChange),
          resolvedFindings: store.changesOf(latest.scanId, "resolved", namespace, CHANGES_LISTED).map(toChange),
        }
      : null,
    categories: dimension(dims.category),
    frameworks: dimension(dims.framework),
    timeToResolve: { bySeverity: severityTimes, byRule: ruleTimes },
  };
}
