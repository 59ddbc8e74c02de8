-- A recovery code is a way to log in, not a reset. The session it opens may
-- set up a new second factor until factor_grant_until; confirmed_at is when
-- the person last confirmed it is them ("confirm it is you") in that
-- session, for steps that need a recent confirmation.
ALTER TABLE sessions ADD COLUMN factor_grant_until {{ts}};
ALTER TABLE sessions ADD COLUMN confirmed_at {{ts}};
-- Recovery codes are stored as a keyed MAC of their SHA-256. The codes that
-- exist now hold the plain SHA-256 (keyed is false); the server converts
-- them with its key at start, and until then still recognises them.
ALTER TABLE recovery_codes ADD COLUMN keyed BOOLEAN NOT NULL DEFAULT FALSE;
