-- The data model of the whole product. {{pk}}, {{ts}} and {{bytes}} are
-- replaced per dialect (see db/migrate.go).

CREATE TABLE organisations (
    id {{pk}},
    name TEXT NOT NULL UNIQUE,
    created_at {{ts}} NOT NULL
);

CREATE TABLE users (
    id {{pk}},
    org_id BIGINT REFERENCES organisations (id) ON DELETE SET NULL,
    email TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('internal', 'external')),
    is_admin BOOLEAN NOT NULL DEFAULT FALSE,
    status TEXT NOT NULL CHECK (status IN ('invited', 'active', 'disabled')),
    language TEXT NOT NULL DEFAULT 'nl',
    gender TEXT NOT NULL DEFAULT 'unknown' CHECK (gender IN ('unknown', 'male', 'female', 'other')),
    initials TEXT NOT NULL DEFAULT '',
    first_name TEXT NOT NULL DEFAULT '',
    name_prefix TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    profile_completed_at {{ts}},
    password_hash TEXT NOT NULL DEFAULT '',
    password_changed_at {{ts}},
    away_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    away_message TEXT NOT NULL DEFAULT '',
    away_from {{ts}},
    away_until {{ts}},
    away_changed_at {{ts}},
    last_login_at {{ts}},
    last_seen_at {{ts}},
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL
);
CREATE INDEX users_org_idx ON users (org_id);

CREATE TABLE invitations (
    id {{pk}},
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    invited_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    token_hash {{bytes}} NOT NULL UNIQUE,
    created_at {{ts}} NOT NULL,
    expires_at {{ts}} NOT NULL,
    used_at {{ts}},
    revoked_at {{ts}}
);
CREATE INDEX invitations_user_idx ON invitations (user_id);

CREATE TABLE sessions (
    id {{pk}},
    token_hash {{bytes}} NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    second_factor_at {{ts}},
    created_at {{ts}} NOT NULL,
    last_seen_at {{ts}} NOT NULL,
    expires_at {{ts}} NOT NULL,
    ended_at {{ts}},
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE second_factors (
    id {{pk}},
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('sms', 'totp')),
    phone TEXT NOT NULL DEFAULT '',
    totp_secret {{bytes}},
    totp_last_step BIGINT NOT NULL DEFAULT 0,
    verified_at {{ts}},
    last_used_at {{ts}},
    created_at {{ts}} NOT NULL
);
CREATE INDEX second_factors_user_idx ON second_factors (user_id);

CREATE TABLE recovery_codes (
    id {{pk}},
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash {{bytes}} NOT NULL,
    used_at {{ts}},
    created_at {{ts}} NOT NULL
);
CREATE INDEX recovery_codes_user_idx ON recovery_codes (user_id);

CREATE TABLE one_time_codes (
    id {{pk}},
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    code_hash {{bytes}} NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    sent_at {{ts}} NOT NULL,
    expires_at {{ts}} NOT NULL,
    used_at {{ts}}
);
CREATE INDEX one_time_codes_user_idx ON one_time_codes (user_id, purpose);
CREATE INDEX one_time_codes_target_idx ON one_time_codes (target, sent_at);

CREATE TABLE terms_versions (
    id {{pk}},
    version INTEGER NOT NULL UNIQUE,
    body TEXT NOT NULL,
    published_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    published_at {{ts}} NOT NULL
);

CREATE TABLE terms_acceptances (
    id {{pk}},
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    terms_version_id BIGINT NOT NULL REFERENCES terms_versions (id),
    ip TEXT NOT NULL DEFAULT '',
    accepted_at {{ts}} NOT NULL,
    UNIQUE (user_id, terms_version_id)
);

CREATE TABLE threads (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at {{ts}} NOT NULL,
    last_message_at {{ts}} NOT NULL
);

CREATE TABLE participants (
    id {{pk}},
    thread_id BIGINT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    added_at {{ts}} NOT NULL,
    last_notified_at {{ts}},
    auto_replied_at {{ts}},
    removed_at {{ts}},
    UNIQUE (thread_id, user_id)
);
CREATE INDEX participants_user_idx ON participants (user_id);

CREATE TABLE messages (
    id {{pk}},
    thread_id BIGINT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    sender_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    body {{bytes}},
    key_id TEXT NOT NULL DEFAULT '',
    is_auto_reply BOOLEAN NOT NULL DEFAULT FALSE,
    created_at {{ts}} NOT NULL,
    deleted_at {{ts}}
);
CREATE INDEX messages_thread_idx ON messages (thread_id, created_at);

CREATE TABLE message_states (
    message_id BIGINT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    read_at {{ts}},
    removed_at {{ts}},
    PRIMARY KEY (message_id, user_id)
);
CREATE INDEX message_states_user_idx ON message_states (user_id, read_at);

CREATE TABLE attachments (
    id {{pk}},
    -- NULL while uploaded but not yet sent with a message.
    message_id BIGINT REFERENCES messages (id) ON DELETE CASCADE,
    -- NULL once the uploader stopped with Dialoog: the files of messages
    -- they sent stay in the other participants' boxes.
    uploader_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    storage_key TEXT NOT NULL UNIQUE,
    key_id TEXT NOT NULL,
    sha256 {{bytes}} NOT NULL,
    created_at {{ts}} NOT NULL
);
CREATE INDEX attachments_message_idx ON attachments (message_id);

CREATE TABLE outbox (
    id {{pk}},
    idempotency_key TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL CHECK (channel IN ('mail', 'sms')),
    recipient TEXT NOT NULL,
    payload {{bytes}},
    status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at {{ts}} NOT NULL,
    locked_until {{ts}},
    last_error TEXT NOT NULL DEFAULT '',
    transport TEXT NOT NULL DEFAULT '',
    created_at {{ts}} NOT NULL,
    sent_at {{ts}}
);
CREATE INDEX outbox_due_idx ON outbox (status, next_attempt_at);

CREATE TABLE audit_events (
    id {{pk}},
    user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    actor_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    ip TEXT NOT NULL DEFAULT '',
    created_at {{ts}} NOT NULL
);
CREATE INDEX audit_events_user_idx ON audit_events (user_id, created_at);

CREATE TABLE throttles (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL DEFAULT 0,
    window_start {{ts}} NOT NULL,
    blocked_until {{ts}}
);
