// The queries behind Auto-Fix Efficiency: the findings' lifecycle of a scan series (migration 001) read
// against the fix history (migration 002). The only SQL that joins the two; the definition of the metric
// is scans/autofix.ts, which reads these rows.
//
// A violation is a finding identity of the series (rule, workload, field). Of the identities open at some
// point between the start of a window and now, the newest open interval decides its state: still open,
// or resolved with the resolution the scan recorded. A resolution "fixed" is attributed to kube-policy when a change of the fix
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
   * The violations of a series (one namespace, or all) open at some point since `since`, counted by state,
   * rule and severity, with how many resolutions kube-policy's fixes account for. What is open comes from
   * the per-rule counts of the series' newest succeeded scan (the findings open now, without reading
   * them); only the findings resolved in the window are read, through the resolved-findings indexes.
   */
  windowCounts(series: SeriesRef, namespace: string | null, since: number): StateCounts[] {
    const latest = this.db
      .prepare("SELECT id FROM scans WHERE cluster = ? AND scope = ? AND status = 'succeeded' ORDER BY started_at DESC, id DESC LIMIT 1")
      .get(series.cluster, series.scope) as { id: number } | undefined;
    const open = latest
      ? (this.db
          .prepare(
            `SELECT 'open' AS state, rule_id AS ruleId, severity, SUM(open) AS count, 0 AS autoFixed FROM scan_rule_counts
             WHERE scan_id = ? AND namespace = ? GROUP BY rule_id, severity`,
          )
          .all(latest.id, namespace ?? "") as StateCounts[])
      : [];
    // Resolved in the window, the newest interval of each identity, unless the identity is open again.
    const sql = `
      WITH resolved AS (
        SELECT f.identity, f.rule_id, f.severity, f.kind, f.namespace, f.name, f.resolution, f.resolved_scan, f.resolved_at, f.last_seen_scan,
               f.last_seen_at, f.first_seen_at,
               ROW_NUMBER() OVER (PARTITION BY f.identity ORDER BY f.first_seen_at DESC, f.resolved_at DESC) AS newest
        FROM findings f
        WHERE f.cluster = @cluster AND f.scope = @scope ${namespace === null ? "" : "AND f.namespace = @namespace"} AND f.resolved_at >= @since
      ),
      latest AS (
        SELECT r.*,
               COALESCE((SELECT s.started_at FROM scans s WHERE s.id = r.last_seen_scan), r.last_seen_at, r.first_seen_at) AS after_ms,
               COALESCE((SELECT s.started_at FROM scans s WHERE s.id = r.resolved_scan), r.resolved_at) AS before_ms
        FROM resolved r
        WHERE r.newest = 1
          AND NOT EXISTS (SELECT 1 FROM findings o WHERE o.cluster = @cluster AND o.scope = @scope AND o.identity = r.identity AND o.resolved_at IS NULL)
      )
      SELECT l.resolution AS state, l.rule_id AS ruleId, l.severity, COUNT(*) AS count,
             SUM(CASE WHEN l.resolution = 'fixed' AND EXISTS (
               SELECT 1 FROM fix_changes c
               WHERE c.namespace = l.namespace AND c.kind = l.kind AND c.name = l.name
                 AND c.action IN ('fix', 'approve') AND c.rolled_back_by IS NULL
                 AND EXISTS (SELECT 1 FROM json_each(c.rule_ids) r WHERE r.value = l.rule_id)
                 AND ${CHANGE_MS} > l.after_ms AND ${CHANGE_MS} <= l.before_ms
             ) THEN 1 ELSE 0 END) AS autoFixed
      FROM latest l
      GROUP BY l.resolution, l.rule_id, l.severity`;
    const params = { cluster: series.cluster, scope: series.scope, since, ...(namespace === null ? {} : { namespace }) };
    return [...open, ...(this.db.prepare(sql).all(params) as StateCounts[])];
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
