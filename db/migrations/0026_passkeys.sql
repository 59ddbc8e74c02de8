-- Passkeys (WebAuthn): a second factor beside SMS and app, and a login on
-- their own. A person may have several, each named. The public key and the
-- library's record of the credential are kept as JSON (nothing secret);
-- sign_count is kept beside it so that a use can compare-and-set it. The
-- user handle is the random id the authenticator stores with the key (the
-- same for all passkeys of a person); it is no database id and no address.
CREATE TABLE passkeys (
    id {{pk}},
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    credential_id {{bytes}} NOT NULL,
    user_handle {{bytes}} NOT NULL,
    credential TEXT NOT NULL,
    sign_count BIGINT NOT NULL DEFAULT 0,
    created_at {{ts}} NOT NULL,
    last_used_at {{ts}}
);
CREATE UNIQUE INDEX passkeys_credential_idx ON passkeys (credential_id);
CREATE INDEX passkeys_user_idx ON passkeys (user_id);

-- The challenge of a WebAuthn ceremony, kept on the server: one per
-- session and purpose (registration, second step), or per browser for a
-- login with a passkey alone (lookup holds the hash of a cookie's token).
-- A finish deletes it before anything is checked, so it works once.
CREATE TABLE webauthn_challenges (
    id {{pk}},
    lookup TEXT NOT NULL,
    session_id BIGINT REFERENCES sessions (id) ON DELETE CASCADE,
    data TEXT NOT NULL,
    expires_at {{ts}} NOT NULL,
    created_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX webauthn_challenges_lookup_idx ON webauthn_challenges (lookup);
CREATE INDEX webauthn_challenges_expires_idx ON webauthn_challenges (expires_at);
