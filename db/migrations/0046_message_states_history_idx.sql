-- The read states that came with a team's history (0044) and that their
-- person has not opened yet: opening a conversation finds its own among
-- them (messaging.MarkReadUpTo) without reading every state of the
-- conversation, as it finds the unread ones through
-- message_states_user_idx.
CREATE INDEX message_states_history_idx ON message_states (user_id, message_id) WHERE history = TRUE;
