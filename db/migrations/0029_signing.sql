-- Ondertekenen: a PDF of a conversation put to its participants for
-- agreement, each confirming with a code (SMS or authenticator app); when
-- all agreed the sealed PDF is added to the conversation. No request
-- exists before this migration, so no data needs carrying.
--   sha256        hex SHA-256 of the original PDF at the request: an
--                 agreement recomputes it and refuses a changed file
--   name_sealed   the document's name, sealed like attachment names
--   status        'open', 'agreed' (all agreed, sealed PDF not yet
--                 added), 'sealed', 'declined', 'expired'
--   requested_by  NULL once the requester stopped with Dialoog
CREATE TABLE signing_requests (
    id {{pk}},
    thread_id BIGINT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    org_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    message_id BIGINT REFERENCES messages (id) ON DELETE SET NULL,
    attachment_id BIGINT REFERENCES attachments (id) ON DELETE SET NULL,
    requested_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    requester_name TEXT NOT NULL,
    name_sealed {{bytes}} NOT NULL,
    sha256 TEXT NOT NULL,
    pages INTEGER NOT NULL,
    in_order BOOLEAN NOT NULL,
    deadline {{ts}},
    status TEXT NOT NULL DEFAULT 'open',
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL,
    reminded_at {{ts}},
    closed_at {{ts}},
    sealed_message_id BIGINT REFERENCES messages (id) ON DELETE SET NULL
);
-- The cards of a conversation, in the order they were made.
CREATE INDEX signing_requests_thread_idx ON signing_requests (thread_id, id);
-- The periodic job finds open requests by their deadline.
CREATE INDEX signing_requests_due_idx ON signing_requests (status, deadline);

-- One signer of a request. Their evidence (name, mail, masked phone or
-- "app", time, IP, user agent, SHA-256, method) is sealed in
-- evidence_sealed at the agreement and stays when the signer stops with
-- Dialoog (user_id becomes NULL): the others' copy is the record.
--   status  'waiting', 'agreed', 'declined', 'expired'
CREATE TABLE signing_signers (
    id {{pk}},
    request_id BIGINT NOT NULL REFERENCES signing_requests (id) ON DELETE CASCADE,
    user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    position INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'waiting',
    decided_at {{ts}},
    reason_sealed {{bytes}},
    evidence_sealed {{bytes}},
    UNIQUE (request_id, user_id)
);
CREATE INDEX signing_signers_request_idx ON signing_signers (request_id, position);
CREATE INDEX signing_signers_user_idx ON signing_signers (user_id);
