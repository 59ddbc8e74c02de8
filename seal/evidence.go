// Package seal produces and checks the sealed PDF of an agreement: the
// original pages, an appended evidence page and a PAdES-B-B signature over
// the whole file with the organisation's sealing key.
package seal

import "time"

// Methods by which a signer confirmed an agreement.
const (
	MethodSMS = "sms"
	MethodApp = "app"
)

// Signature is the evidence of one signer's agreement.
type Signature struct {
	Name        string
	Email       string
	Method      string // MethodSMS or MethodApp
	MaskedPhone string // the masked number for MethodSMS, empty for MethodApp
	At          time.Time
	IP          string
	UserAgent   string
}

// Evidence is what the evidence page of a sealed PDF lists.
type Evidence struct {
	Organisation string
	DocumentName string
	SHA256       string // hex SHA-256 of the original PDF the signers agreed to
	Pages        int    // pages of the original
	RequestedBy  string
	RequestedAt  time.Time
	Signatures   []Signature
	Language     string // "nl" or "en": the language of the evidence page
}
