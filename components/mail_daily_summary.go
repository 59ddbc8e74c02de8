package components

import (
	"strconv"
	"strings"

	"dialoog/i18n"
)

// DailySummaryMail is the data of the daily summary mail. It has the number
// of unread messages and nothing else of them on purpose: no subjects,
// senders or organisations.
type DailySummaryMail struct {
	// Lang is the recipient's language, "nl" or "en"; anything else is Dutch.
	Lang   string
	Unread int
	// LoginURL is the absolute address of the inbox.
	LoginURL string
}

// DailySummaryMailSubject returns the subject line: how many unread
// messages are waiting.
func DailySummaryMailSubject(v DailySummaryMail) string {
	l := i18n.For(v.Lang)
	if v.Unread == 1 {
		return l.T("mail.summary.subject_one")
	}
	return l.T("mail.summary.subject", "N", strconv.Itoa(v.Unread))
}

// DailySummaryMailText returns the plain-text part of the mail.
func DailySummaryMailText(v DailySummaryMail) string {
	l := i18n.For(v.Lang)
	var b strings.Builder
	for _, para := range [][]string{
		{l.T("mail.message.header")},
		{l.T("mail.message.greeting")},
		{DailySummaryMailSubject(v) + "."},
		{l.T("mail.summary.privacy")},
		{l.T("mail.message.button") + ":", v.LoginURL},
		{l.T("mail.summary.setting")},
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
