-- The language of the evidence page of the organisation's sealed PDFs
-- ("Organisatie" in Beheer). Existing organisations keep Dutch.
ALTER TABLE organisation_branding ADD COLUMN evidence_language TEXT NOT NULL DEFAULT 'nl';
