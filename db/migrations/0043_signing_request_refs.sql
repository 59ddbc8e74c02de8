-- A message or attachment that is deleted looks for the signing requests
-- that point at it (removing a message asks whether a request still needs
-- it, and the foreign keys clear the references): without these indexes
-- every deleted message scanned all requests.
CREATE INDEX signing_requests_message_idx ON signing_requests (message_id);
CREATE INDEX signing_requests_sealed_idx ON signing_requests (sealed_message_id);
CREATE INDEX signing_requests_attachment_idx ON signing_requests (attachment_id);
