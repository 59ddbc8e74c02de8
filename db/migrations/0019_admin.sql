-- Beheer: an audit row of an organisation's admin action names the
-- organisation, so that its admins find it (rows of its internal users are
-- found through users.org_id); existing rows keep NULL.
ALTER TABLE audit_events ADD COLUMN org_id BIGINT;
CREATE INDEX audit_events_org_idx ON audit_events (org_id, created_at);
CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, created_at);
-- A helpdesk reset: an admin of org_id started it for user_id; the person
-- needs both the mailed link (token_hash) and the code the admin gave by
-- phone (code_mac, a MAC under the server's key) to set up a new factor.
CREATE TABLE helpdesk_resets (
    id {{pk}},
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    started_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    token_hash {{bytes}} NOT NULL,
    code_mac {{bytes}} NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at {{ts}} NOT NULL,
    expires_at {{ts}} NOT NULL,
    used_at {{ts}},
    revoked_at {{ts}}
);
CREATE UNIQUE INDEX helpdesk_resets_token_idx ON helpdesk_resets (token_hash);
CREATE INDEX helpdesk_resets_user_idx ON helpdesk_resets (user_id);
