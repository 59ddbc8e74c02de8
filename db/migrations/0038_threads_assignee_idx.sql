-- The conversations assigned to a person: found when their name changes
-- (on SQLite the inbox versions of everyone who sees them as assignee,
-- migration 0037) and when their account goes (ON DELETE SET NULL), which
-- read every conversation without it.
CREATE INDEX threads_assignee_idx ON threads (assigned_to) WHERE assigned_to IS NOT NULL;
