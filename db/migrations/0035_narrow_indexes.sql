-- Every reply changes the participants' rows and the thread's, and so every
-- index entry of theirs. The team and case indexes held an entry for every
-- participant and every conversation, though only rows of a team or a case
-- are ever looked up in them; now they hold only those. The read states'
-- index on (message_id, removed_at) repeated the start of their primary key
-- (message_id, user_id), which serves the same lookups.
DROP INDEX participants_team_box_idx;
CREATE INDEX participants_team_box_idx ON participants (user_id, via_team_id, last_activity_at DESC, thread_id DESC)
    WHERE box_count > 0 AND via_team_id IS NOT NULL;
DROP INDEX participants_team_unread_idx;
CREATE INDEX participants_team_unread_idx ON participants (user_id, via_team_id) WHERE unread_count > 0 AND via_team_id IS NOT NULL;
DROP INDEX threads_case_idx;
CREATE INDEX threads_case_idx ON threads (case_id, last_message_at DESC, id DESC) WHERE case_id IS NOT NULL;
DROP INDEX message_states_message_idx;
