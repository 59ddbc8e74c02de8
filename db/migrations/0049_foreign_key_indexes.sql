-- Deleting a row makes the database find the rows that refer to it (the
-- foreign keys' ON DELETE SET NULL or CASCADE): without an index on the
-- referring column, every deleted account (a stop, an invitation that
-- expired) read all messages, participants, threads, attachments, cases,
-- invitations and signing requests of the installation, and every deleted
-- session the single sign-on and passkey rows. Partial: the lookup is an
-- equality, which a NULL never matches.
CREATE INDEX attachments_uploader_idx ON attachments (uploader_id) WHERE uploader_id IS NOT NULL;
CREATE INDEX cases_created_by_idx ON cases (created_by) WHERE created_by IS NOT NULL;
CREATE INDEX cases_subject_user_idx ON cases (subject_id) WHERE subject_id IS NOT NULL;
CREATE INDEX helpdesk_resets_started_by_idx ON helpdesk_resets (started_by) WHERE started_by IS NOT NULL;
CREATE INDEX invitations_invited_by_idx ON invitations (invited_by) WHERE invited_by IS NOT NULL;
CREATE INDEX messages_sender_idx ON messages (sender_id) WHERE sender_id IS NOT NULL;
CREATE INDEX messages_subject_user_idx ON messages (subject_user_id) WHERE subject_user_id IS NOT NULL;
CREATE INDEX organisation_branding_updated_by_idx ON organisation_branding (updated_by) WHERE updated_by IS NOT NULL;
CREATE INDEX participants_added_by_idx ON participants (added_by) WHERE added_by IS NOT NULL;
CREATE INDEX retention_settings_updated_by_idx ON retention_settings (updated_by) WHERE updated_by IS NOT NULL;
CREATE INDEX signing_requests_requested_by_idx ON signing_requests (requested_by) WHERE requested_by IS NOT NULL;
CREATE INDEX sso_logins_user_idx ON sso_logins (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX sso_logins_session_idx ON sso_logins (session_id) WHERE session_id IS NOT NULL;
CREATE INDEX sso_providers_updated_by_idx ON sso_providers (updated_by) WHERE updated_by IS NOT NULL;
CREATE INDEX sso_sessions_user_idx ON sso_sessions (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX terms_versions_published_by_idx ON terms_versions (published_by) WHERE published_by IS NOT NULL;
CREATE INDEX threads_created_by_idx ON threads (created_by) WHERE created_by IS NOT NULL;
CREATE INDEX webauthn_challenges_session_idx ON webauthn_challenges (session_id) WHERE session_id IS NOT NULL;
-- And what a deleted account's address is looked up by, outside the
-- foreign keys: its queued and delivered mail and texts (notify.Forget,
-- notify.Withdraw; the outbox keeps delivered rows for weeks) and its
-- mail requests.
CREATE INDEX outbox_recipient_idx ON outbox (recipient);
CREATE INDEX mail_requests_email_idx ON mail_requests (email);
