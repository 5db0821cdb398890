// The queries behind policy effectiveness (scans/effectiveness.ts owns the definitions). Per rule, over a
// scan series and a period: intervals opened (and how many came back after a resolution), resolution times,
// and the findings active in the period (open now or resolved in it) with the workloads and namespaces
// they are on. Open-now counts and the fix attribution come from store/autofix-store.ts.
//
// Cost: every statement starts from an index: the series' scans in the period (scans_series), the findings
// they opened (findings_first_seen), the earlier resolved interval of an identity (findings_identity_resolved),
// the open findings of the series (findings_open) and those resolved in the period (findings_resolved).
// The findings active in the period are counted from two covering indexes (migration 008).
import type { Db } from "./db.js";
import type { SeriesRef } from "./scan-store.js";

export interface OpenedRow {
  ruleId: string;
  category: string;
  severity: string;
  opened: number;
  recurred: number;
}

export interface ResolutionTimeRow {
  ruleId: string;
  category: string;
  resolutions: number;
  medianMs: number;
  p90Ms: number;
}

export interface AffectedWorkload {
  namespace: string;
  kind: string;
  name: string;
  findings: number;
  rules: number;
}

export class EffectivenessStore {
  constructor(private readonly db: Db) {}

  /** The clusters with a succeeded scan stored (the CLI's default when the database holds one). */
  clusters(): string[] {
    return (this.db.prepare("SELECT DISTINCT cluster FROM scans WHERE status = 'succeeded' ORDER BY cluster").all() as { cluster: string }[]).map((r) => r.cluster);
  }

  /** Intervals opened by the series' succeeded scans started since `since`, per rule, and how many reopen an identity resolved before. */
  opened(series: SeriesRef, namespace: string | null, since: number): OpenedRow[] {
    const sql = `
      SELECT f.rule_id AS ruleId, f.category, MAX(f.severity) AS severity, COUNT(*) AS opened,
             SUM(EXISTS (SELECT 1 FROM findings p INDEXED BY findings_identity_resolved
                         WHERE p.cluster = f.cluster AND p.scope = f.scope AND p.identity = f.identity
                           AND p.resolved_at IS NOT NULL AND p.first_seen_at < f.first_seen_at)) AS recurred
      FROM scans s JOIN findings f INDEXED BY findings_first_seen ON f.first_seen_scan = s.id
      WHERE s.cluster = @cluster AND s.scope = @scope AND s.status = 'succeeded' AND s.started_at >= @since
        ${namespace === null ? "" : "AND f.namespace = @namespace"}
      GROUP BY f.rule_id, f.category`;
    return this.db.prepare(sql).all(params(series, namespace, since)) as OpenedRow[];
  }

  /** Every interval resolved since `since`, per rule: count, median and 90th percentile of resolved_at - first_seen_at. */
  resolutionTimes(series: SeriesRef, namespace: string | null, since: number): ResolutionTimeRow[] {
    const sql = `
      SELECT rule_id AS ruleId, category, COUNT(*) AS resolutions, median(resolved_at - first_seen_at) AS medianMs,
             percentile(resolved_at - first_seen_at, 90) AS p90Ms
      FROM findings
      WHERE cluster = @cluster AND scope = @scope AND resolved_at >= @since ${namespace === null ? "" : "AND namespace = @namespace"}
      GROUP BY rule_id, category`;
    return this.db.prepare(sql).all(params(series, namespace, since)) as ResolutionTimeRow[];
  }

  /** Intervals active in the period (open now, or resolved since `since`) per rule and namespace. */
  activeByNamespace(series: SeriesRef, namespace: string | null, since: number): { ruleId: string; namespace: string; findings: number }[] {
    return this.db
      .prepare(`WITH ${activeCte(namespace)} SELECT rule_id AS ruleId, namespace, COUNT(*) AS findings FROM active GROUP BY rule_id, namespace`)
      .all(params(series, namespace, since)) as { ruleId: string; namespace: string; findings: number }[];
  }

  /** How long the intervals active in the period were open (until `now` for open ones), per rule, as (duration, how many) pairs. */
  openDurations(series: SeriesRef, namespace: string | null, since: number, now: number): { ruleId: string; ms: number; n: number }[] {
    // Scans stamp first_seen_at and resolved_at: a series has few distinct durations, whatever its size.
    return this.db
      .prepare(`WITH ${activeCte(namespace)} SELECT rule_id AS ruleId, COALESCE(resolved_at, @now) - first_seen_at AS ms, COUNT(*) AS n FROM active GROUP BY rule_id, ms`)
      .all({ ...params(series, namespace, since), now }) as { ruleId: string; ms: number; n: number }[];
  }

  /** The `limit` workloads with the most intervals active in the period (all rules, or these), with how many rules those are of. */
  mostAffectedWorkloads(series: SeriesRef, namespace: string | null, since: number, ruleIds: readonly string[] | null, limit: number): AffectedWorkload[] {
    const rules = ruleIds === null ? "" : "WHERE rule_id IN (SELECT value FROM json_each(@rules))";
    return this.db
      .prepare(
        `WITH ${activeCte(namespace)} SELECT namespace, kind, name, COUNT(*) AS findings, COUNT(DISTINCT rule_id) AS rules FROM active ${rules}
         GROUP BY namespace, kind, name ORDER BY findings DESC, namespace, kind, name LIMIT @limit`,
      )
      .all({ ...params(series, namespace, since), limit, ...(ruleIds === null ? {} : { rules: JSON.stringify(ruleIds) }) }) as AffectedWorkload[];
  }
}

function params(series: SeriesRef, namespace: string | null, since: number): Record<string, string | number> {
  return { cluster: series.cluster, scope: series.scope, since, ...(namespace === null ? {} : { namespace }) };
}

// Open now (findings_open_rule) and resolved since @since (findings_resolved_workload): both covering.
function activeCte(namespace: string | null): string {
  const ns = namespace === null ? "" : "AND namespace = @namespace";
  return `active AS (
      SELECT rule_id, namespace, kind, name, first_seen_at, NULL AS resolved_at FROM findings INDEXED BY findings_open_rule
      WHERE cluster = @cluster AND scope = @scope AND resolved_at IS NULL ${ns}
      UNION ALL
      SELECT rule_id, namespace, kind, name, first_seen_at, resolved_at FROM findings INDEXED BY findings_resolved_workload
      WHERE cluster = @cluster AND scope = @scope AND resolved_at >= @since ${ns})`;
}
