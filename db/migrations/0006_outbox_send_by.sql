-- A text that is worthless after a moment (a login code, valid 10 minutes)
-- carries the time after which it is no longer sent: a gateway that comes
-- back after an outage does not deliver codes that expired meanwhile.
ALTER TABLE outbox ADD COLUMN send_by {{ts}};
