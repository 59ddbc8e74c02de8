-- A change that concerns thousands of users (a case manager with a large
-- box renames, a team or an organisation is renamed, a colleague joins a
-- large team box) tells everyone with '*'. Migration 0040's functions
-- decided that only after collecting every id and joining them into a
-- string that was then dropped: renaming the owner of 5,000 conversations
-- took 6-8 ms (bench/README.md, "A name saved"). The functions now stop
-- collecting at 1,001 ids (one more than inbox_notify passes on), and
-- inbox_notify counts them before joining them.
CREATE OR REPLACE FUNCTION inbox_notify(schema text, ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    payload text;
BEGIN
    IF cardinality(ids) > 1000 THEN
        payload := '*';
    ELSE
        payload := array_to_string(ids, ',');
        IF payload IS NULL OR payload = '' THEN
            RETURN;
        END IF;
        IF octet_length(payload) > 7000 THEN
            payload := '*';
        END IF;
    END IF;
    PERFORM pg_notify('dialoog_inbox_' || left(md5(schema), 16), payload);
END
$$;

CREATE OR REPLACE FUNCTION inbox_participants_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM inbox_notify(TG_TABLE_SCHEMA::text, ARRAY(SELECT DISTINCT p.user_id FROM participants AS p
        WHERE p.thread_id IN (SELECT n.thread_id FROM added AS n) LIMIT 1001));
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION inbox_participants_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM inbox_notify(TG_TABLE_SCHEMA::text, ARRAY(SELECT p.user_id FROM participants AS p
        WHERE p.thread_id IN (SELECT o.thread_id FROM removed AS o) UNION SELECT o.user_id FROM removed AS o LIMIT 1001));
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION inbox_user_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM inbox_notify(TG_TABLE_SCHEMA::text, ARRAY[NEW.id]
        || ARRAY(SELECT o.user_id FROM participants AS me JOIN participants AS o ON o.thread_id = me.thread_id WHERE me.user_id = NEW.id LIMIT 1001)
        || ARRAY(SELECT o.user_id FROM threads AS t JOIN participants AS o ON o.thread_id = t.id WHERE t.assigned_to = NEW.id LIMIT 1001));
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION inbox_team_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM inbox_notify(TG_TABLE_SCHEMA::text, ARRAY(SELECT m.user_id FROM team_members AS m WHERE m.team_id = NEW.id LIMIT 1001)
        || ARRAY(SELECT o.user_id FROM participants AS p JOIN participants AS o ON o.thread_id = p.thread_id WHERE p.via_team_id = NEW.id LIMIT 1001));
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION inbox_org_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM inbox_notify(TG_TABLE_SCHEMA::text, ARRAY(SELECT p.user_id FROM threads AS t JOIN participants AS p ON p.thread_id = t.id WHERE t.org_id = NEW.id LIMIT 1001));
    RETURN NULL;
END
$$;
