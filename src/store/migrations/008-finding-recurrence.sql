-- Policy effectiveness (scans/effectiveness.ts): whether a finding opened in a period came back after an
-- earlier interval of the same identity was resolved. Partial over resolved rows, so scans pay for it only
-- when they resolve a finding.
CREATE INDEX findings_identity_resolved ON findings (cluster, scope, identity, first_seen_at) WHERE resolved_at IS NOT NULL;
