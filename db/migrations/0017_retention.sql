-- Retention per organisation: how many months conversations without
-- activity and closed cases are kept (0 = kept for ever, the default).
-- Cases do not exist yet; their period is stored for when they do.
CREATE TABLE retention_settings (
    org_id BIGINT PRIMARY KEY REFERENCES organisations (id) ON DELETE CASCADE,
    conversation_months INTEGER NOT NULL DEFAULT 0,
    case_months INTEGER NOT NULL DEFAULT 0,
    updated_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    updated_at {{ts}} NOT NULL
);

-- The daily jobs (the retention of each organisation, the installation's
-- cleanup): when each runs next and what it did last. An instance claims a
-- due job by taking its lease (holder and until), renews it per batch and
-- gives it up when done, so that instances running at once do the job
-- once a day. last_result holds counts only.
CREATE TABLE daily_runs (
    job TEXT PRIMARY KEY,
    next_run_at {{ts}} NOT NULL,
    lease_holder TEXT NOT NULL DEFAULT '',
    lease_until {{ts}},
    last_run_at {{ts}},
    last_result TEXT NOT NULL DEFAULT ''
);

-- Retention looks for an organisation's conversations by last activity;
-- this index serves that and every lookup the one on org_id did.
CREATE INDEX threads_org_activity_idx ON threads (org_id, last_message_at);
DROP INDEX threads_org_idx;
-- The cleanup removes delivered outbox rows by age; partial, so that it
-- never competes with the lanes' index for the claims of pending rows.
CREATE INDEX outbox_sent_idx ON outbox (sent_at) WHERE status = 'sent';
