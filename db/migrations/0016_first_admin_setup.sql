-- The first admin of the organisation created at first start is chosen by
-- the person who holds the link the server printed: its token, stored
-- hashed, works once and until setup_expires_at.
ALTER TABLE organisations ADD COLUMN setup_token_hash {{bytes}};
ALTER TABLE organisations ADD COLUMN setup_expires_at {{ts}};
