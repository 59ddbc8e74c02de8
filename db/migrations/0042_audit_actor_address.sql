-- The audit rows of what an admin did to others kept the admin's IP
-- address after the admin stopped with Dialoog (only actor_id became
-- NULL). These kinds are only ever written with an actor, and the team
-- kinds with an IP address only by an admin (the command line writes
-- none), so an actor of NULL with an address left is a stopped account's:
-- the address goes, as it does for such rows from now on.
UPDATE audit_events SET ip = ''
WHERE actor_id IS NULL AND ip <> ''
  AND (kind IN ('admin.user_invited', 'admin.invitation_resent', 'admin.user_disabled', 'admin.user_enabled',
    'admin.helpdesk_reset_started') OR kind LIKE 'team.%');
