-- Attachment contents go through a blob store (package blob) instead of
-- files in one instance's data dir. With PostgreSQL the default store is
-- this table: a blob is its rows in seq order, each up to 256 KiB of
-- ciphertext. With SQLite the table stays empty (the data dir is the
-- default store there).
CREATE TABLE blob_chunks (
    key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data {{bytes}} NOT NULL,
    PRIMARY KEY (key, seq)
);
-- How an attachment's content is stored. 0: sealed whole with the vault
-- (AES-256-GCM, "attachment:"+storage_key as associated data) in a file in
-- the data dir, as every attachment stored before this migration; they are
-- still read, and moved to the blob store in the background. 1: a DARE 2.0
-- stream (64 KiB authenticated packages) under a key derived from the
-- vault key key_id and the storage key, in the configured blob store.
ALTER TABLE attachments ADD COLUMN blob_format INTEGER NOT NULL DEFAULT 0;
