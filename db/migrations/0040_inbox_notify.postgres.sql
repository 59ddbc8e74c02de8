-- On PostgreSQL a user's inbox version lives in the memory of each
-- instance (db.InboxVersion): triggers notify the users whose inbox page or
-- team tabs change, in the same transaction as the change, and every
-- instance listens. They cover what migration 0037's SQLite triggers
-- cover. A notification takes no row lock, so concurrent replies cannot
-- deadlock over their participants' users rows, as triggers bumping
-- users.inbox_version would (see 0037). PostgreSQL delivers it at the
-- commit, in commit order, and drops it on a rollback.
--
-- The channel is the schema's own: 'dialoog_inbox_' and the first 16 hex
-- digits of the MD5 of the schema's name, as db.inboxChannel derives it.
-- The payload is the users' ids, comma-separated (an id may repeat), or
-- '*' (everyone) when they do not fit in a notification. Every function
-- here runs in the changing statement, so each is kept to expressions
-- and at most one query.
CREATE FUNCTION inbox_notify(schema text, ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    payload text := array_to_string(ids, ',');
BEGIN
    IF payload IS NULL OR payload = '' THEN
        RETURN;
    END IF;
    IF octet_length(payload) > 7000 THEN
        payload := '*';
    END IF;
    PERFORM pg_notify('dialoog_inbox_' || left(md5(schema), 16), payload);
END
$$;

-- Participants: a row's own counts and activity concern its user; who
-- takes part, and through which team, concerns everyone in the
-- conversation. Rows come and go in bulk (a colleague joins or leaves a
-- team box, an account goes): once per statement, from its transition
-- table. Counts change one conversation at a time, in every reply: per
-- row, and only when they change.
CREATE FUNCTION inbox_participants_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM inbox_notify(TG_TABLE_SCHEMA::text, ARRAY(SELECT DISTINCT p.user_id FROM participants AS p
        WHERE p.thread_id IN (SELECT n.thread_id FROM added AS n)));
    RETURN NULL;
END
$$;

CREATE TRIGGER inbox_participants_in AFTER INSERT ON participants
REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION inbox_participants_added();

CREATE FUNCTION inbox_participants_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM inbox_notify(TG_TABLE_SCHEMA::text, ARRAY(SELECT p.user_id FROM participants AS p
        WHERE p.thread_id IN (SELECT o.thread_id FROM removed AS o) UNION SELECT o.user_id FROM removed AS o));
    RETURN NULL;
END
$$;

CREATE TRIGGER inbox_participants_out AFTER DELETE ON participants
REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION inbox_participants_removed();

CREATE FUNCTION inbox_participants_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.user_id IS DISTINCT FROM OLD.user_id OR NEW.thread_id IS DISTINCT FROM OLD.thread_id OR NEW.via_team_id IS DISTINCT FROM OLD.via_team_id THEN
        PERFORM inbox_notify(TG_TABLE_SCHEMA::text, ARRAY(SELECT p.user_id FROM participants AS p WHERE p.thread_id IN (OLD.thread_id, NEW.thread_id)) || ARRAY[OLD.user_id, NEW.user_id]);
    ELSE
        PERFORM inbox_notify(TG_TABLE_SCHEMA::text, ARRAY[NEW.user_id]);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER inbox_participants_change AFTER UPDATE ON participants
FOR EACH ROW WHEN (NEW.unread_count IS DISTINCT FROM OLD.unread_count OR NEW.box_count IS DISTINCT FROM OLD.box_count
    OR NEW.last_activity_at IS DISTINCT FROM OLD.last_activity_at OR NEW.user_id IS DISTINCT FROM OLD.user_id
    OR NEW.thread_id IS DISTINCT FROM OLD.thread_id OR NEW.via_team_id IS DISTINCT FROM OLD.via_team_id)
EXECUTE FUNCTION inbox_participants_changed();

-- What a row shows of its conversation: everyone in it.
CREATE FUNCTION inbox_thread_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM inbox_notify(TG_TABLE_SCHEMA::text, ARRAY(SELECT p.user_id FROM participants AS p WHERE p.thread_id = NEW.id));
    RETURN NULL;
END
$$;

CREATE TRIGGER inbox_thread_change AFTER UPDATE ON threads
FOR EACH ROW WHEN (NEW.subject IS DISTINCT FROM OLD.subject OR NEW.last_message_at IS DISTINCT FROM OLD.last_message_at
    OR NEW.assigned_to IS DISTINCT FROM OLD.assigned_to OR NEW.org_id IS DISTINCT FROM OLD.org_id OR NEW.medical IS DISTINCT FROM OLD.medical)
EXECUTE FUNCTION inbox_thread_changed();

-- A person's name, address or kind: the person (their view of others
-- depends on their kind) and everyone who sees it, as a participant or as
-- an assignee.
CREATE FUNCTION inbox_user_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM inbox_notify(TG_TABLE_SCHEMA::text, ARRAY[NEW.id]
        || ARRAY(SELECT o.user_id FROM participants AS me JOIN participants AS o ON o.thread_id = me.thread_id WHERE me.user_id = NEW.id)
        || ARRAY(SELECT o.user_id FROM threads AS t JOIN participants AS o ON o.thread_id = t.id WHERE t.assigned_to = NEW.id));
    RETURN NULL;
