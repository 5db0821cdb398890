-- Notification history (read by list_notification_history and `kube-policy notify history`): where each
-- message went, and for each attempt what the other side answered and how long the delivery waited after it.

-- JSON {"targets": [...], "endpoint": "..."}: the Slack channel (none: the webhook's own) or the e-mail
-- recipients, and the endpoint with its secret part redacted (never the webhook path, never a user name).
-- NULL for messages recorded before this migration.
ALTER TABLE notifications ADD COLUMN destination TEXT;

-- What the other side answered to a delivered message (Slack's body, the SMTP reply), secrets removed.
ALTER TABLE notification_attempts ADD COLUMN response TEXT;
-- The wait the other side asked for (Slack's Retry-After on 429), in ms, whether or not it was honoured.
ALTER TABLE notification_attempts ADD COLUMN retry_after_ms INTEGER;
-- How long the delivery waited before the next attempt (the backoff or the Retry-After); NULL: no next attempt.
ALTER TABLE notification_attempts ADD COLUMN wait_ms INTEGER;
