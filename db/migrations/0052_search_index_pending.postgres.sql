-- The trigram indexes of the search write each new entry into the index
-- itself rather than into GIN's pending list (fastupdate). The pending
-- list, up to 4 MB, is read whole by every search that uses the index and
-- is counted so by the planner, which then read threads and users whole
-- instead (11 ms against 0.1 ms at 20,000 conversations); and the write
-- that finds it full flushes it, a pause for that one writer. Each write
-- now pays its own entries: a new conversation or person, a rename, and
-- every update that moves the row to a new version (a reply changes the
-- conversation's indexed last_message_at, and so writes the subject's
-- trigrams again; measured within the spread of a reply). What the lists
-- hold now goes into the indexes.
ALTER INDEX threads_subject_trgm SET (fastupdate = off);
ALTER INDEX users_name_trgm SET (fastupdate = off);
ALTER INDEX users_email_trgm SET (fastupdate = off);
SELECT gin_clean_pending_list('threads_subject_trgm'::regclass);
SELECT gin_clean_pending_list('users_name_trgm'::regclass);
SELECT gin_clean_pending_list('users_email_trgm'::regclass);
