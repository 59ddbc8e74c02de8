-- A password reset link is looked up by its purpose and the hash of its
-- token (opening the link, setting the new password): without an index
-- that read every login, setup and signing code of the installation.
CREATE INDEX one_time_codes_hash_idx ON one_time_codes (purpose, code_hash);
