-- Every start looks for rows stored before a conversion (0008: attachment
-- names and absence messages sealed; 0014: recovery codes keyed). Once all
-- are converted these partial indexes are empty, so the look costs nothing
-- however many attachments, users or codes there are.
CREATE INDEX attachments_unsealed_idx ON attachments (id) WHERE name_sealed IS NULL;
CREATE INDEX users_plain_away_idx ON users (id) WHERE away_message <> '';
CREATE INDEX recovery_codes_unkeyed_idx ON recovery_codes (id) WHERE keyed = FALSE;
