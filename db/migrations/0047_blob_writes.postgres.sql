-- Files being written to the blob store for an attachment row that does
-- not exist yet (see the SQLite migration of the same number).
CREATE TABLE blob_writes (
    storage_key TEXT PRIMARY KEY,
    blob_format INTEGER NOT NULL,
    started_at TIMESTAMPTZ NOT NULL
);

CREATE FUNCTION attachments_blob_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM blob_writes WHERE storage_key = NEW.storage_key;
    RETURN NULL;
END
$$;

CREATE TRIGGER attachments_blob_written AFTER INSERT ON attachments
FOR EACH ROW EXECUTE FUNCTION attachments_blob_written();
