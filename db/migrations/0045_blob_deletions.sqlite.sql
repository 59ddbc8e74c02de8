-- The contents of deleted attachments, queued in the deleting transaction
-- (by a trigger, so that no path that deletes attachment rows, directly or
-- through a cascade, can forget it). The content is removed from the store
-- after the commit and its row then deleted; a removal that failed (an
-- object store that was down) or never ran (the process died) is retried
-- by the daily cleanup, so that no deleted file stays stored. Times in
-- the format the application writes.
CREATE TABLE blob_deletions (
    storage_key TEXT PRIMARY KEY,
    blob_format INTEGER NOT NULL,
    queued_at TIMESTAMP NOT NULL
);

CREATE TRIGGER attachments_blob_deletion AFTER DELETE ON attachments
BEGIN
    INSERT OR IGNORE INTO blob_deletions (storage_key, blob_format, queued_at)
    VALUES (OLD.storage_key, OLD.blob_format, strftime('%Y-%m-%d %H:%M:%f', 'now') || '+00:00'); END;
