-- A system line in a conversation ("X is toegevoegd door Y"): a message
-- with a kind and the person it is about, rendered in each reader's
-- language. sender_id is who caused it.
ALTER TABLE messages ADD COLUMN system_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN subject_user_id BIGINT REFERENCES users (id) ON DELETE SET NULL;
