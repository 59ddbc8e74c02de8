-- How a person hears of new messages: 'message' (a mail per new message,
-- at most one per conversation per quarter of an hour while unread, as
-- before), 'daily' (one summary mail a day) or 'none'. Everyone starts with
-- 'message'. last_summary_at is when the last daily summary was queued: the
-- summary run claims a person by moving it into today, so that instances
-- running at once send one summary a day.
ALTER TABLE users ADD COLUMN notify TEXT NOT NULL DEFAULT 'message';
ALTER TABLE users ADD COLUMN last_summary_at {{ts}};
CREATE INDEX users_daily_summary ON users (notify, last_summary_at);
