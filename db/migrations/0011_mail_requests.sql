-- "Wachtwoord vergeten" and "Stuur mij een nieuwe link" only write a row
-- here, the same for known and unknown addresses; the work that depends on
-- the address (a link, a mail) is done afterwards by a background worker,
-- so the answer takes the same time either way.
CREATE TABLE mail_requests (
    id {{pk}},
    kind TEXT NOT NULL,
    email TEXT NOT NULL,
    ip TEXT NOT NULL DEFAULT '',
    created_at {{ts}} NOT NULL
);
