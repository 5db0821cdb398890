-- Audit log retention (kube-policy audit prune). audit_log stays append-only for every ordinary
-- statement: UPDATE is always refused, and DELETE is refused unless the deleting transaction itself
-- holds the one row of audit_prune_authorization naming which rows may go (older than `before`, id at
-- most `max_id`). The prune inserts that row, deletes, removes the row and appends its own audit entry in
-- one IMMEDIATE transaction, so the authorization is never visible to another connection (isolation) and
-- never outlives the transaction (a crash rolls it back). The refusal keeps the message of migration 003. SQLite has no grants: whoever can write the file
-- can still drop the trigger; this guards the program's own code paths, it is not tamper-proofing.

CREATE TABLE audit_prune_authorization (
  id INTEGER PRIMARY KEY CHECK (id = 1),   -- at most one, inside the prune transaction only
  before TEXT NOT NULL,                    -- rows with time < before ...
  max_id INTEGER NOT NULL,                 -- ... and id <= max_id (the entries verified in the export)
  export_sha256 TEXT NOT NULL
);

DROP TRIGGER audit_log_no_delete;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN NOT EXISTS (SELECT 1 FROM audit_prune_authorization a WHERE OLD.time < a.before AND OLD.id <= a.max_id)
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only: rows cannot be deleted');
END;
