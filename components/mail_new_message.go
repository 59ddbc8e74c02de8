package components

import (
	"strings"

	"dialoog/i18n"
)

// NewMessageMail is the data of the mail that tells an active user a new
// message is waiting. It has no field for the message on purpose: the mail
// says only that there is one, and from whom.
type NewMessageMail struct {
	// Lang is the recipient's language, "nl" or "en"; anything else is Dutch.
	Lang string
	// From is who wrote, as the recipient may see them: a person's name, or
	// the organisation for an external recipient of an internal author
	// (messaging.NotifiedFrom).
	From string
	// LoginURL is the absolute address where the message is read after
	// logging in.
	LoginURL string
}

// NewMessageMailSubject returns the subject line, on one line whatever the
// name contains.
func NewMessageMailSubject(v NewMessageMail) string {
	return oneLine(i18n.For(v.Lang).T("mail.message.subject", "From", v.From))
}

// NewMessageMailText returns the plain-text part of the mail.
func NewMessageMailText(v NewMessageMail) string {
	l := i18n.For(v.Lang)
	var b strings.Builder
	for _, para := range [][]string{
		{l.T("mail.message.header")},
		{l.T("mail.message.greeting")},
		{l.T("mail.message.lead", "From", oneLine(v.From))},
		{l.T("mail.message.privacy")},
		{l.T("mail.message.button") + ":", v.LoginURL},
	} {
		for _, line := range para {
			b.WriteString(line)
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	b.WriteString(l.T("mail.message.footer"))
	b.WriteString("\n")
	return b.String()
}
