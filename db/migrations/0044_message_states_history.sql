-- A read state that came with a conversation's history when its person
-- joined the conversation's team: read for them (no unread count), but
-- not read by them, so it is no read receipt until they open the
-- conversation.
ALTER TABLE message_states ADD COLUMN history BOOLEAN NOT NULL DEFAULT FALSE;

-- The states joins stored before: the join wrote them read at the time of
-- the membership, which no later read has, for messages older than it.
UPDATE message_states SET history = TRUE
WHERE read_at IS NOT NULL
  AND user_id IN (SELECT user_id FROM team_members)
  AND EXISTS (SELECT 1 FROM messages AS m
    JOIN threads AS t ON t.id = m.thread_id
    JOIN team_members AS tm ON tm.team_id = t.team_id AND tm.user_id = message_states.user_id
    WHERE m.id = message_states.message_id AND tm.added_at = message_states.read_at AND m.created_at < tm.added_at);
