package components

import "dialoog/i18n"

// HelpdeskResetMail is the data of the mail with the link of a helpdesk
// reset; the code that goes with it is given by phone, never by mail.
type HelpdeskResetMail struct {
	// Lang is the recipient's language, "nl" or "en"; anything else is Dutch.
	Lang string
	// Link is the absolute link with its token.
	Link string
}

// HelpdeskResetMailSubject returns the subject line.
func HelpdeskResetMailSubject(v HelpdeskResetMail) string {
	return oneLine(i18n.For(v.Lang).T("mail.helpdesk.subject"))
}

// HelpdeskResetMailText returns the mail, in plain text only.
func HelpdeskResetMailText(v HelpdeskResetMail) string {
	l := i18n.For(v.Lang)
	return linkMailText(l, l.T("mail.helpdesk.lead"), l.T("mail.helpdesk.button"), v.Link, l.T("mail.helpdesk.not_you"))
}
