-- Beheer's user list collects an organisation's invitees by organisation.
CREATE INDEX invitations_org_user_idx ON invitations (org_id, user_id);
