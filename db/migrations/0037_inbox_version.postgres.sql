-- A user's inbox version (see the SQLite migration of the same number).
-- On PostgreSQL nothing maintains it yet and the inbox is not served from
-- memory: with several instances and concurrent replies, bumping the
-- participants' users rows from triggers would lock them in an order that
-- can deadlock two replies, so a version there needs a lock-free scheme.
ALTER TABLE users ADD COLUMN inbox_version BIGINT NOT NULL DEFAULT 0;
