package components

import (
	"regexp"
	"time"
)

// InvitationView is the page behind the sign-up link in the invitation mail.
type InvitationView struct {
	// Action is the URL the AANMELDEN form posts to: the link itself.
	Action  string
	Email   string
	OrgName string
}

// InvitationInvalidView is the page for an expired, used, replaced or
// unknown sign-up link, and the form that asks for a new one.
type InvitationInvalidView struct {
	// Expired is true when the user came from a link that no longer works;
	// false when they opened the new-link form directly.
	Expired bool
	// Email is the address as typed, kept after an error.
	Email string
	// EmailError is the translated message for the address field.
	EmailError string
}

// ErrorView is an error page: the HTTP status and a translated message.
type ErrorView struct {
	Status  int
	Message string
}

// DevOutboxView lists what the dev outbox "sent", newest first.
type DevOutboxView struct {
	Items []DevOutboxItem
}

// DevOutboxItem is one mail or SMS as its recipient would see it.
type DevOutboxItem struct {
	ID int64
	// Channel is "mail" or "sms".
	Channel string
	// To is the mail address or phone number.
	To string
	// Subject, HTML and Text are set for mail; HTML is shown in a sandboxed
	// iframe, Text as the plain-text part.
	Subject string
	HTML    string
	Text    string
	// Body is the text of an SMS.
	Body      string
	Status    string
	CreatedAt time.Time
	SentAt    time.Time
	Attempts  int
	LastError string
}

// IsSMS reports whether the item is a text message.
func (i DevOutboxItem) IsSMS() bool { return i.Channel == "sms" }

var linkPattern = regexp.MustCompile(`https?://[^\s<>"]+`)

// Links returns the web addresses in the plain-text part or SMS body, so a
// developer (or a browser test) can follow a sign-up link: links inside the
// sandboxed preview cannot navigate the page.
func (i DevOutboxItem) Links() []string {
	src := i.Text
	if i.IsSMS() {
		src = i.Body
	}
	return linkPattern.FindAllString(src, -1)
}

// devTime formats a time for the dev outbox; the zero time is shown empty.
func devTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}
