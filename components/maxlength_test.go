package components

import (
	"regexp"
	"strings"
	"testing"

	"github.com/a-h/templ"

	"dialoog/i18n"
)

// runeCountedFields are the form fields whose length the services count
// in characters (runes: messaging.MaxSubject and MaxBody, the case
// reference, the signing reason, the profile's names and absence reply,
// the organisation's name, sender name and support text, a passkey's and
// a team's name).
var runeCountedFields = map[string]bool{
	"subject": true, "body": true, "reference": true, "reason": true,
	"initials": true, "first_name": true, "name_prefix": true, "last_name": true, "away_message": true,
	"name": true, "sender": true, "support": true,
}

// TestNoMaxlengthWhereTheServerCountsCharacters: a browser's maxlength
// counts UTF-16 code units, so an emoji (any character outside the BMP)
// counts twice, while the server counts characters. No maxlength agrees
// with that in both ways: a text of the server's maximum in emoji could
// not be typed in full. So these fields have none, and a text that is
// too long comes back with the server's message and what was typed
// (TestLongTextKeptWithTheServersMessage in handlers). Every page of the
// pages tests, in both languages.
func TestNoMaxlengthWhereTheServerCountsCharacters(t *testing.T) {
	field := regexp.MustCompile(`<(?:input|textarea)\b[^>]*>`)
	nameAttr := regexp.MustCompile(`\bname="([^"]*)"`)
	for _, lang := range []string{"nl", "en"} {
		all := pages(lang)
		for name, p := range accountPages(lang) {
			all[name] = p
		}
		m := Meta{L: i18n.For(lang), CSRF: "csrf-token-value", SignedIn: true}
		for name, c := range map[string]templ.Component{
			"AdminBranding": AdminBrandingPage(m, AdminBrandingView{}),
			"AdminTeams":    AdminTeamsPage(m, AdminTeamsView{}),
			"Passkey":       passkeyAddSection(m, PasskeyForm{Action: PasskeyFactorsAction}),
			"SigningCard":   SigningCardView(m, SigningCard{ID: 1, ThreadID: 2, Status: "open", MayAct: true, Method: "app"}),
			"ThreadCase":    threadCase(m, ThreadView{Case: &ThreadCase{Subjects: []CaseSubjectItem{{UserID: 3, Name: "Jan"}}}}),
		} {
			all[name] = [2]templ.Component{c, c}
		}
		seen := map[string]bool{}
		for page, p := range all {
			html := renderString(t, p[0])
			for _, tag := range field.FindAllString(html, -1) {
				n := nameAttr.FindStringSubmatch(tag)
				if n == nil || !runeCountedFields[n[1]] {
					continue
				}
				seen[n[1]] = true
				if strings.Contains(tag, "maxlength=") {
					t.Errorf("%s page %s: field %q has a maxlength, which counts an emoji as two: %s", lang, page, n[1], tag)
				}
			}
		}
		for f := range runeCountedFields {
			if !seen[f] {
				t.Errorf("%s: no page of the tests has the field %q", lang, f)
			}
		}
	}
}
