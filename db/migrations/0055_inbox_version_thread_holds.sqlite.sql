-- A conversation started for a team box added a participant row per
-- member in one statement, and each row's trigger (migration 0037) gave
-- everyone already in the conversation a new inbox version: members ×
-- members / 2 writes of users rows per new conversation, the first
-- member's once per member. And a member who left a team box had the
-- conversations assigned to them cleared in one statement whose trigger
-- gave everyone in each of them a new version: every member once per
-- conversation assigned to the leaver.
--
-- Such a change now holds the conversations it concerns: while its
-- transaction holds a conversation here, the participant rows added to
-- it and the changes of the conversation itself give no version, and
-- db.HoldConversations gives everyone in the held conversations a new
-- version once afterwards instead, in the same transaction. A row that
-- leaves a held conversation, or moves, keeps its trigger (the person
-- who left is no longer there to be given one afterwards), and so does
-- every other conversation and every other writer. A hold is taken and
-- given back in the same transaction, so no other connection ever sees
-- one, and the table is empty between transactions: there is nothing to
-- carry over.
CREATE TABLE inbox_version_thread_holds (
    thread_id BIGINT NOT NULL PRIMARY KEY
) WITHOUT ROWID;

-- A participant row added: everyone in the conversation, unless the row
-- comes through a held team (migration 0054) or into a held conversation.
DROP TRIGGER inbox_version_participant_in;
CREATE TRIGGER inbox_version_participant_in AFTER INSERT ON participants
WHEN NOT EXISTS (SELECT 1 FROM inbox_version_holds AS h WHERE h.user_id = NEW.user_id AND h.team_id = NEW.via_team_id)
    AND NOT EXISTS (SELECT 1 FROM inbox_version_thread_holds AS h WHERE h.thread_id = NEW.thread_id)
BEGIN
    UPDATE users SET inbox_version = inbox_version + 1
    WHERE id IN (SELECT p.user_id FROM participants AS p WHERE p.thread_id = NEW.thread_id); END;

-- What a row shows of its conversation: everyone in it, unless it is
-- held.
DROP TRIGGER inbox_version_thread;
CREATE TRIGGER inbox_version_thread AFTER UPDATE OF subject, last_message_at, assigned_to, org_id, medical ON threads
WHEN (NEW.subject IS NOT OLD.subject OR NEW.last_message_at IS NOT OLD.last_message_at OR NEW.assigned_to IS NOT OLD.assigned_to
        OR NEW.org_id IS NOT OLD.org_id OR NEW.medical IS NOT OLD.medical)
    AND NOT EXISTS (SELECT 1 FROM inbox_version_thread_holds AS h WHERE h.thread_id = NEW.id)
BEGIN
    UPDATE users SET inbox_version = inbox_version + 1
    WHERE id IN (SELECT p.user_id FROM participants AS p WHERE p.thread_id = NEW.id); END;
