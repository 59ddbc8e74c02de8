-- Web Push, switched on: each subscription remembers the VAPID public key
-- it was made with (a subscription made with another key is dropped at
-- start: its push service would refuse the server's signature), and each
-- user how many subscribed browsers they have, so that a new message
-- costs a query for pushes only for people who have any.
ALTER TABLE push_subscriptions ADD COLUMN vapid_key TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN push_devices INTEGER NOT NULL DEFAULT 0;
UPDATE users SET push_devices = (SELECT COUNT(*) FROM push_subscriptions AS s WHERE s.user_id = users.id);
