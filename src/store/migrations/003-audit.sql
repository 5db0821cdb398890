-- The audit trail (issue 5): every evaluation and every change, append-only. SQLite has no grants, so
-- triggers refuse UPDATE and DELETE; rows can only be added.

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time TEXT NOT NULL,                    -- ISO 8601, UTC (sorts as text)
  actor TEXT NOT NULL,
  action TEXT NOT NULL,                  -- the tool name, or what happened (fix, approve, rollback, ...)
  namespace TEXT,
  resource TEXT,                         -- Kind/name, when one workload was concerned
  rule_ids TEXT NOT NULL DEFAULT '[]',   -- JSON array
  outcome TEXT NOT NULL,                 -- ok | error:<code> | a tool-specific status (applied, dry-run, ...)
  details TEXT NOT NULL DEFAULT '{}'     -- JSON: arguments (secrets and large texts elided), result summary
);
CREATE INDEX audit_log_time ON audit_log (time);
CREATE INDEX audit_log_namespace_time ON audit_log (namespace, time);
CREATE INDEX audit_log_actor_time ON audit_log (actor, time);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only: rows cannot be updated');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only: rows cannot be deleted');
END;
