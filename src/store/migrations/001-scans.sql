-- Scans and their history: one row per scan (running, succeeded or failed), the findings' lifecycle
-- per series, and per-scan scores and counts for the trend queries. Times are Unix epoch milliseconds
-- (integers compare and subtract cheaply in the time-to-resolve aggregates).
--
-- A series is (cluster, scope): scans of the same cluster and the same namespaces share one finding
-- lifecycle, whatever the scan's name. scope is '*' for the whole cluster, else the sorted namespaces
-- joined by ','.

CREATE TABLE scans (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  trigger TEXT NOT NULL CHECK (trigger IN ('schedule', 'manual', 'missed')),
  cluster TEXT NOT NULL,
  scope TEXT NOT NULL,
  rule_set_hash TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
  -- Why a scan failed ("interrupted", "cluster unreachable at ...", "missed 3 scheduled run(s) ..."),
  -- with the error code of the hierarchy when there was one.
  reason TEXT,
  error_code TEXT,
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  duration_ms INTEGER,
  -- The process running the scan ("host:pid"): a running scan whose owner is gone was interrupted.
  owner TEXT NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  workloads_total INTEGER NOT NULL DEFAULT 0,
  workloads_evaluated INTEGER NOT NULL DEFAULT 0,
  workloads_passed INTEGER NOT NULL DEFAULT 0,
  workloads_failed INTEGER NOT NULL DEFAULT 0,
  workloads_skipped INTEGER NOT NULL DEFAULT 0,
  compliance_percent REAL,
  findings_open INTEGER NOT NULL DEFAULT 0,
  findings_new INTEGER NOT NULL DEFAULT 0,
  findings_resolved INTEGER NOT NULL DEFAULT 0,
  -- JSON array of {where, message}: facts or lists that could not be read.
  warnings TEXT NOT NULL DEFAULT '[]'
);
-- list_scans (newest first, by status), trends (succeeded scans of a series in a window), overlap checks.
CREATE INDEX scans_started ON scans (started_at DESC);
CREATE INDEX scans_series ON scans (cluster, scope, status, started_at);
CREATE INDEX scans_name ON scans (name, started_at);
CREATE INDEX scans_running ON scans (status) WHERE status = 'running';

-- Scores of a succeeded scan: for its whole scope (namespace '') and for each namespace in it, overall,
-- per category and per framework (rules or controls passed / judged; percent null when none was judged).
CREATE TABLE scan_scores (
  scan_id INTEGER NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
  namespace TEXT NOT NULL,
  dimension TEXT NOT NULL CHECK (dimension IN ('overall', 'category', 'framework')),
  key TEXT NOT NULL,
  percent REAL,
  passed INTEGER NOT NULL,
  failed INTEGER NOT NULL,
  PRIMARY KEY (scan_id, namespace, dimension, key)
) WITHOUT ROWID;
CREATE INDEX scan_scores_namespace ON scan_scores (namespace, dimension, scan_id);

-- Workload and finding counts of a succeeded scan, for its whole scope ('') and each namespace in it.
CREATE TABLE scan_counts (
  scan_id INTEGER NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
  namespace TEXT NOT NULL,
  workloads INTEGER NOT NULL,
  workloads_failed INTEGER NOT NULL,
  open INTEGER NOT NULL,
  new INTEGER NOT NULL,
  resolved INTEGER NOT NULL,
  critical INTEGER NOT NULL,
  high INTEGER NOT NULL,
  medium INTEGER NOT NULL,
  low INTEGER NOT NULL,
  PRIMARY KEY (scan_id, namespace)
) WITHOUT ROWID;
CREATE INDEX scan_counts_namespace ON scan_counts (namespace, scan_id);

-- Findings open after a succeeded scan per rule and severity, for its whole scope ('') and each
-- namespace, with the first-seen time of the oldest: "still open, and for how long" without reading
-- every open finding.
CREATE TABLE scan_rule_counts (
  scan_id INTEGER NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
  namespace TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  severity TEXT NOT NULL,
  open INTEGER NOT NULL,
  oldest_first_seen_at INTEGER NOT NULL,
  PRIMARY KEY (scan_id, namespace, rule_id, severity)
) WITHOUT ROWID;

-- One row per open interval of a finding in a series: opened by the scan that first saw it, closed by
-- the first scan that no longer did. A finding that comes back after being resolved opens a new row.
-- Identity: rule, workload, and the field (or the message when the rule names no field), hashed into
-- `identity`. last_seen_* is NULL while the latest scan of the series saw the finding, and is written
-- only when a scan did not (it resolved the finding, or could not judge it and kept it open): a scan
-- then writes rows in proportion to what changed, not to everything still open.
-- No foreign key to scans: retention drops old scans while findings they opened may still be open.
CREATE TABLE findings (
  id INTEGER PRIMARY KEY,
  cluster TEXT NOT NULL,
  scope TEXT NOT NULL,
  identity TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  severity TEXT NOT NULL,
  category TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('violation', 'warning')),
  api_version TEXT NOT NULL,
  kind TEXT NOT NULL,
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  pointer TEXT NOT NULL,
  message TEXT NOT NULL,
  first_seen_scan INTEGER NOT NULL,
  first_seen_at INTEGER NOT NULL,
  last_seen_scan INTEGER,
  last_seen_at INTEGER,
  resolved_scan INTEGER,
  resolved_at INTEGER,
  -- fixed | exempted | excluded (namespace now excluded) | workload-removed | rule-disabled
  resolution TEXT
);
-- At most one open row per identity and series.
CREATE UNIQUE INDEX findings_open ON findings (cluster, scope, identity) WHERE resolved_at IS NULL;
-- What each scan diffs against, covering: the open findings of a series are read from this index alone.
CREATE INDEX findings_open_diff ON findings (cluster, scope, identity, first_seen_at, last_seen_scan) WHERE resolved_at IS NULL;
-- Time to resolve in a window, for the series and per namespace: covering, so the trend query reads
-- the index alone.
CREATE INDEX findings_resolved ON findings (cluster, scope, resolved_at, rule_id, severity, first_seen_at) WHERE resolved_at IS NOT NULL;
CREATE INDEX findings_namespace_resolved ON findings (cluster, scope, namespace, resolved_at, rule_id, severity, first_seen_at) WHERE resolved_at IS NOT NULL;
-- New and resolved findings of one scan.
CREATE INDEX findings_first_seen ON findings (first_seen_scan);
CREATE INDEX findings_resolved_scan ON findings (resolved_scan) WHERE resolved_scan IS NOT NULL;
