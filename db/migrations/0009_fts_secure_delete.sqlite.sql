-- Deleting from the search indexes removes the entries from the index
-- segments at once (FTS5 secure-delete), instead of leaving them there until
-- the next merge: a deleted person's name leaves the search index too.
INSERT INTO users_fts (users_fts, rank) VALUES ('secure-delete', 1);
INSERT INTO threads_fts (threads_fts, rank) VALUES ('secure-delete', 1);
