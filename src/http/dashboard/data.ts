// The dashboard's read model: what each page shows, read from the scan history (the newest succeeded
// scan of a series for the current state, the series' scans for the trend) and the fix store, as
// plain values the page renderers only format. It never evaluates the cluster and never creates the
// database: with no store, or nothing stored yet, the pages say how to run a first scan.
//
// Which series a page reads: the whole-cluster scans when there are any; for a namespace, the scans of
// exactly that namespace, else the whole-cluster ones, else the series that scanned it most (the rules
// of get_compliance_trends, so the dashboard and the tool agree). With only namespace-scoped scans and
// no namespace asked for, the first namespace of the newest scan is shown, and the page says so.
import { ForbiddenError, InvalidInputError, NotFoundError } from "../../errors.js";
import { approvalReason } from "../../policy/enforcement.js";
import type { CatalogueView } from "../../policy/evaluator.js";
import { CATEGORIES, SEVERITIES, type Severity } from "../../policy/types.js";
import type { AutoFixEfficiency } from "../../report/autofix.js";
import type { ComplianceTrend } from "../../report/trend.js";
import type { Runtime } from "../../runtime.js";
import { existingScanStore } from "../../scans/scan.js";
import { computeAutoFixEfficiency, fixabilityFor } from "../../scans/autofix.js";
import { computeTrend, DEFAULT_TREND_DAYS } from "../../scans/trends.js";
import { FixStore, type FixChange, type PendingFix } from "../../store/fix-store.js";
import {
  CLUSTER_SCOPE,
  SCAN_STATUSES,
  scopeKey,
  type FindingFilter,
  type ScanRecord,
  type ScanStatus,
  type ScanStore,
  type SeriesRef,
  type StoredFinding,
  type WorkloadFindingCount,
} from "../../store/scan-store.js";

const DAY_MS = 86_400_000;
export const PAGE_SIZE = 100;
const TOP = 10;
const HISTORY_ROWS = 200;

// ---------------------------------------------------------------------------------------------
// Query parameters: a form sends "" for "any"; a value that cannot be right is a 400 naming it.

export type Query = Record<string, string | string[] | undefined>;

export function single(query: Query, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) {
    throw new InvalidInputError(`query parameter ${name} is given ${value.length} times`, { details: [{ where: `query.${name}`, message: "give it once" }] });
  }
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function oneOf<T extends string>(query: Query, name: string, allowed: readonly T[]): T | undefined {
  const value = single(query, name);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new InvalidInputError(`invalid ${name} ${JSON.stringify(value)}`, { details: [{ where: `query.${name}`, message: `must be one of ${allowed.join(", ")}` }] });
  }
  return value as T;
}

export function namespaceParam(runtime: Runtime, query: Query): string | null {
  const namespace = single(query, "namespace");
  if (namespace === undefined) return null;
  if (!DNS_LABEL.test(namespace)) {
    throw new InvalidInputError(`invalid namespace ${JSON.stringify(namespace)}`, { details: [{ where: "query.namespace", message: "lowercase letters, digits and '-', at most 63" }] });
  }
  checkAllowed(runtime, namespace);
  return namespace;
}

function checkAllowed(runtime: Runtime, namespace: string): void {
  if (!runtime.namespaceAllowed(namespace)) {
    throw new ForbiddenError(`namespace ${JSON.stringify(namespace)} is not allowed by the policy configuration (namespaces.allow / namespaces.deny)`);
  }
}

