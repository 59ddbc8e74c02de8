-- The nightly cleanup finds what it deletes through these, rather than by
-- reading every person, invitation, session and one-time code of the
-- installation while it holds SQLite's one writer. Each is on a column
-- written once (a row's creation or expiry), not on one that moves while
-- the row is in use (a session's last_seen_at, touched every minute):
-- - the invited people who never came, by when they were invited
--   (partial, as the cleanup's condition: an entry goes when the person
--   signs up; it holds what the condition reads of the row, its id and
--   creation time);
-- - the unused invitations, by when they were made (partial: an entry
--   goes when the link is used);
-- - the sessions, by their absolute expiry, which bounds every way a
--   session ends (see auth.PurgeSessions);
-- - the one-time codes, by their expiry.
CREATE INDEX users_invited_idx ON users (created_at) WHERE status = 'invited' AND is_admin = FALSE;
CREATE INDEX invitations_unused_idx ON invitations (created_at) WHERE used_at IS NULL;
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
CREATE INDEX one_time_codes_expires_idx ON one_time_codes (expires_at);
