-- What the inbox shows per conversation is stored per participant and kept
-- up to date in the transaction that changes it, so that a page of the
-- inbox is an index range scan whatever the size of the box:
--   unread_count      the participant's unread messages in the thread
--   box_count         the thread's messages still in the participant's box
--   last_activity_at  when the thread last got a message
ALTER TABLE participants ADD COLUMN unread_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE participants ADD COLUMN box_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE participants ADD COLUMN last_activity_at {{ts}};

UPDATE participants SET
    unread_count = (SELECT COUNT(*) FROM message_states AS ms JOIN messages AS m ON m.id = ms.message_id
        WHERE m.thread_id = participants.thread_id AND ms.user_id = participants.user_id
        AND ms.read_at IS NULL AND ms.removed_at IS NULL),
    box_count = (SELECT COUNT(*) FROM message_states AS ms JOIN messages AS m ON m.id = ms.message_id
        WHERE m.thread_id = participants.thread_id AND ms.user_id = participants.user_id
        AND ms.removed_at IS NULL),
    last_activity_at = (SELECT t.last_message_at FROM threads AS t WHERE t.id = participants.thread_id);
-- The old inbox also hid threads removed from the box as a whole.
UPDATE participants SET box_count = 0 WHERE removed_at IS NOT NULL;

-- The inbox: one user's conversations in their box, newest first.
CREATE INDEX participants_inbox_idx ON participants (user_id, last_activity_at DESC, thread_id DESC) WHERE box_count > 0;
-- The inbox lists the other participants of a page's threads.
CREATE INDEX participants_thread_idx ON participants (thread_id, id);
-- Read states of one user within a thread (mark read, box changes).
CREATE INDEX message_states_message_idx ON message_states (message_id, removed_at);
CREATE INDEX threads_org_idx ON threads (org_id);

-- The header's "Berichten (3)" on every page: the user's unread messages in
-- all threads, kept beside the per-thread counts in the same transactions,
-- so that the session's own user row carries it.
ALTER TABLE users ADD COLUMN unread_total INTEGER NOT NULL DEFAULT 0;
UPDATE users SET unread_total = (SELECT COALESCE(SUM(p.unread_count), 0) FROM participants AS p WHERE p.user_id = users.id);
