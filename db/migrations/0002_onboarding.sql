-- Recovery codes are shown until the user confirms having stored them; the
-- terms of use have an English text beside the Dutch one.
ALTER TABLE users ADD COLUMN recovery_confirmed_at {{ts}};
ALTER TABLE terms_versions ADD COLUMN body_en TEXT NOT NULL DEFAULT '';
-- Set when the user has finished the second-factor step (verified the app, or
-- skipped it after verifying SMS); cleared when a recovery code replaces a
-- lost factor.
ALTER TABLE users ADD COLUMN second_factor_done_at {{ts}};
