-- Case files (dossiers): the conversations of an organisation about one
-- external person, with the organisation's reference (a personnel number)
-- and a status. No case exists before this migration, so existing
-- conversations keep NULL in threads.case_id.
--   subject_id   the external person the case is about (NULL once they
--                stopped with Dialoog: the organisation keeps its file)
--   status       'open' or 'closed'; a closed case's conversations are
--                read-only for everyone
CREATE TABLE cases (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    subject_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    reference TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at {{ts}} NOT NULL,
    closed_at {{ts}},
    UNIQUE (org_id, reference)
);
CREATE INDEX cases_subject_idx ON cases (org_id, subject_id);
-- Retention finds the cases closed before a cut-off.
CREATE INDEX cases_closed_idx ON cases (status, closed_at);

-- The case a conversation belongs to; the case box lists a case's
-- conversations newest first through this index.
ALTER TABLE threads ADD COLUMN case_id BIGINT REFERENCES cases (id) ON DELETE SET NULL;
CREATE INDEX threads_case_idx ON threads (case_id, last_message_at DESC, id DESC);
