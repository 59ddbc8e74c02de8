package components

import "time"

// FactorsView is "Tweede stap beheren": the person's second factors, the
// forms that add, replace and remove them, and new recovery codes.
type FactorsView struct {
	Email string
	// Notice confirms a change; Error is a message for the whole page (the
	// last factor cannot go, a confirmation is needed first).
	Notice, Error string
	Factors       []FactorItem
	// MayChange is set while the session's "confirm it is you" counts:
	// every form is open. MayAdd is set when factors may be added (also
	// while a recovery code's grant lasts, until GrantUntil, "14:05").
	MayChange, MayAdd bool
	GrantUntil        string
	// GrantRepeated: GrantUntil is in the hour that happens twice (see
	// RecoveryUsedView.UntilRepeated).
	GrantRepeated bool
	// Confirm is the "confirm it is you" form, shown unless MayChange.
	Confirm ConfirmView
	// Passkey is the form that adds a passkey.
	Passkey PasskeyForm
	// SMS is the form for a new number: the number, or the code once one
	// was sent (SMS.SentTo).
	SMS SMSStepView
	// RecoveryLeft is how many unused recovery codes the person has;
	// Codes are new ones, shown once right after they were made.
	RecoveryLeft int
	Codes        []string
}

// FactorItem is one second factor in the list.
type FactorItem struct {
	ID       int64
	Kind     string // "sms", "totp" or "passkey"
	Phone    string // masked, for SMS
	Name     string // of a passkey
	Added    time.Time
	LastUsed time.Time
}

// HasKind reports whether the person has a factor of kind.
func (v FactorsView) HasKind(kind string) bool {
	for _, f := range v.Factors {
		if f.Kind == kind {
			return true
		}
	}
	return false
}

// SMSPhone is the masked number of the SMS factor, "" without one.
func (v FactorsView) SMSPhone() string {
	for _, f := range v.Factors {
		if f.Kind == "sms" {
			return f.Phone
		}
	}
	return ""
}

// RecoveryCodesView returns the new codes as the recovery page's view, for
// its copy and download text.
func (v FactorsView) RecoveryCodesView() RecoveryView {
	return RecoveryView{Email: v.Email, Codes: v.Codes}
}

// ConfirmView is the "confirm it is you" form: the password or, for a
// person with an app, a code of it. Next is where the form continues after
// a success (one of a fixed set of pages); nothing typed comes back.
type ConfirmView struct {
	Next                     string
	WithApp                  bool
	PasswordError, CodeError string
	// SSO offers "Bevestigen via je organisatie" (a user linked to their
	// organisation's provider); NoPassword leaves out the password form
	// (a user without a Dialoog password). SSOError is the message of a
	// confirmation through the organisation that did not pass.
	SSO, NoPassword bool
	SSOError        string
}

// PasswordChangeView is "Wachtwoord wijzigen" on the account page: the
// translated messages of its fields; typed passwords never come back.
type PasswordChangeView struct {
	CurrentError, PasswordError, ConfirmError string
	// Elsewhere: the person logs in through their organisation and has no
	// Dialoog password; the section says where it is changed instead.
	Elsewhere bool
}

// repeatedKey is the catalog key of a sentence with a clock time in it,
// or its variant for a time in the hour that happens twice (key +
// "_repeated"), which names summer or winter time itself and so leaves
// out the Dutch "uur" after it.
func repeatedKey(key string, repeated bool) string {
	if repeated {
		return key + "_repeated"
	}
	return key
}
