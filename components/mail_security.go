package components

import (
	"strings"
	"time"

	"dialoog/i18n"
)

// SecurityMail is the data of the short mail after a change to the
// security of an account: what happened and when, and what to do if it
// was not the person. It never holds anything of their messages.
type SecurityMail struct {
	// Lang is the recipient's language, "nl" or "en"; anything else is Dutch.
	Lang string
	// Event is "password_reset", "recovery_used" or "factor_added".
	Event string
	// At is when it happened; the mail shows it in Dutch local time.
	At time.Time
}

// SecurityMailSubject returns the subject line.
func SecurityMailSubject(v SecurityMail) string {
	return oneLine(i18n.For(v.Lang).T("mail.security." + v.Event + ".subject"))
}

// SecurityMailText returns the mail, in plain text only.
func SecurityMailText(v SecurityMail) string {
	l := i18n.For(v.Lang)
	// In the hour that happens twice the time names summer or winter time
	// itself, which "om 02:30 zomertijd uur" would say awkwardly.
	whenKey := "mail.security.when"
	if i18n.Repeated(v.At.In(i18n.Zone)) {
		whenKey = "mail.security.when_repeated"
	}
	when := l.T(whenKey, "Date", l.FullDate(v.At), "Time", l.Clock(v.At))
	var b strings.Builder
	for _, para := range []string{
		l.T("mail.invite.header"),
		l.T("mail.reset.greeting"),
		l.T("mail.security."+v.Event+".what", "When", when),
		l.T("mail.security.not_you"),
		l.T("mail.invite.footer"),
	} {
		b.WriteString(para)
		b.WriteString("\n\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}
