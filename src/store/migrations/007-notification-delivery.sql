-- Notification delivery that survives rate limits, restarts and time (src/notify/notifier.ts).

-- What the message says (JSON: src/notify/content.ts MessageContent), so that a message left unfinished
-- by a stopped process can be sent again exactly as it was composed. NULL for older messages.
ALTER TABLE notifications ADD COLUMN content TEXT;
-- Which process is delivering the message (a random id per notifier) and until when its claim holds: the
-- owner renews it while it delivers; a pending message whose claim has lapsed (or that has none) was left
-- by a process that stopped, and the next notifier to start claims it in an IMMEDIATE transaction.
ALTER TABLE notifications ADD COLUMN owner TEXT;
ALTER TABLE notifications ADD COLUMN lease_until INTEGER;
CREATE INDEX notifications_unfinished ON notifications (status, lease_until) WHERE status = 'pending';

-- How long an attempt waited, before it was made, for a pause of its destination that another message's
-- rate limit set (Slack 429 + Retry-After, SMTP 421), and which message got that rate limit.
ALTER TABLE notification_attempts ADD COLUMN paused_ms INTEGER;
ALTER TABLE notification_attempts ADD COLUMN paused_by INTEGER;

-- Destinations told to wait: a Slack webhook (by the SHA-256 of its URL, never the URL) or an SMTP server.
-- Every delivery to it, in this process or another sharing the database, waits until `until` (ms).
CREATE TABLE notification_pauses (
  destination TEXT PRIMARY KEY,          -- slack:<sha256 of the webhook URL>, smtp://host:port
  until INTEGER NOT NULL,
  notification_id INTEGER,               -- the message that got the rate limit (no foreign key: retention)
  reason TEXT NOT NULL                   -- e.g. Slack rate-limited us (HTTP 429, Retry-After 1 s)
) WITHOUT ROWID;
