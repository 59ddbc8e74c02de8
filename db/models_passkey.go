package db

import (
	"time"

	"github.com/uptrace/bun"
)

// Passkey is a WebAuthn credential of a person (migration 0026): a second
// factor, and a login on its own.
type Passkey struct {
	bun.BaseModel `bun:"table:passkeys"`
	ID            int64  `bun:",pk,autoincrement"`
	UserID        int64  `bun:",notnull"`
	Name          string `bun:",notnull"`
	CredentialID  []byte `bun:",notnull"`
	UserHandle    []byte `bun:",notnull"`
	// Credential is the JSON of the library's credential record.
	Credential string `bun:",notnull"`
	SignCount  int64  `bun:",notnull"`
	CreatedAt  time.Time
	LastUsedAt bun.NullTime
}

// WebAuthnChallenge is the server-side state of one WebAuthn ceremony,
// used once (migration 0026).
type WebAuthnChallenge struct {
	bun.BaseModel `bun:"table:webauthn_challenges"`
	ID            int64  `bun:",pk,autoincrement"`
	Lookup        string `bun:",notnull"`
	SessionID     *int64
	Data          string `bun:",notnull"`
	ExpiresAt     time.Time
	CreatedAt     time.Time
}
