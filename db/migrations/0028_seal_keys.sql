-- The sealing key of an organisation that seals agreements without an
-- installation-wide DIALOOG_SEAL_CERT/DIALOOG_SEAL_KEY: a self-signed
-- certificate (DER) made on first use, and its private key (PKCS#8)
-- sealed by the vault, bound to the organisation. cert_sha256 (hex of the
-- certificate's SHA-256) finds the organisation of a signed PDF's
-- certificate. The primary key makes a second instance that generated a
-- key at the same moment keep the first one's. No existing data: every
-- organisation gets its key when it first seals.
CREATE TABLE organisation_seal_keys (
    org_id BIGINT PRIMARY KEY REFERENCES organisations (id) ON DELETE CASCADE,
    cert {{bytes}} NOT NULL,
    cert_sha256 TEXT NOT NULL,
    key_sealed {{bytes}} NOT NULL,
    created_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX organisation_seal_keys_cert ON organisation_seal_keys (cert_sha256);
