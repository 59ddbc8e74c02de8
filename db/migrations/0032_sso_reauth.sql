-- "Confirm it is you" through the organisation's provider: a flow started
-- at sso_logins may belong to a signed-in session instead of being a
-- login. Such a row names the session and user it confirms and the page
-- (a fixed internal path) to return to; a login row leaves them NULL and
-- empty, so existing rows stay logins.
ALTER TABLE sso_logins ADD COLUMN session_id BIGINT REFERENCES sessions (id) ON DELETE CASCADE;
ALTER TABLE sso_logins ADD COLUMN user_id BIGINT REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE sso_logins ADD COLUMN next_path TEXT NOT NULL DEFAULT '';
