-- Teams (functional boxes): internal users of an organisation who share a
-- box and answer on behalf of the team. No team exists before this
-- migration, so existing rows keep NULL in every new column.
--   medical            only members of medical teams may read conversations
--                      marked as containing medical information
--   show_person        outsiders see "Hanna de Vries namens Team" (TRUE) or
--                      only "Team" (FALSE)
CREATE TABLE teams (
    id {{pk}},
    org_id BIGINT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    medical BOOLEAN NOT NULL DEFAULT FALSE,
    show_person BOOLEAN NOT NULL DEFAULT TRUE,
    created_at {{ts}} NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE team_members (
    team_id BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at {{ts}} NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user_idx ON team_members (user_id);

-- A conversation of a team: every member is a participant (their rows
-- carry via_team_id), so access, read state, counters and live updates
-- stay per person. assigned_to is the member handling it.
ALTER TABLE threads ADD COLUMN team_id BIGINT REFERENCES teams (id) ON DELETE SET NULL;
ALTER TABLE threads ADD COLUMN assigned_to BIGINT REFERENCES users (id) ON DELETE SET NULL;
CREATE INDEX threads_team_idx ON threads (team_id);
ALTER TABLE participants ADD COLUMN via_team_id BIGINT REFERENCES teams (id) ON DELETE SET NULL;
-- The team box: one member's conversations of one team, newest first; and
-- the member's unread count of the team, over unread rows only.
CREATE INDEX participants_team_box_idx ON participants (user_id, via_team_id, last_activity_at DESC, thread_id DESC) WHERE box_count > 0;
CREATE INDEX participants_team_unread_idx ON participants (user_id, via_team_id) WHERE unread_count > 0;
-- A message a member wrote in a team conversation is written on behalf of
-- the team.
ALTER TABLE messages ADD COLUMN team_id BIGINT REFERENCES teams (id) ON DELETE SET NULL;
