-- A reply or new message written while the session lapsed (idle or at its
-- absolute end) is kept, sealed, for the person to send after logging in
-- again in the same browser (messaging.Service.KeepText). One per person
-- and conversation, or per person for a new message (thread_id NULL): the
-- unique index on the target, which starts with user_id, also serves the
-- deletion of an account. token_hash is the hash of the browser's
-- kept-text cookie; sealed holds the typed fields. The nightly cleanup
-- finds the expired ones by expires_at; a conversation's deletion finds
-- its kept replies by thread_id. No existing data.
CREATE TABLE kept_texts (
    id {{pk}},
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    thread_id BIGINT REFERENCES threads (id) ON DELETE CASCADE,
    token_hash {{bytes}} NOT NULL,
    sealed {{bytes}} NOT NULL,
    with_files BOOLEAN NOT NULL DEFAULT FALSE,
    created_at {{ts}} NOT NULL,
    expires_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX kept_texts_target_idx ON kept_texts (user_id, COALESCE(thread_id, 0));
CREATE INDEX kept_texts_thread_idx ON kept_texts (thread_id) WHERE thread_id IS NOT NULL;
CREATE INDEX kept_texts_expires_idx ON kept_texts (expires_at);
