package components

import (
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"dialoog/i18n"
)

// The steps of the first visit, for the "Stap N van 5" line.
const (
	StepTerms        = 1
	StepPassword     = 2
	StepSecondFactor = 3
	StepRecovery     = 4
	StepProfile      = 5
	stepCount        = 5
)

// TermsStepView is the first step of the first visit: the introduction from
// the seed, a link to the full terms and the checkbox.
type TermsStepView struct {
	// VersionID identifies the version the user is shown; the form posts it
	// back so that a version published meanwhile is not accepted unseen.
	VersionID int64
	Version   int
	// Error is the translated message for the checkbox.
	Error string
}

// TermsURL is the address of the full text of the version shown.
func (v TermsStepView) TermsURL() string { return "/voorwaarden/" + strconv.Itoa(v.Version) }

// TermsTextView is one published version of the terms of use.
type TermsTextView struct {
	Version     int
	PublishedAt time.Time
	// Body is the text in the page's language; OnlyDutch is set when an
	// English reader gets the Dutch text because there is no translation.
	Body      string
	OnlyDutch bool
}

// Paragraphs splits the text at blank lines; single line breaks stay within
// a paragraph (rendered by CSS white-space: pre-line).
func (v TermsTextView) Paragraphs() []string { return paragraphs(v.Body) }

