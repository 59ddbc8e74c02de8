-- The organisations an audit row belongs to through its people, for
-- Beheer's audit log (auth.auditCandidates): the organisation of the user
-- it is about (user_org_id) and of who did it (actor_org_id), as
-- users.org_id says now. With them a page of the log, and a batch of its
-- export, reads the organisation's newest rows from three indexes under a
-- LIMIT, instead of gathering every row of every one of its people and
-- sorting them for each page. Triggers keep them, so that no writer can
-- forget them: on every new row, when a row's people change (a deleted
-- account sets them to NULL), and when a user's organisation changes.
ALTER TABLE audit_events ADD COLUMN user_org_id BIGINT;
ALTER TABLE audit_events ADD COLUMN actor_org_id BIGINT;
UPDATE audit_events SET user_org_id = (SELECT u.org_id FROM users AS u WHERE u.id = audit_events.user_id),
    actor_org_id = (SELECT u.org_id FROM users AS u WHERE u.id = audit_events.actor_id)
WHERE user_id IS NOT NULL OR actor_id IS NOT NULL;

-- Newest first within the organisation, in the log's order (created_at,
-- then id).
DROP INDEX audit_events_org_idx;
CREATE INDEX audit_events_org_idx ON audit_events (org_id, created_at, id);
CREATE INDEX audit_events_user_org_idx ON audit_events (user_org_id, created_at, id) WHERE user_org_id IS NOT NULL;
CREATE INDEX audit_events_actor_org_idx ON audit_events (actor_org_id, created_at, id) WHERE actor_org_id IS NOT NULL;

CREATE TRIGGER audit_events_orgs_in AFTER INSERT ON audit_events
WHEN NEW.user_id IS NOT NULL OR NEW.actor_id IS NOT NULL
BEGIN
    UPDATE audit_events SET user_org_id = (SELECT u.org_id FROM users AS u WHERE u.id = NEW.user_id),
        actor_org_id = (SELECT u.org_id FROM users AS u WHERE u.id = NEW.actor_id)
    WHERE id = NEW.id; END;

CREATE TRIGGER audit_events_orgs_who AFTER UPDATE OF user_id, actor_id ON audit_events
WHEN NEW.user_id IS NOT OLD.user_id OR NEW.actor_id IS NOT OLD.actor_id
BEGIN
    UPDATE audit_events SET user_org_id = (SELECT u.org_id FROM users AS u WHERE u.id = NEW.user_id),
        actor_org_id = (SELECT u.org_id FROM users AS u WHERE u.id = NEW.actor_id)
    WHERE id = NEW.id; END;

CREATE TRIGGER audit_events_orgs_user AFTER UPDATE OF org_id ON users
WHEN NEW.org_id IS NOT OLD.org_id
BEGIN
    UPDATE audit_events SET user_org_id = NEW.org_id WHERE user_id = NEW.id; UPDATE audit_events SET actor_org_id = NEW.org_id WHERE actor_id = NEW.id; END;
