-- Files being written to the blob store for an attachment row that does
-- not exist yet (an upload, a sealed PDF). The row here is written before
-- the file; storing the attachment row that claims the file deletes it
-- (the trigger below, in the same transaction). What is left after longer
-- than any upload may take was never claimed (the process died between
-- the file and its row): the daily cleanup removes the file and the row.
-- Times in the format the application writes.
CREATE TABLE blob_writes (
    storage_key TEXT PRIMARY KEY,
    blob_format INTEGER NOT NULL,
    started_at TIMESTAMP NOT NULL
);

CREATE TRIGGER attachments_blob_written AFTER INSERT ON attachments
BEGIN
    DELETE FROM blob_writes WHERE storage_key = NEW.storage_key; END;
