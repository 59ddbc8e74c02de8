package components

import (
	"strings"

	"dialoog/i18n"
)

// PasswordResetMail is the data of the mail with a password-reset link.
type PasswordResetMail struct {
	// Lang is the recipient's language, "nl" or "en"; anything else is Dutch.
	Lang string
	// ResetURL is the absolute link with its token.
	ResetURL string
}

// PasswordResetMailSubject returns the subject line.
func PasswordResetMailSubject(v PasswordResetMail) string {
	return oneLine(i18n.For(v.Lang).T("mail.reset.subject"))
}

// PasswordResetMailText returns the plain-text part of the mail.
func PasswordResetMailText(v PasswordResetMail) string {
	l := i18n.For(v.Lang)
	return linkMailText(l, l.T("mail.reset.lead"), l.T("mail.reset.button"), v.ResetURL, l.T("mail.reset.not_you"))
}

// linkMailText is the plain text of a mail that carries one link: the
// greeting, lead, the link under its button text, what to do if it was not
// the reader, and the footer.
func linkMailText(l i18n.Localizer, lead, button, link, notYou string) string {
	var b strings.Builder
	for _, para := range [][]string{
		{l.T("mail.invite.header")},
		{l.T("mail.reset.greeting")},
		{lead},
		{button + ":", link},
		{notYou},
	} {
		for _, line := range para {
			b.WriteString(line)
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	b.WriteString(l.T("mail.invite.footer"))
	b.WriteString("\n")
	return b.String()
}

// SMSCodeText is the text message with a one-time code. The last line is
// the origin-bound one-time-code format ("@host #code"), by which phones
// offer the code for autofill on that site only.
func SMSCodeText(lang, host, code string) string {
	return i18n.For(lang).T("sms.code_text", "Code", code) + "\n\n@" + host + " #" + code
}
