package components

import (
	"strconv"
	"time"
)

// SigningCard is a request for agreement ("ter ondertekening") as one
// participant sees it: the document, its signers with their status, and,
// for the signer whose turn it is, the forms to agree or decline.
type SigningCard struct {
	ID            int64
	ThreadID      int64
	DocumentName  string
	Pages         int
	SHA256        string
	InOrder       bool
	Deadline      time.Time // zero: none
	Status        string    // open, agreed, sealed, declined, expired
	RequesterName string
	Signers       []SigningSigner
	// MayAct: the viewer's turn. Method "sms" (a text to MaskedPhone, the
	// last one sent at CodeSentAt) or "app".
	MayAct      bool
	Method      string
	MaskedPhone string
	CodeSentAt  time.Time
	// Errors maps read, code and reason to translated messages; Notice
	// is a translated confirmation ("code sent").
	Errors map[string]string
	Notice string
}

// SigningSigner is one signer on a card.
type SigningSigner struct {
	Name      string
	Status    string // waiting, agreed, declined, expired
	DecidedAt time.Time
	Reason    string
	Me        bool
	Turn      bool
}

// SigningChoice is the "ter ondertekening" part of the reply form: the
// participants who may be asked, and what was typed.
type SigningChoice struct {
	Candidates []SigningCandidate
	On         bool
	Chosen     map[int64]bool
	InOrder    bool
	Deadline   string // yyyy-mm-dd as typed
}

// SigningCandidate is a participant who may be asked to agree.
type SigningCandidate struct {
	UserID int64
	Name   string
}

// SigningURL is the base of a request's routes.
func SigningURL(id int64) string { return "/ondertekenen/" + strconv.FormatInt(id, 10) }

func (c SigningCard) url() string { return SigningURL(c.ID) }

func signerStatusKey(status string) string  { return "signing.signer_" + status }
func requestStatusKey(status string) string { return "signing.status_" + status }

// signingFieldID is the id of a field of card c's forms.
func signingFieldID(c SigningCard, field string) string {
	return "signing-" + strconv.FormatInt(c.ID, 10) + "-" + field
}

// signingFocus is the field of card c that takes the keyboard's focus when
// htmx swaps the card in after one of its forms was sent (the button that
// was pressed went with the old card): the first one with a message, or
// the code just after it was texted; "" for none. htmx focuses the element
// with autofocus that a swap brings.
func signingFocus(c SigningCard) string {
	for _, f := range []string{"read", "code", "reason"} {
		if c.Errors[f] != "" {
			return f
		}
	}
	if len(c.Errors) == 0 && c.Notice != "" && c.MayAct && c.Method == "sms" && !c.CodeSentAt.IsZero() {
		return "code"
	}
	return ""
}
