-- Single sign-on (issue 15): an organisation's own OpenID Connect
-- provider, through which its internal users log in instead of with
-- Dialoog's password and second factor. Nothing changes for existing data:
-- an organisation without a row has no single sign-on.
--
-- sso_providers: one provider per organisation; client_secret is sealed
-- with the server's key (vault), domains are the allowed mail domains,
-- space separated; create_users lets a first login create the user.
CREATE TABLE sso_providers (
    org_id BIGINT PRIMARY KEY REFERENCES organisations (id) ON DELETE CASCADE,
    issuer TEXT NOT NULL,
    client_id TEXT NOT NULL,
    client_secret {{bytes}} NOT NULL,
    domains TEXT NOT NULL,
    create_users BOOLEAN NOT NULL DEFAULT FALSE,
    updated_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    updated_at {{ts}} NOT NULL
);
-- A mail domain leads to one organisation's provider.
CREATE TABLE sso_domains (
    domain TEXT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE
);
CREATE INDEX sso_domains_org_idx ON sso_domains (org_id);
-- A login under way: state (stored hashed), nonce and the PKCE verifier
-- (sealed), single use and short-lived.
CREATE TABLE sso_logins (
    id {{pk}},
    state_hash {{bytes}} NOT NULL,
    org_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    nonce TEXT NOT NULL,
    verifier {{bytes}} NOT NULL,
    created_at {{ts}} NOT NULL,
    expires_at {{ts}} NOT NULL,
    used_at {{ts}}
);
CREATE UNIQUE INDEX sso_logins_state_idx ON sso_logins (state_hash);
CREATE INDEX sso_logins_expires_idx ON sso_logins (expires_at);
-- A user who logged in through their organisation's provider: such a user
-- needs no password, second factor or recovery codes of Dialoog's own.
CREATE TABLE sso_links (
    user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    org_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    linked_at {{ts}} NOT NULL
);
-- A session opened through the provider, with the provider's subject and
-- session id (back-channel logout names either) and how the provider
-- authenticated the person (amr, acr).
CREATE TABLE sso_sessions (
    session_id BIGINT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    sid TEXT NOT NULL DEFAULT '',
    amr TEXT NOT NULL DEFAULT '',
    acr TEXT NOT NULL DEFAULT '',
    created_at {{ts}} NOT NULL
);
CREATE INDEX sso_sessions_subject_idx ON sso_sessions (org_id, subject);
CREATE INDEX sso_sessions_sid_idx ON sso_sessions (org_id, sid);
