-- Notifications (issue 7): the events that were worth telling (after deduplication), every message sent
-- to a channel, every delivery attempt of a message, and what the notifier last saw of each scan scope
-- (for the stale-data check). Times are Unix epoch milliseconds, as in the scan history.

-- One row per event that passed deduplication. fingerprint identifies "the same event" (for a scan's
-- new violations: scope and the set of new finding keys); an event whose fingerprint is already here
-- within the deduplication window is not stored again, and therefore not sent again.
CREATE TABLE notification_events (
  id INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  scope TEXT NOT NULL,                   -- a scan scope ('*' or namespaces), or the namespace of a fix event
  scan_id INTEGER,                       -- no foreign key: the scan history is another module's and has retention
  severity TEXT,                         -- the highest severity the event concerns, when it concerns any
  payload TEXT NOT NULL,                 -- JSON: the event as src/notify/events.ts defines it
  created_at INTEGER NOT NULL
);
CREATE INDEX notification_events_fingerprint ON notification_events (fingerprint, created_at);
-- The digest reads the events of a period.
CREATE INDEX notification_events_created ON notification_events (created_at);

-- One row per message to one channel: the alert of one scan or fix event, a digest, or a test message.
CREATE TABLE notifications (
  id INTEGER PRIMARY KEY,
  channel TEXT NOT NULL CHECK (channel IN ('slack', 'email')),
  kind TEXT NOT NULL CHECK (kind IN ('alert', 'digest', 'test')),
  event_ids TEXT NOT NULL DEFAULT '[]',  -- JSON array of notification_events ids the message carries
  event_types TEXT NOT NULL DEFAULT '[]',-- JSON array, for reading the table without the payloads
  subject TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  error TEXT,                            -- the last attempt's error when the message failed
  created_at INTEGER NOT NULL,
  finished_at INTEGER
);
CREATE INDEX notifications_channel ON notifications (channel, kind, status, created_at);
CREATE INDEX notifications_created ON notifications (created_at);

-- Every delivery attempt: its number, outcome, the HTTP status (Slack) or SMTP reply code (e-mail) when
-- the other side answered, and the error (secrets removed) when it failed.
CREATE TABLE notification_attempts (
  id INTEGER PRIMARY KEY,
  notification_id INTEGER NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
  attempt INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('sent', 'failed')),
  retryable INTEGER NOT NULL DEFAULT 0,  -- 1 when the failure was one worth retrying (5xx, timeout, refused)
  status_code INTEGER,
  error TEXT,
  started_at INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  UNIQUE (notification_id, attempt)
);

-- What the notifier knows of each scan series (cluster, scope), as the scan history defines it: when it
-- first heard of it, its latest scan and its latest successful scan. checkStale() reads it;
-- onScanCompleted() writes it.
CREATE TABLE notification_scopes (
  cluster TEXT NOT NULL,                 -- '' when the scans do not name their cluster
  scope TEXT NOT NULL,
  first_seen_at INTEGER NOT NULL,
  last_scan_id INTEGER,
  last_scan_at INTEGER,
  last_status TEXT,
  last_success_id INTEGER,
  last_success_at INTEGER,
  PRIMARY KEY (cluster, scope)
) WITHOUT ROWID;