function integerParam(query: Query, name: string, min: number, max: number, fallback: number): number {
  const value = single(query, name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new InvalidInputError(`invalid ${name} ${JSON.stringify(value)}`, { details: [{ where: `query.${name}`, message: `a whole number from ${min} to ${max}` }] });
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// The scope a page is about.

export interface Scope {
  cluster: string;
  /** The namespace the page is about; null for the whole cluster. */
  namespace: string | null;
  /** True when no namespace was asked for but no whole-cluster scan exists, so one was picked. */
  defaulted: boolean;
  /** Whether the store has whole-cluster scans (then "all namespaces" means something). */
  hasClusterSeries: boolean;
  series: SeriesRef;
  /** The newest succeeded scan of the series: what "now" means on the page. */
  latest: ScanRecord;
  /** Every namespace the newest scans cover that the configuration lets us show, sorted. */
  namespaces: string[];
  days: number;
}

/** The history database, or null when there is none yet (the dashboard never creates it). */
function storeOf(runtime: Runtime): ScanStore | null {
  return existingScanStore(runtime);
}

/**
 * The scope of a page: null when nothing succeeded is stored for the runtime's cluster.
 * A namespace no stored scan covers is a 404.
 */
function resolveScope(runtime: Runtime, store: ScanStore, asked: string | null, days: number, now: number): Scope | null {
  const cluster = runtime.source.clusterName;
  const latestPerSeries = store.latestSucceededPerSeries(cluster);
  if (latestPerSeries.length === 0) return null;
  const namespaceSet = new Set<string>();
  for (const scan of latestPerSeries) {
    for (const row of store.countsOfScan(scan.id)) if (row.namespace !== "" && runtime.namespaceAllowed(row.namespace)) namespaceSet.add(row.namespace);
  }
  const namespaces = [...namespaceSet].sort();
  const hasClusterSeries = latestPerSeries.some((s) => scopeKey(s.namespaces) === CLUSTER_SCOPE);
  let namespace = asked;
  let defaulted = false;
  if (namespace === null && !hasClusterSeries) {
    const newest = latestPerSeries[0]!;
    namespace = (newest.namespaces ?? []).find((ns) => runtime.namespaceAllowed(ns)) ?? namespaces[0] ?? null;
    defaulted = true;
    if (namespace === null) return null; // every scanned namespace is now denied by the configuration
  }
  // The same choice as computeTrend: within the window first, else over the whole history.
  const series = store.seriesFor(cluster, namespace, now - days * DAY_MS) ?? store.seriesFor(cluster, namespace, 0);
  if (!series) throw new NotFoundError(`no stored scan of ${cluster} covers namespace ${JSON.stringify(namespace)}`);
  const latest = latestPerSeries.find((s) => scopeKey(s.namespaces) === series.scope);
  if (!latest) throw new NotFoundError(`no succeeded scan of ${cluster} covers namespace ${JSON.stringify(namespace)}`);
  return { cluster, namespace, defaulted, hasClusterSeries, series, latest, namespaces, days };
}

/** The namespaces a query about the scope may show: the scope's namespace, or every allowed one. */
function visibleNamespaces(runtime: Runtime, store: ScanStore, scope: Scope): string[] {
  if (scope.namespace !== null) return [scope.namespace];
  const inScan = store.countsOfScan(scope.latest.id).map((r) => r.namespace).filter((ns) => ns !== "");
  return inScan.filter((ns) => runtime.namespaceAllowed(ns));
}

// ---------------------------------------------------------------------------------------------
// Fix hints: what the catalogue and the configuration say about fixing a rule's findings.

export interface FixHint {
  title: string;
  remediation: string;
  /** Null: the rule reports a remediation only, no automatic fix. */
  fixRisk: string | null;
  /** Why the automatic fix needs an approval; null when it applies on request (or there is none). */
  approval: string | null;
}

function fixHints(runtime: Runtime): (ruleId: string, severity: string) => FixHint {
  const catalogue = new Map<string, CatalogueView>(runtime.evaluator.catalogue().map((r) => [r.id, r]));
  return (ruleId, severity) => {
    const rule = catalogue.get(ruleId);
    if (!rule) return { title: ruleId, remediation: "This rule is no longer in the catalogue.", fixRisk: null, approval: null };
    const sev = (SEVERITIES as readonly string[]).includes(severity) ? (severity as Severity) : rule.severity;
    return {
      title: rule.title,
      remediation: rule.remediation,
      fixRisk: rule.fixRisk,
      approval: rule.fixRisk ? approvalReason(rule, sev, rule.fixRisk, runtime.config) : null,
    };
  };
}

export type FindingRow = StoredFinding & { hint: FixHint };

// ---------------------------------------------------------------------------------------------
// Pages.

export interface Empty {
  kind: "empty";
  cluster: string;
  /** Whether a history database exists at all. */
  store: boolean;
  /** Failed scans of this cluster, newest first (why nothing succeeded yet). */
  failed: ScanRecord[];
  /** Other clusters with succeeded scans in the same store. */
  otherClusters: string[];
}

function empty(runtime: Runtime, store: ScanStore | null): Empty {
  const cluster = runtime.source.clusterName;
  if (!store) return { kind: "empty", cluster, store: false, failed: [], otherClusters: [] };
  const failed = store.list({ status: "failed", limit: 10 }).filter((s) => s.cluster === cluster);
  const otherClusters = [...new Set(store.latestSucceededPerSeries().map((s) => s.cluster))].filter((c) => c !== cluster).sort();
  return { kind: "empty", cluster, store: true, failed, otherClusters };
}

export interface Breakdown {
  key: string;
  percent: number | null;
  passed: number;
  failed: number;
  open: number;
}

export interface Overview {
  kind: "overview";
  scope: Scope;
  trend: ComplianceTrend | null;
  /** Auto-Fix Efficiency over the same window as the trend (the report's and get_compliance_trends' numbers); null: no data. */
  autoFix: AutoFixEfficiency | null;
  score: { latest: number | null; previous: number | null };
  totals: { open: number; workloads: number; workloadsFailed: number; failingRules: number; bySeverity: Record<Severity, number> };
  categories: Breakdown[];
  /** Frameworks the organisation follows (organization.compliance) first. */
  frameworks: (Breakdown & { followed: boolean })[];
  severities: { severity: Severity; open: number; rules: number }[];
  topRules: { ruleId: string; title: string; severity: string; category: string; open: number; workloads: number }[];
  topWorkloads: WorkloadFindingCount[];
  /** Per namespace of the latest scan (whole-cluster view only). */
  namespaceScores: { namespace: string; percent: number | null; open: number; workloads: number; workloadsFailed: number }[];
  /** Scans of this cluster whose newest run failed: the data may be stale. */
  failing: ScanRecord[];
}

const severityRank = (s: string) => {
  const i = (SEVERITIES as readonly string[]).indexOf(s);
  return i < 0 ? SEVERITIES.length : i;
};

export function overview(runtime: Runtime, query: Query, now: number = Date.now()): Overview | Empty {
  const asked = namespaceParam(runtime, query);
  const days = integerParam(query, "days", 1, 3650, DEFAULT_TREND_DAYS);
  const store = storeOf(runtime);
  const scope = store ? resolveScope(runtime, store, asked, days, now) : null;
  if (!store || !scope) return empty(runtime, store);
  const nsKey = scope.namespace ?? "";
  const trend = computeTrend(store, { cluster: scope.cluster, namespace: scope.namespace, days, now });
  const points = trend?.score.points ?? [];
  const scores = store.scoresOfScan(scope.latest.id).filter((s) => s.namespace === nsKey);
  const counts = store.countsOfScan(scope.latest.id);
  const groups = store.openFindingGroups(scope.series, { namespaces: visibleNamespaces(runtime, store, scope) });
  const hint = fixHints(runtime);

  const openBy = <K extends string>(key: (g: (typeof groups)[number]) => K) => {
    const m = new Map<K, number>();
    for (const g of groups) m.set(key(g), (m.get(key(g)) ?? 0) + g.open);
    return m;
  };
  const openByCategory = openBy((g) => g.category);
  const categoryScores = new Map(scores.filter((s) => s.dimension === "category").map((s) => [s.key, s]));
  const categories: Breakdown[] = [...new Set<string>([...CATEGORIES, ...categoryScores.keys()])]
    .filter((key) => categoryScores.has(key) || openByCategory.has(key))
    .map((key) => {
      const s = categoryScores.get(key);
      return { key, percent: s?.percent ?? null, passed: s?.passed ?? 0, failed: s?.failed ?? 0, open: openByCategory.get(key) ?? 0 };
    });
  const followed = new Set(runtime.config.organization?.compliance ?? []);
  const frameworks = scores
    .filter((s) => s.dimension === "framework")
    .map((s) => ({ key: s.key, percent: s.percent, passed: s.passed, failed: s.failed, open: 0, followed: followed.has(s.key) }))
    .sort((a, b) => Number(b.followed) - Number(a.followed) || a.key.localeCompare(b.key));

  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  const rulesBySeverity = new Map<string, Set<string>>();
  const byRule = new Map<string, { ruleId: string; severity: string; category: string; open: number; workloads: number }>();
  for (const g of groups) {
    if (g.severity in bySeverity) bySeverity[g.severity as Severity] += g.open;
    (rulesBySeverity.get(g.severity) ?? rulesBySeverity.set(g.severity, new Set()).get(g.severity)!).add(g.ruleId);
    const r = byRule.get(g.ruleId) ?? byRule.set(g.ruleId, { ruleId: g.ruleId, severity: g.severity, category: g.category, open: 0, workloads: 0 }).get(g.ruleId)!;
    r.open += g.open;
    r.workloads += g.workloads; // workloads are namespaced: the groups of one rule never share one
    if (severityRank(g.severity) < severityRank(r.severity)) r.severity = g.severity;
  }
  const topRules = [...byRule.values()]
    .sort((a, b) => severityRank(a.severity) - severityRank(b.severity) || b.open - a.open || a.ruleId.localeCompare(b.ruleId))
    .slice(0, TOP)
    .map((r) => ({ ...r, title: hint(r.ruleId, r.severity).title }));

  const countsOf = new Map(counts.map((c) => [c.namespace, c]));
  const own = countsOf.get(nsKey);
  const overallScore = scores.find((s) => s.dimension === "overall");
  const namespaceScores =
    scope.namespace === null
      ? store
          .scoresOfScan(scope.latest.id)
          .filter((s) => s.dimension === "overall" && s.namespace !== "" && runtime.namespaceAllowed(s.namespace))
          .map((s) => {
            const c = countsOf.get(s.namespace);
            return { namespace: s.namespace, percent: s.percent, open: c?.open ?? 0, workloads: c?.workloads ?? 0, workloadsFailed: c?.workloadsFailed ?? 0 };
          })
          .sort((a, b) => (a.percent ?? 101) - (b.percent ?? 101) || a.namespace.localeCompare(b.namespace))
      : [];
  const failing = store
    .scanNameStats()
    .map((s) => s.lastFinished)
    .filter((s): s is ScanRecord => s !== null && s.status === "failed" && s.cluster === scope.cluster)
    .sort((a, b) => (b.finishedAt ?? "").localeCompare(a.finishedAt ?? ""));

  return {
    kind: "overview",
    scope,
    trend,
    autoFix: computeAutoFixEfficiency(store, {
      cluster: scope.cluster,
      namespace: scope.namespace,
      days,
      now,
      fixability: fixabilityFor(runtime.evaluator.catalogue(), runtime.config),
    }),
    score: {
      latest: overallScore?.percent ?? scope.latest.compliancePercent,
      previous: points.length > 1 ? points.at(-2)!.percent : null,
    },
    totals: {
      open: groups.reduce((n, g) => n + g.open, 0),
      workloads: own?.workloads ?? scope.latest.workloads.evaluated,
      workloadsFailed: own?.workloadsFailed ?? scope.latest.workloads.failed,
      failingRules: byRule.size,
      bySeverity,
    },
    categories,
    frameworks,
    severities: SEVERITIES.map((severity) => ({ severity, open: bySeverity[severity], rules: rulesBySeverity.get(severity)?.size ?? 0 })),
    topRules,
    topWorkloads: store.openByWorkload(scope.series, { namespaces: visibleNamespaces(runtime, store, scope) }, TOP),
    namespaceScores,
    failing,
  };
}

export interface ViolationFilters {
  namespace: string | null;
  severity: Severity | undefined;
  category: string | undefined;
  framework: string | undefined;
  rule: string | undefined;
  page: number;
}

export interface Violations {
  kind: "violations";
  scope: Scope;
  filters: ViolationFilters;
  options: { namespaces: string[]; frameworks: string[]; rules: string[] };
  total: number;
  rows: FindingRow[];
  pageSize: number;
}

export function violations(runtime: Runtime, query: Query, now: number = Date.now()): Violations | Empty {
  const catalogue = runtime.evaluator.catalogue();
  const frameworks = [...new Set(catalogue.flatMap((r) => Object.keys(r.frameworks)))].sort();
  const filters: ViolationFilters = {
    namespace: namespaceParam(runtime, query),
    severity: oneOf(query, "severity", SEVERITIES),
    category: oneOf(query, "category", CATEGORIES),
    framework: oneOf(query, "framework", frameworks),
    rule: single(query, "rule"),
    page: integerParam(query, "page", 1, 100_000, 1),
  };
  if (filters.rule !== undefined && filters.rule.length > 200) {
    throw new InvalidInputError("invalid rule: longer than 200 characters", { details: [{ where: "query.rule", message: "a rule id" }] });
  }
  const store = storeOf(runtime);
  const scope = store ? resolveScope(runtime, store, filters.namespace, DEFAULT_TREND_DAYS, now) : null;
  if (!store || !scope) return empty(runtime, store);
  if (scope.defaulted) filters.namespace = scope.namespace;

  const visible = visibleNamespaces(runtime, store, scope);
  const filter: FindingFilter = { namespaces: visible };
  if (filters.severity) filter.severities = [filters.severity];
  if (filters.category) filter.categories = [filters.category];
  let ruleIds: string[] | undefined = filters.rule ? [filters.rule] : undefined;
  if (filters.framework) {
    const fw = filters.framework;
    const mapped = catalogue.filter((r) => (r.frameworks[fw]?.length ?? 0) > 0).map((r) => r.id);
    ruleIds = ruleIds ? ruleIds.filter((id) => mapped.includes(id)) : mapped;
  }
  if (ruleIds) filter.ruleIds = ruleIds;
  const { total, rows } = store.findFindings(scope.series, filter, { limit: PAGE_SIZE, offset: (filters.page - 1) * PAGE_SIZE });
  const hint = fixHints(runtime);
  const rules = [...new Set(store.openFindingGroups(scope.series, { namespaces: visible }).map((g) => g.ruleId))];
  if (filters.rule && !rules.includes(filters.rule)) rules.push(filters.rule);
  return {
    kind: "violations",
    scope,
    filters,
    options: { namespaces: scope.namespaces, frameworks, rules: rules.sort() },
    total,
    rows: rows.map((r) => ({ ...r, hint: hint(r.ruleId, r.severity) })),
    pageSize: PAGE_SIZE,
  };
}

export interface WorkloadDetail {
  kind: "workload";
  scope: Scope;
  workload: { namespace: string; kind: string; name: string };
  open: FindingRow[];
  /** Findings on this workload that later scans resolved, newest first. */
  resolved: StoredFinding[];
  pending: PendingFix[];
  changes: FixChange[];
}

export function workload(runtime: Runtime, ref: { namespace: string; kind: string; name: string }, now: number = Date.now()): WorkloadDetail | Empty {
  checkAllowed(runtime, ref.namespace);
  const store = storeOf(runtime);
  const scope = store ? resolveScope(runtime, store, ref.namespace, DEFAULT_TREND_DAYS, now) : null;
  if (!store || !scope) return empty(runtime, store);
  const { rows } = store.findFindings(scope.series, { workload: ref, includeResolved: true }, { limit: 500, offset: 0 });
  const hint = fixHints(runtime);
  const fixes = new FixStore(store.db);
  const same = (w: { namespace: string; kind: string; name: string }) => w.namespace === ref.namespace && w.kind === ref.kind && w.name === ref.name;
  return {
    kind: "workload",
    scope,
    workload: ref,
    open: rows.filter((r) => r.resolvedAt === null).map((r) => ({ ...r, hint: hint(r.ruleId, r.severity) })),
    resolved: rows.filter((r) => r.resolvedAt !== null),
    pending: fixes.listPending({ namespace: ref.namespace, limit: 500 }).filter(same),
    changes: fixes.listChanges({ namespace: ref.namespace, limit: 500 }).filter(same),
  };
}

export interface Fixes {
  kind: "fixes";
  cluster: string;
  namespace: string | null;
  pending: PendingFix[];
  changes: FixChange[];
}

export function fixes(runtime: Runtime, query: Query): Fixes {
  const namespace = namespaceParam(runtime, query);
  const store = storeOf(runtime);
  const cluster = runtime.source.clusterName;
  if (!store) return { kind: "fixes", cluster, namespace, pending: [], changes: [] };
  const fixStore = new FixStore(store.db);
  const allowed = (f: { namespace: string }) => runtime.namespaceAllowed(f.namespace);
  const pending = fixStore.listPending({ namespace: namespace ?? undefined, limit: HISTORY_ROWS }).filter(allowed);
  // Waiting ones first: they are what someone has to act on.
  pending.sort((a, b) => Number(b.status === "pending") - Number(a.status === "pending") || b.createdAt.localeCompare(a.createdAt));
  return { kind: "fixes", cluster, namespace, pending, changes: fixStore.listChanges({ namespace: namespace ?? undefined, limit: HISTORY_ROWS }).filter(allowed) };
}

export interface Scans {
  kind: "scans";
  cluster: string;
  status: ScanStatus | undefined;
  scans: ScanRecord[];
  byName: { name: string; succeeded: number; failed: number; running: number; lastSuccessAt: number | null; lastFailureAt: number | null; lastStatus: ScanStatus | null }[];
}

export function scans(runtime: Runtime, query: Query): Scans {
  const status = oneOf(query, "status", SCAN_STATUSES);
  const store = storeOf(runtime);
  const cluster = runtime.source.clusterName;
  if (!store) return { kind: "scans", cluster, status, scans: [], byName: [] };
  return {
    kind: "scans",
    cluster,
    status,
    scans: store.list({ status, limit: HISTORY_ROWS }),
    byName: store.scanNameStats().map(({ lastFinished, ...rest }) => ({ ...rest, lastStatus: lastFinished?.status ?? null })),
  };
}
