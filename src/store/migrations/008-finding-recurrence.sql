-- Policy effectiveness (scans/effectiveness.ts): whether a finding opened in a period came back after an
-- earlier interval of the same identity was resolved. Partial over resolved rows, so scans pay for it only
-- when they resolve a finding.
CREATE INDEX findings_identity_resolved ON findings (cluster, scope, identity, first_seen_at) WHERE resolved_at IS NOT NULL;
-- The findings active in a period (open now, or resolved in it) counted per rule, namespace and workload
-- from the indexes alone: open ones by rule, resolved ones by resolution time.
CREATE INDEX findings_open_rule ON findings (cluster, scope, rule_id, namespace, kind, name, first_seen_at) WHERE resolved_at IS NULL;
CREATE INDEX findings_resolved_workload ON findings (cluster, scope, resolved_at, rule_id, namespace, kind, name, first_seen_at) WHERE resolved_at IS NOT NULL;
