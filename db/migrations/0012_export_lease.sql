-- At most one export of a box at a time per user, across instances: the
-- instance writing the ZIP holds a lease row, renews it while it writes and
-- deletes it at the end; a lease whose instance died expires and is taken
-- over by the next export.
CREATE TABLE export_leases (
    user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    holder TEXT NOT NULL,
    expires_at {{ts}} NOT NULL
);

-- The export walks a user's conversations in thread order, a page at a
-- time; this index serves that and every lookup the one on user_id did.
CREATE INDEX participants_user_thread_idx ON participants (user_id, thread_id);
DROP INDEX participants_user_idx;
