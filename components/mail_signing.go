package components

import "dialoog/i18n"

// Kinds of the signing mails.
const (
	SigningMailReminder = "reminder"
	SigningMailExpired  = "expired"
	SigningMailLapsed   = "lapsed"
)

// SigningMail returns the subject and plain text of a content-free
// signing mail (a reminder to a signer, or the expiry or lapse notice to
// the requester): it names neither the document nor the conversation.
func SigningMail(lang, kind, link string) (subject, text string) {
	l := i18n.For(lang)
	subject = l.T("signing." + kind + "_subject")
	text = l.T("signing."+kind+"_body") + "\n\n" + l.T("signing.mail_button") + ":\n" + link + "\n"
	return subject, text
}

// SigningCodeText is the text message with a signing code; like the
// login's, it ends with the origin-bound line that lets the browser fill
// the code in.
func SigningCodeText(lang, host, code string) string {
	return i18n.For(lang).T("signing.sms_text", "Code", code) + "\n\n@" + host + " #" + code
}
