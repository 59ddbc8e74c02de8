-- Every outbox lane (channel: mail, sms) claims its own due rows and reports
-- its own queue depth, so the due index leads with the channel.
CREATE INDEX outbox_lane_due_idx ON outbox (channel, status, next_attempt_at);
DROP INDEX outbox_due_idx;
