-- The organisations an audit row belongs to through its people (see the
-- SQLite migration of the same number): user_org_id and actor_org_id, the
-- organisation of the user a row is about and of who did it, as
-- users.org_id says now, kept by triggers. The row's own trigger only
-- reads users (no lock); the one on users runs only when a user's
-- organisation changes.
ALTER TABLE audit_events ADD COLUMN user_org_id BIGINT, ADD COLUMN actor_org_id BIGINT;
UPDATE audit_events SET user_org_id = (SELECT u.org_id FROM users AS u WHERE u.id = audit_events.user_id),
    actor_org_id = (SELECT u.org_id FROM users AS u WHERE u.id = audit_events.actor_id)
WHERE user_id IS NOT NULL OR actor_id IS NOT NULL;

DROP INDEX audit_events_org_idx;
CREATE INDEX audit_events_org_idx ON audit_events (org_id, created_at, id);
CREATE INDEX audit_events_user_org_idx ON audit_events (user_org_id, created_at, id) WHERE user_org_id IS NOT NULL;
CREATE INDEX audit_events_actor_org_idx ON audit_events (actor_org_id, created_at, id) WHERE actor_org_id IS NOT NULL;

CREATE FUNCTION audit_events_orgs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.user_org_id := (SELECT u.org_id FROM users AS u WHERE u.id = NEW.user_id);
    NEW.actor_org_id := (SELECT u.org_id FROM users AS u WHERE u.id = NEW.actor_id);
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_events_orgs BEFORE INSERT OR UPDATE OF user_id, actor_id ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_orgs();

CREATE FUNCTION audit_events_user_org() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE audit_events SET user_org_id = NEW.org_id WHERE user_id = NEW.id;
    UPDATE audit_events SET actor_org_id = NEW.org_id WHERE actor_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_events_user_org AFTER UPDATE OF org_id ON users
FOR EACH ROW WHEN (NEW.org_id IS DISTINCT FROM OLD.org_id) EXECUTE FUNCTION audit_events_user_org();
