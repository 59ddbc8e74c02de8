-- Web Push: a third outbox lane (channel 'push') and the browsers' push
-- subscriptions. SQLite cannot change a CHECK constraint, so the outbox is
-- rebuilt with the same columns, rows and indexes.
CREATE TABLE outbox_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL CHECK (channel IN ('mail', 'sms', 'push')),
    recipient TEXT NOT NULL,
    payload BLOB,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_error TEXT NOT NULL DEFAULT '',
    transport TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP,
    send_by TIMESTAMP
);
INSERT INTO outbox_new (id, idempotency_key, channel, recipient, payload, status, attempts, next_attempt_at,
    locked_until, last_error, transport, created_at, sent_at, send_by)
SELECT id, idempotency_key, channel, recipient, payload, status, attempts, next_attempt_at,
    locked_until, last_error, transport, created_at, sent_at, send_by FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_lane_due_idx ON outbox (channel, status, next_attempt_at);
CREATE INDEX outbox_sent_idx ON outbox (sent_at) WHERE status = 'sent';

-- One row a browser (device) that a user allowed to show notifications.
-- The endpoint is the push service's URL for it; its keys are sealed.
CREATE TABLE push_subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint TEXT NOT NULL UNIQUE,
    keys BLOB NOT NULL,
    user_agent TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX push_subscriptions_user_idx ON push_subscriptions (user_id);
