-- Medical confidentiality: a conversation marked as containing medical
-- information is read only by members of the organisation's medical teams
-- and by its external participants. Existing conversations were never
-- marked, so they keep FALSE.
ALTER TABLE threads ADD COLUMN medical BOOLEAN NOT NULL DEFAULT FALSE;
