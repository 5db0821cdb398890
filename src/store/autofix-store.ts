// The queries behind Auto-Fix Efficiency: the findings' lifecycle of a scan series (migration 001) read
// against the fix history (migration 002). The only SQL that joins the two; the definition of the metric
// is scans/autofix.ts, which reads these rows.
//
// A violation is a finding identity of the series (rule, workload, field). Of the identities open at some
// point in a window, the newest open interval decides its state: still open, or resolved with the
// resolution the scan recorded. A resolution "fixed" is attributed to kube-policy when a change of the fix
// history
//   - is on the same workload (namespace, kind, name) and lists the finding's rule,
//   - was applied by a fix or an approval (not a rollback) and has not been rolled back since,
//   - was recorded after the last scan that still saw the finding started, and no later than the
//     start of the scan that saw it resolved.
// The fix history has no cluster column: a change on a workload of the same name in another cluster
// kept in the same database would match too.
import type { Db } from "./db.js";
import type { SeriesRef } from "./scan-store.js";

export interface StateCounts {
  /** "open", or the resolution recorded when the finding was resolved. */
  state: string;
  autoFixed: number;
  count: number;
  ruleId: string;
  severity: string;
}

// ISO 8601 text (fix_changes) to epoch milliseconds (findings, scans), exact to the millisecond.
const CHANGE_MS = "CAST(ROUND((julianday(c.created_at) - 2440587.5) * 86400000) AS INTEGER)";

export class AutoFixStore {
  constructor(private readonly db: Db) {}

  /**
   * The violations of a series (one namespace, or all) open at some point between `since` and `now`,
   * counted by state, rule and severity, with how many resolutions kube-policy's fixes account for.
   */
  windowCounts(series: SeriesRef, namespace: string | null, since: number, now: number): StateCounts[] {
    const sql = `
      WITH windowed AS (
        SELECT f.id, f.rule_id, f.severity, f.kind, f.namespace, f.name, f.resolved_at, f.resolution, f.resolved_scan, f.last_seen_scan,
               f.last_seen_at, f.first_seen_at,
               ROW_NUMBER() OVER (PARTITION BY f.identity ORDER BY f.first_seen_at DESC, f.id DESC) AS newest
        FROM findings f
        WHERE f.cluster = @cluster AND f.scope = @scope ${namespace === null ? "" : "AND f.namespace = @namespace"}
          AND f.first_seen_at <= @now AND (f.resolved_at IS NULL OR f.resolved_at >= @since)
      ),
      latest AS (
        SELECT w.*,
               COALESCE((SELECT s.started_at FROM scans s WHERE s.id = w.last_seen_scan), w.last_seen_at, w.first_seen_at) AS after_ms,
               COALESCE((SELECT s.started_at FROM scans s WHERE s.id = w.resolved_scan), w.resolved_at) AS before_ms
        FROM windowed w WHERE w.newest = 1
      )
      SELECT CASE WHEN l.resolved_at IS NULL OR l.resolved_at > @now THEN 'open' ELSE l.resolution END AS state,
             l.rule_id AS ruleId, l.severity, COUNT(*) AS count,
             SUM(CASE WHEN l.resolved_at <= @now AND l.resolution = 'fixed' AND EXISTS (
               SELECT 1 FROM fix_changes c
               WHERE c.namespace = l.namespace AND c.kind = l.kind AND c.name = l.name
                 AND c.action IN ('fix', 'approve') AND c.rolled_back_by IS NULL
                 AND EXISTS (SELECT 1 FROM json_each(c.rule_ids) r WHERE r.value = l.rule_id)
                 AND ${CHANGE_MS} > l.after_ms AND ${CHANGE_MS} <= l.before_ms
             ) THEN 1 ELSE 0 END) AS autoFixed
      FROM latest l
      GROUP BY state, l.rule_id, l.severity`;
    const params = { cluster: series.cluster, scope: series.scope, since, now, ...(namespace === null ? {} : { namespace }) };
    return this.db.prepare(sql).all(params) as StateCounts[];
  }

  /**
   * Changes kube-policy applied (fix or approval) between `since` and `now` to workloads of these
   * namespaces (null: any), and how many of them were rolled back since.
   */
  appliedChanges(namespaces: readonly string[] | null, since: number, now: number): { applied: number; rolledBack: number } {
    const sql = `SELECT COUNT(*) AS applied, COALESCE(SUM(c.rolled_back_by IS NOT NULL), 0) AS rolledBack FROM fix_changes c
                 WHERE c.action IN ('fix', 'approve') AND ${CHANGE_MS} >= ? AND ${CHANGE_MS} <= ?
                   ${namespaces === null ? "" : "AND c.namespace IN (SELECT value FROM json_each(?))"}`;
    const params: (number | string)[] = [since, now];
    if (namespaces !== null) params.push(JSON.stringify(namespaces));
    return this.db.prepare(sql).get(...params) as { applied: number; rolledBack: number };
  }
}
