-- Attachment names and absence messages are sealed like message bodies;
-- the attachment checksum becomes keyed. Rows stored before are converted
-- at start (messaging.SealLegacyAttachments, auth.SealLegacyAway): a row
-- with name_sealed NULL still has a plain name and an unkeyed checksum.
ALTER TABLE attachments ADD COLUMN name_sealed {{bytes}};
ALTER TABLE users ADD COLUMN away_sealed {{bytes}};
