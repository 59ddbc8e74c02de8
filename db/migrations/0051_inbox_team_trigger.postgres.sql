-- A team's change notifies the inbox listeners (migration 0040, 0041):
-- the function found the team's rows without an index (none led with
-- via_team_id), reading every participant row of the installation, and
-- the trigger fired on any update of the row, also of what no inbox
-- shows. See the SQLite migration of the same number.
CREATE INDEX participants_via_team_idx ON participants (via_team_id, thread_id) WHERE via_team_id IS NOT NULL;

DROP TRIGGER inbox_team_change ON teams;
CREATE TRIGGER inbox_team_change AFTER UPDATE ON teams
FOR EACH ROW WHEN (NEW.org_id IS DISTINCT FROM OLD.org_id OR NEW.name IS DISTINCT FROM OLD.name
    OR NEW.medical IS DISTINCT FROM OLD.medical OR NEW.show_person IS DISTINCT FROM OLD.show_person)
EXECUTE FUNCTION inbox_team_changed();
