-- A page of the inbox reads each row's participant entry and each
-- conversation's other participants. Both came from the index and then the
-- table row: the counts are not in participants_inbox_idx, and the
-- person and their team are not in participants_thread_idx. The indexes now
-- hold them, so the page reads them from the index alone. A reply changes
-- neither index more than before: a new message already moves the entry of
-- participants_inbox_idx (last_activity_at), and participants_thread_idx
-- holds nothing a message changes.
DROP INDEX participants_inbox_idx;
CREATE INDEX participants_inbox_idx ON participants (user_id, last_activity_at DESC, thread_id DESC, unread_count, box_count) WHERE box_count > 0;
DROP INDEX participants_team_box_idx;
CREATE INDEX participants_team_box_idx ON participants (user_id, via_team_id, last_activity_at DESC, thread_id DESC, unread_count, box_count)
    WHERE box_count > 0 AND via_team_id IS NOT NULL;
DROP INDEX participants_thread_idx;
CREATE INDEX participants_thread_idx ON participants (thread_id, id, user_id, via_team_id);
