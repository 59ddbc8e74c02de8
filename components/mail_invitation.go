package components

import (
	"strings"

	"dialoog/branding"
	"dialoog/i18n"
)

// InvitationMail is the data of the invitation mail.
type InvitationMail struct {
	// Lang is the recipient's language, "nl" or "en"; anything else is Dutch.
	Lang    string
	OrgName string
	// SignUpURL is the absolute sign-up link with its token.
	SignUpURL string
	// LoginURL is the absolute address of Dialoog for users who already
	// signed up.
	LoginURL string
	// Colour is the organisation's colour (#rrggbb) for the header and the
	// button, "" for the default; LogoURL the absolute address of its logo,
	// "" without one.
	Colour  string
	LogoURL string
}

// defaultMailColour is the header and button colour without a house style.
const defaultMailColour = "#1f4e79"

// BrandedInvitationMail is the invitation mail of an organisation with its
// house style: colour must be "" or a checked #rrggbb (anything else falls
// back to the default; one that fails today's contrast rules is shown as
// branding.Readable's shade), logoPath "" or the logo's path under baseURL.
func BrandedInvitationMail(lang, orgName, colour, logoPath, link, baseURL string) InvitationMail {
	v := InvitationMail{Lang: lang, OrgName: orgName, SignUpURL: link, LoginURL: baseURL}
	v.Colour = branding.Readable(colour)
	if logoPath != "" {
		v.LogoURL = strings.TrimSuffix(baseURL, "/") + logoPath
	}
	return v
}

// colour is the mail's header and button colour.
func (v InvitationMail) colour() string {
	if c := branding.Readable(v.Colour); c != "" {
		return c
	}
	return defaultMailColour
}

// InvitationMailSubject returns the subject line, on one line whatever the
// organisation's name contains.
func InvitationMailSubject(v InvitationMail) string {
	return oneLine(i18n.For(v.Lang).T("mail.invite.subject", "Org", v.OrgName))
}

// InvitationMailText returns the plain-text part of the invitation mail. It is
// text, not HTML: nothing is escaped, and links are written out in full.
func InvitationMailText(v InvitationMail) string {
	l := i18n.For(v.Lang)
	var b strings.Builder
	para := func(lines ...string) {
		for _, line := range lines {
			b.WriteString(line)
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	para(l.T("mail.invite.header"))
	para(l.T("mail.invite.greeting"))
	para(l.T("mail.invite.lead", "Org", oneLine(v.OrgName)))
	para(l.T("mail.invite.button")+":", v.SignUpURL)
	para(l.T("mail.invite.login_before")+" "+l.T("mail.invite.login_link")+" "+l.T("mail.invite.login_after")+":", v.LoginURL)
	b.WriteString(l.T("mail.invite.footer"))
	b.WriteString("\n")
	return b.String()
}