func paragraphs(s string) []string {
	s = strings.ReplaceAll(strings.TrimSpace(s), "\r\n", "\n")
	var out []string
	for _, p := range strings.Split(s, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// PasswordView is the form that sets a password: the first-visit step, or
// the page behind a password-reset link.
type PasswordView struct {
	// Reset selects the password-reset wording; Email is then the address
	// the link is for.
	Reset bool
	Email string
	// Action is where the form posts; CheckURL where the live feedback is
	// asked while typing.
	Action   string
	CheckURL string
	// PasswordError and ConfirmError are translated messages for the fields.
	// Typed passwords are never sent back.
	PasswordError string
	ConfirmError  string
}

// PasswordFeedbackView is the live feedback on a password being typed.
type PasswordFeedbackView struct {
	// Message is empty before anything was typed.
	Message string
	OK      bool
}

// SMSStepView is the SMS part of the second-factor step.
type SMSStepView struct {
	// Phone is the number as typed, kept after an error.
	Phone      string
	PhoneError string
	// SentTo is the number a code is pending for, in full as it was just
	// typed (formatted); empty shows the number form instead of the code
	// form.
	SentTo    string
	CodeError string
	// ResendIn is how many seconds until "Geen SMS ontvangen" works again.
	ResendIn int
	// Notice is a translated message shown above the forms (a wait).
	Notice string
	// Passkey is the form that adds a passkey instead.
	Passkey PasskeyForm
	// Verified is the masked number of an SMS factor that is already set.
	Verified string
}

// AppStepView is the authenticator-app part of the second-factor step.
type AppStepView struct {
	// QRCode is the PNG of the otpauth URI.
	QRCode []byte
	// Secret is the secret in groups of four.
	Secret string
	// URI is the otpauth URI the QR code holds: on the phone with the app,
	// a link to it opens the app with the account filled in.
	URI       string
	CodeError string
	// Error is a translated message for the whole step (a second factor is
	// required before skipping).
	Error string
	// SMSVerified is set when SMS is already set up, so skipping is fine.
	SMSVerified bool
	// Passkey is the form that adds a passkey instead.
	Passkey PasskeyForm
}

// QRCodeURL returns the QR code as a data: URL for the img element (the CSP
// allows img-src data:).
func (v AppStepView) QRCodeURL() templ.SafeURL {
	return templ.SafeURL("data:image/png;base64," + base64.StdEncoding.EncodeToString(v.QRCode))
}

// AppURI is URI when it is an otpauth link, the only kind written as a
// link; "" otherwise.
func (v AppStepView) AppURI() templ.SafeURL {
	if !strings.HasPrefix(v.URI, "otpauth://") {
		return ""
	}
	return templ.SafeURL(v.URI)
}

// SecretPlain is the secret without the spaces of its groups, for copying.
func (v AppStepView) SecretPlain() string { return strings.ReplaceAll(v.Secret, " ", "") }

// RecoveryView shows the ten recovery codes once.
type RecoveryView struct {
	Email string
	Codes []string
	// Error is the translated message for the checkbox.
	Error string
}

// DownloadURL returns the codes as a text file in a data: URL.
func (v RecoveryView) DownloadURL(l i18n.Localizer) templ.SafeURL {
	return templ.SafeURL("data:text/plain;charset=utf-8," + url.PathEscape(v.Text(l)))
}

// Text returns the codes as plain text, for copying and downloading.
func (v RecoveryView) Text(l i18n.Localizer) string {
	var b strings.Builder
	b.WriteString(l.T("recovery.file_heading", "Email", v.Email))
	b.WriteString("\n\n")
	for i, c := range v.Codes {
		b.WriteString(strconv.Itoa(i+1) + ". " + c + "\n")
	}
	return b.String()
}

// ProfileForm is the "Deelnemerinstellingen" form's values, as stored or as
// typed.
type ProfileForm struct {
	Gender      string
	Initials    string
	FirstName   string
	NamePrefix  string
	LastName    string
	AwayEnabled bool
	AwayMessage string
	AwayFrom    string // yyyy-mm-dd
	AwayUntil   string // yyyy-mm-dd
}

// ProfileView is the profile step.
type ProfileView struct {
	Form ProfileForm
	// Errors maps a form field name (initials, away_until, ...) to its
	// translated message.
	Errors map[string]string
}

// profileFields are the form's fields in page order, with their label keys,
// for the error summary.
var profileFields = []struct{ name, label string }{
	{"gender", "profile.gender"},
	{"initials", "profile.initials"},
	{"first_name", "profile.first_name"},
	{"name_prefix", "profile.name_prefix"},
	{"last_name", "profile.last_name"},
	{"away_enabled", "profile.away_enabled"},
	{"away_message", "profile.away_message"},
	{"away_from", "profile.away_from"},
	{"away_until", "profile.away_until"},
}

// NotifyChoices are the choices of "Meldingen per e-mail", the default
// (a mail per new message) first.
var NotifyChoices = []string{"message", "daily", "none"}

// Genders are the choices of "Geslacht", "unknown" first (the default).
var Genders = []string{"unknown", "male", "female", "other"}

// profileID is the element id of a profile form field.
func profileID(field string) string { return "profile-" + strings.ReplaceAll(field, "_", "-") }

// LoginView is the login form: the typed address is kept after an error.
type LoginView struct {
	Email string
	// Error is a translated message shown above the form.
	Error string
	// Notice is a translated message about why the person is here, shown
	// above the form (role=status): their session ended for being idle,
	// or the text they wrote when it lapsed was kept.
	Notice string
	// SSO is the "Inloggen met je organisatie" block (login_sso.templ).
	SSO LoginSSOView
}

// LoginFactorView is the second step of a login.
type LoginFactorView struct {
	// Factors are the user's verified factors, last used first.
	Factors []LoginFactor
	// SMSSentTo is the masked number a login code was sent to; empty until
	// the user asks for one.
	SMSSentTo   string
	SMSResendIn int
	// Errors of the three forms, translated.
	SMSError      string
	TOTPError     string
	RecoveryError string
	// Error is a message for the whole page (a wait).
	Error string
	// Support are the support texts of the user's organisations, for a
	// user who can no longer do a second step.
	Support []SupportText
}

// SupportText is an organisation's support text.
type SupportText struct {
	Org, Text string
}

// LoginFactor is one factor offered at login.
type LoginFactor struct {
	// Kind is "sms", "totp" or "passkey".
	Kind string
	// Phone is the masked number of an SMS factor.
	Phone string
}

// ForgotPasswordView is the form that asks for a password-reset link.
type ForgotPasswordView struct {
	Email      string
	EmailError string
	Error      string
}

// AdminTermsView is the admin page that publishes a new terms version.
type AdminTermsView struct {
	Version     int
	PublishedAt time.Time
	// NL and EN are the texts in the form: the current ones, or as typed.
	NL, EN string
	// BodyError is the translated message for the Dutch text.
	BodyError string
	// Shared: the installation serves several organisations, so its
	// operator publishes the terms; the page has no form.
	Shared bool
}

// waitSeconds renders "(nog N seconden)" for a countdown.
func waitSeconds(l i18n.Localizer, n int) string {
	if n == 1 {
		return l.T("sms.resend_wait_one")
	}
	return l.T("sms.resend_wait", "N", n)
}

// FormatDate writes a date the way people read it, on its day in the
// Netherlands: "23 februari 2026", "23 February 2026".
func FormatDate(l i18n.Localizer, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return l.FullDate(t)
}

// stepOf renders "Stap N van 5".
func stepOf(m Meta, n int) string { return m.T("step.progress", "N", n, "Total", stepCount) }

// AccountView is "Mijn account": downloading the box and stopping with
// Dialoog. The password is never echoed back.
type AccountView struct {
	Email string
	// Notice confirms a saved setting.
	Notice string
	// Names and Away are the forms of "Mijn instellingen", as stored or
	// as typed with their messages; AwayOn says the reply applies now.
	Names, Away   ProfileView
	AwayOn        bool
	Language      string
	LanguageError string
	// Notify is the choice of "Meldingen per e-mail" (NotifyChoices), as
	// stored or as sent with NotifyError.
	Notify      string
	NotifyError string
	// PushKey is the server's VAPID public key for "Meldingen op dit
	// apparaat"; empty hides that section.
	PushKey string
	// PasswordError and ConfirmError are the translated messages for the
	// password field and the checkbox of "Stoppen met Dialoog".
	PasswordError string
	ConfirmError  string
	// StopSSO offers "Bevestigen via je organisatie" for "Stoppen met
	// Dialoog", StopNoPassword leaves out its password field (no Dialoog
	// password), StopConfirmed says this session confirmed it is the
	// person a moment ago (then only the tick is asked); StopSSOError is
	// the message at the organisation's confirmation.
	StopSSO, StopNoPassword, StopConfirmed bool
	StopSSOError                           string
	// Change is "Wachtwoord wijzigen".
	Change PasswordChangeView
}

// StartView is the public start page; Stopped is set right after a user
// deleted their account.
type StartView struct {
	Stopped bool
}

// ActivityView is one page of "Beveiligingsactiviteit".
type ActivityView struct {
	Events []ActivityItem
	Page   int
	More   bool
}

// ActivityItem is one security event: its audit kind ("login.ok"), the
// factor it names (password, sms, totp, recovery) and the shortened IP
// address it came from.
type ActivityItem struct {
	Kind   string
	Factor string
	Place  string
	At     time.Time
}

// activityText says what happened, in the reader's language; a kind
// without its own sentence is named as it is stored.
func activityText(m Meta, e ActivityItem) string {
	text := m.T("activity.kind." + e.Kind)
	if text == "activity.kind."+e.Kind {
		text = m.T("activity.kind_other", "Kind", e.Kind)
	}
	if e.Factor != "" {
		text += " (" + m.T("activity.factor."+e.Factor) + ")"
	}
	return text
}

// SessionsView is "Sessies".
type SessionsView struct {
	Sessions []SessionItem
	Notice   string
}

// SessionItem is one live session.
type SessionItem struct {
	ID               int64
	Browser, System  string
	Place            string
	Started, Active  time.Time
	Current, Pending bool
}

// sessionDevice names a session's browser and system, "Firefox 128 op
// Windows 10", or says it is unknown.
func sessionDevice(m Meta, s SessionItem) string {
	switch {
	case s.Browser != "" && s.System != "":
		return m.T("sessions.device", "Browser", s.Browser, "System", s.System)
	case s.Browser != "":
		return s.Browser
	case s.System != "":
		return s.System
	}
	return m.T("sessions.unknown_device")
}

// sessionPlace is the shortened IP address, or that it is unknown.
func sessionPlace(m Meta, place string) string {
	if place == "" {
		return m.T("sessions.unknown_place")
	}
	return place
}

// RecoveryUsedView is the page after a login with a recovery code.
// recoveryCodesLeft says how many recovery codes are left, in words that
// agree with the number.
func recoveryCodesLeft(m Meta, n int) string {
	switch n {
	case 0:
		return m.T("recovery_used.left_none")
	case 1:
		return m.T("recovery_used.left_one")
	}
	return m.T("recovery_used.left", "Count", n)
}

type RecoveryUsedView struct {
	// Left is the number of unused recovery codes.
	Left int
	// MayEnrol is set while the session may set up a new factor, until
	// Until (a local clock time, "14:05").
	MayEnrol bool
	Until    string
	// UntilRepeated: Until is in the hour that happens twice and names
	// summer or winter time itself (i18n.Repeated), so the sentence
	// leaves out "uur" after it.
	UntilRepeated bool
	// HasFactor is set when the account still has a factor; without one,
	// setting one up is the only way on.
	HasFactor bool
}