END
$$;

CREATE TRIGGER inbox_user_change AFTER UPDATE ON users
FOR EACH ROW WHEN (NEW.first_name IS DISTINCT FROM OLD.first_name OR NEW.initials IS DISTINCT FROM OLD.initials
    OR NEW.name_prefix IS DISTINCT FROM OLD.name_prefix OR NEW.last_name IS DISTINCT FROM OLD.last_name
    OR NEW.email IS DISTINCT FROM OLD.email OR NEW.kind IS DISTINCT FROM OLD.kind)
EXECUTE FUNCTION inbox_user_changed();

-- A team's name, medical flag or display: its members' tabs and medical
-- rule, and the conversations someone takes part in through it.
CREATE FUNCTION inbox_team_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM inbox_notify(TG_TABLE_SCHEMA::text, ARRAY(SELECT m.user_id FROM team_members AS m WHERE m.team_id = NEW.id)
        || ARRAY(SELECT o.user_id FROM participants AS p JOIN participants AS o ON o.thread_id = p.thread_id WHERE p.via_team_id = NEW.id));
    RETURN NULL;
END
$$;

CREATE TRIGGER inbox_team_change AFTER UPDATE ON teams
FOR EACH ROW EXECUTE FUNCTION inbox_team_changed();

-- Team memberships: the member's tabs.
CREATE FUNCTION inbox_member_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM inbox_notify(TG_TABLE_SCHEMA::text, ARRAY[NEW.user_id]);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM inbox_notify(TG_TABLE_SCHEMA::text, ARRAY[OLD.user_id]);
    ELSE
        PERFORM inbox_notify(TG_TABLE_SCHEMA::text, ARRAY[OLD.user_id, NEW.user_id]);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER inbox_member_change AFTER INSERT OR UPDATE OR DELETE ON team_members
FOR EACH ROW EXECUTE FUNCTION inbox_member_changed();

-- An organisation's name, shown with each of its conversations.
CREATE FUNCTION inbox_org_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM inbox_notify(TG_TABLE_SCHEMA::text, ARRAY(SELECT p.user_id FROM threads AS t JOIN participants AS p ON p.thread_id = t.id WHERE t.org_id = NEW.id));
    RETURN NULL;
END
$$;

CREATE TRIGGER inbox_org_change AFTER UPDATE ON organisations
FOR EACH ROW WHEN (NEW.name IS DISTINCT FROM OLD.name)
EXECUTE FUNCTION inbox_org_changed();
