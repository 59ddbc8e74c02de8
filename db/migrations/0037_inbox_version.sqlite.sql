-- A user's inbox version: it changes in the same transaction as anything
-- their inbox page or team tabs show (their participant rows and counts,
-- the conversations' subjects, times, organisations, assignees and medical
-- flags, the other participants and their names and teams, their own team
-- memberships). The session's query reads it with the user, so a page of
-- the inbox can be served from memory while it is unchanged
-- (messaging.inboxCache). Triggers keep it, so that no writer can forget
-- it; SQLite has one writer at a time, so they cannot deadlock.
ALTER TABLE users ADD COLUMN inbox_version BIGINT NOT NULL DEFAULT 0;

-- A participant row's own counts and activity: its user.
CREATE TRIGGER inbox_version_participant_counts AFTER UPDATE OF unread_count, box_count, last_activity_at ON participants
WHEN NEW.unread_count IS NOT OLD.unread_count OR NEW.box_count IS NOT OLD.box_count OR NEW.last_activity_at IS NOT OLD.last_activity_at
BEGIN
    UPDATE users SET inbox_version = inbox_version + 1 WHERE id = NEW.user_id; END;

-- Who takes part, and through which team: everyone in the conversation.
CREATE TRIGGER inbox_version_participant_who AFTER UPDATE OF user_id, thread_id, via_team_id ON participants
WHEN NEW.user_id IS NOT OLD.user_id OR NEW.thread_id IS NOT OLD.thread_id OR NEW.via_team_id IS NOT OLD.via_team_id
BEGIN
    UPDATE users SET inbox_version = inbox_version + 1
    WHERE id IN (SELECT p.user_id FROM participants AS p WHERE p.thread_id IN (OLD.thread_id, NEW.thread_id)) OR id IN (OLD.user_id, NEW.user_id); END;

CREATE TRIGGER inbox_version_participant_in AFTER INSERT ON participants
BEGIN
    UPDATE users SET inbox_version = inbox_version + 1
    WHERE id IN (SELECT p.user_id FROM participants AS p WHERE p.thread_id = NEW.thread_id); END;

CREATE TRIGGER inbox_version_participant_out AFTER DELETE ON participants
BEGIN
    UPDATE users SET inbox_version = inbox_version + 1
    WHERE id IN (SELECT p.user_id FROM participants AS p WHERE p.thread_id = OLD.thread_id) OR id = OLD.user_id; END;

-- What a row shows of its conversation.
CREATE TRIGGER inbox_version_thread AFTER UPDATE OF subject, last_message_at, assigned_to, org_id, medical ON threads
WHEN NEW.subject IS NOT OLD.subject OR NEW.last_message_at IS NOT OLD.last_message_at OR NEW.assigned_to IS NOT OLD.assigned_to
    OR NEW.org_id IS NOT OLD.org_id OR NEW.medical IS NOT OLD.medical
BEGIN
    UPDATE users SET inbox_version = inbox_version + 1
    WHERE id IN (SELECT p.user_id FROM participants AS p WHERE p.thread_id = NEW.id); END;

-- A person's name, address or kind: the person (their view of others
-- depends on their kind) and everyone who sees it, as a participant or
-- as an assignee.
CREATE TRIGGER inbox_version_user_name AFTER UPDATE OF first_name, initials, name_prefix, last_name, email, kind ON users
WHEN NEW.first_name IS NOT OLD.first_name OR NEW.initials IS NOT OLD.initials OR NEW.name_prefix IS NOT OLD.name_prefix
    OR NEW.last_name IS NOT OLD.last_name OR NEW.email IS NOT OLD.email OR NEW.kind IS NOT OLD.kind
BEGIN
    UPDATE users SET inbox_version = inbox_version + 1
    WHERE id = NEW.id
       OR id IN (SELECT o.user_id FROM participants AS me JOIN participants AS o ON o.thread_id = me.thread_id WHERE me.user_id = NEW.id)
       OR id IN (SELECT o.user_id FROM threads AS t JOIN participants AS o ON o.thread_id = t.id WHERE t.assigned_to = NEW.id); END;

-- A team's name, medical flag or display: its members' tabs and medical
-- rule, and the conversations someone takes part in through it.
CREATE TRIGGER inbox_version_team AFTER UPDATE ON teams
BEGIN
    UPDATE users SET inbox_version = inbox_version + 1
    WHERE id IN (SELECT m.user_id FROM team_members AS m WHERE m.team_id = NEW.id)
       OR id IN (SELECT o.user_id FROM participants AS p JOIN participants AS o ON o.thread_id = p.thread_id WHERE p.via_team_id = NEW.id); END;

CREATE TRIGGER inbox_version_member_in AFTER INSERT ON team_members
BEGIN
    UPDATE users SET inbox_version = inbox_version + 1 WHERE id = NEW.user_id; END;

CREATE TRIGGER inbox_version_member_out AFTER DELETE ON team_members
BEGIN
    UPDATE users SET inbox_version = inbox_version + 1 WHERE id = OLD.user_id; END;

CREATE TRIGGER inbox_version_member_change AFTER UPDATE ON team_members
BEGIN
    UPDATE users SET inbox_version = inbox_version + 1 WHERE id IN (OLD.user_id, NEW.user_id); END;

-- An organisation's name, shown with each of its conversations.
CREATE TRIGGER inbox_version_org AFTER UPDATE OF name ON organisations
WHEN NEW.name IS NOT OLD.name
BEGIN
    UPDATE users SET inbox_version = inbox_version + 1
    WHERE id IN (SELECT p.user_id FROM threads AS t JOIN participants AS p ON p.thread_id = t.id WHERE t.org_id = NEW.id); END;
