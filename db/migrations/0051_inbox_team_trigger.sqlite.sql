-- Saving a team's name or flags gave a new inbox version (migration 0037)
-- to everyone in the team's conversations by reading every participant
-- row of the installation (no index led with via_team_id) and joining
-- each of the team's rows to all rows of its conversation, so that a
-- conversation was read once per member: 160-200 ms with 1,000 team
-- conversations of 30 members, 720 ms with 60, holding SQLite's one
-- writer. It also fired on any update of the row, also of what no inbox
-- shows.
--
-- The team's rows are found through an index of their own (only rows
-- through a team), and each of the team's conversations is read once:
-- the same users as before, whichever rows lead to them. The index does
-- not rely on a conversation's team (threads.team_id) being the team of
-- its rows.
CREATE INDEX participants_via_team_idx ON participants (via_team_id, thread_id) WHERE via_team_id IS NOT NULL;

-- A team's name, medical flag or display: its members' tabs and medical
-- rule, and the conversations someone takes part in through it. Its
-- organisation too: the medical rule reads it (a team's organisation
-- never changes today).
DROP TRIGGER inbox_version_team;
CREATE TRIGGER inbox_version_team AFTER UPDATE OF org_id, name, medical, show_person ON teams
WHEN NEW.org_id IS NOT OLD.org_id OR NEW.name IS NOT OLD.name OR NEW.medical IS NOT OLD.medical OR NEW.show_person IS NOT OLD.show_person
BEGIN
    UPDATE users SET inbox_version = inbox_version + 1
    WHERE id IN (SELECT m.user_id FROM team_members AS m WHERE m.team_id = NEW.id)
       OR id IN (SELECT o.user_id FROM participants AS o WHERE o.thread_id IN (SELECT p.thread_id FROM participants AS p WHERE p.via_team_id = NEW.id)); END;
