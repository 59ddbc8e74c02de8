-- The house style of an organisation (Beheer, "Organisatie"): the display
-- name of its mail, a support text, a primary colour (#rrggbb, empty for
-- the default) and a logo (PNG or JPEG, checked by content, with its type
-- and a content hash for its address). An organisation without a row has
-- the default style; existing organisations keep it.
CREATE TABLE organisation_branding (
    org_id BIGINT PRIMARY KEY REFERENCES organisations (id) ON DELETE CASCADE,
    sender_name TEXT NOT NULL DEFAULT '',
    support_text TEXT NOT NULL DEFAULT '',
    colour TEXT NOT NULL DEFAULT '',
    logo {{bytes}},
    logo_type TEXT NOT NULL DEFAULT '',
    logo_hash TEXT NOT NULL DEFAULT '',
    updated_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    updated_at {{ts}} NOT NULL
);
