-- Remediation (issue 5): fixes waiting for an approval, and every change applied to a workload with the
-- object before and after it, so a change can be explained and rolled back.

CREATE TABLE fix_pending (
  id TEXT PRIMARY KEY,                   -- short id shown to people: fix-1a2b3c4d
  created_at TEXT NOT NULL,              -- ISO 8601, UTC
  actor TEXT NOT NULL,                   -- who asked for the fix (mcp:<client>, http:<token name>, cli)
  namespace TEXT NOT NULL,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  severity TEXT NOT NULL,
  category TEXT NOT NULL,
  risk TEXT NOT NULL,
  reason TEXT NOT NULL,                  -- why it needs an approval
  patch TEXT NOT NULL,                   -- JSON Patch of the rule, against the object at resource_version
  findings TEXT NOT NULL,                -- JSON [{message, path}]
  diff TEXT NOT NULL,                    -- readable diff of what it would change
  resource_version TEXT,
  generation INTEGER,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'stale', 'obsolete')),
  decided_at TEXT,
  decided_by TEXT,
  decision_note TEXT,
  change_id TEXT                         -- the change an approval applied
);
CREATE INDEX fix_pending_workload ON fix_pending (namespace, kind, name, status);

CREATE TABLE fix_changes (
  id TEXT PRIMARY KEY,                   -- short id: chg-1a2b3c4d
  created_at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('fix', 'approve', 'rollback')),
  namespace TEXT NOT NULL,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  rule_ids TEXT NOT NULL,                -- JSON array: why
  patch TEXT NOT NULL,                   -- the JSON Patch sent (with its resourceVersion test)
  diff TEXT NOT NULL,
  before_object TEXT NOT NULL,           -- JSON, without status and managed fields
  after_object TEXT NOT NULL,
  resource_version_before TEXT,
  resource_version_after TEXT,
  generation_after INTEGER,
  pending_id TEXT REFERENCES fix_pending (id),
  rollback_of TEXT REFERENCES fix_changes (id),
  rolled_back_by TEXT REFERENCES fix_changes (id)
);
CREATE INDEX fix_changes_namespace ON fix_changes (namespace, created_at);
CREATE INDEX fix_changes_workload ON fix_changes (namespace, kind, name, created_at);
