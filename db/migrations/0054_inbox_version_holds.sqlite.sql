-- A colleague who joined or left a team box gave a new inbox version
-- (migration 0037) to everyone in a conversation once per participant
-- row the join added, moved or removed: each member's users row was
-- written once per conversation of the team, conversations × members
-- writes in all (64-75 ms with 1,000 conversations of 30 members, 209-332
-- ms with 3,000, holding SQLite's one writer).
--
-- A join or leave now holds the triggers of the rows it changes: while
-- its transaction holds a row here, the rows of that user through that
-- team give no version, and db.TeamRows gives everyone in those rows'
-- conversations a new version once instead, in the same transaction.
-- Only the rows of one user through one team are held, and only for the
-- statements that change them; every other writer, and every other row
-- in the same transaction, keeps the triggers. A row is taken and given
-- back in the same transaction, so no other connection ever sees one.
CREATE TABLE inbox_version_holds (
    user_id BIGINT NOT NULL,
    team_id BIGINT NOT NULL,
    PRIMARY KEY (user_id, team_id)
) WITHOUT ROWID;

-- Who takes part, and through which team: everyone in the conversation,
-- unless the row moves into or out of a held team.
DROP TRIGGER inbox_version_participant_who;
CREATE TRIGGER inbox_version_participant_who AFTER UPDATE OF user_id, thread_id, via_team_id ON participants
WHEN (NEW.user_id IS NOT OLD.user_id OR NEW.thread_id IS NOT OLD.thread_id OR NEW.via_team_id IS NOT OLD.via_team_id)
    AND NOT (NEW.user_id IS OLD.user_id AND NEW.thread_id IS OLD.thread_id
        AND EXISTS (SELECT 1 FROM inbox_version_holds AS h WHERE h.user_id = NEW.user_id AND h.team_id IN (OLD.via_team_id, NEW.via_team_id)))
BEGIN
    UPDATE users SET inbox_version = inbox_version + 1
    WHERE id IN (SELECT p.user_id FROM participants AS p WHERE p.thread_id IN (OLD.thread_id, NEW.thread_id)) OR id IN (OLD.user_id, NEW.user_id); END;

DROP TRIGGER inbox_version_participant_in;
CREATE TRIGGER inbox_version_participant_in AFTER INSERT ON participants
WHEN NOT EXISTS (SELECT 1 FROM inbox_version_holds AS h WHERE h.user_id = NEW.user_id AND h.team_id = NEW.via_team_id)
BEGIN
    UPDATE users SET inbox_version = inbox_version + 1
    WHERE id IN (SELECT p.user_id FROM participants AS p WHERE p.thread_id = NEW.thread_id); END;

DROP TRIGGER inbox_version_participant_out;
CREATE TRIGGER inbox_version_participant_out AFTER DELETE ON participants
WHEN NOT EXISTS (SELECT 1 FROM inbox_version_holds AS h WHERE h.user_id = OLD.user_id AND h.team_id = OLD.via_team_id)
BEGIN
    UPDATE users SET inbox_version = inbox_version + 1
    WHERE id IN (SELECT p.user_id FROM participants AS p WHERE p.thread_id = OLD.thread_id) OR id = OLD.user_id; END;
