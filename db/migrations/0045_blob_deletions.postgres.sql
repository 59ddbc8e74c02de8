-- The contents of deleted attachments, queued in the deleting transaction
-- (see the SQLite migration of the same number): once per statement, from
-- its transition table, as retention deletes in bulk.
CREATE TABLE blob_deletions (
    storage_key TEXT PRIMARY KEY,
    blob_format INTEGER NOT NULL,
    queued_at TIMESTAMPTZ NOT NULL
);

CREATE FUNCTION attachments_blob_deletion() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO blob_deletions (storage_key, blob_format, queued_at)
    SELECT g.storage_key, g.blob_format, now() FROM gone AS g
    ON CONFLICT (storage_key) DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER attachments_blob_deletion AFTER DELETE ON attachments
REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION attachments_blob_deletion();
