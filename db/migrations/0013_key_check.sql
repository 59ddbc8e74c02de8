-- The check value of the encryption key: a MAC of a constant under the key
-- that sealed this database's data. A start with another key (a lost or
-- replaced key file, a changed DIALOOG_ENCRYPTION_KEY) is refused instead of
-- sealing new data under a key the old data does not open with. The row is
-- written at the first start after this migration, from the key in use.
CREATE TABLE key_check (
    id INTEGER PRIMARY KEY,
    key_id TEXT NOT NULL,
    check_value {{bytes}} NOT NULL,
    created_at {{ts}} NOT NULL
);
