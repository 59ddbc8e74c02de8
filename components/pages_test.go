package components

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"

	"dialoog/i18n"
)

func pages(lang string) map[string][2]templ.Component {
	m := Meta{L: i18n.For(lang), CSRF: "csrf-token-value"}
	inv := InvitationView{Action: "/aanmelden/abc", Email: "jan@example.nl", OrgName: "OSAW"}
	invalid := InvitationInvalidView{Expired: true, Email: "jan@", EmailError: "Vul een geldig mailadres in."}
	login := LoginView{Email: "jan@example.nl", Error: "Nog niet"}
	next := NextStepView{Step: "Gebruikersvoorwaarden", ContinueURL: "/voorwaarden"}
	errV := ErrorView{Status: 404, Message: "Weg."}
	dev := DevOutboxView{Items: []DevOutboxItem{
		{ID: 1, Channel: "mail", To: "a@b.nl", Subject: "S", HTML: "<p>x</p>", Text: "x https://x.nl/a", CreatedAt: time.Unix(0, 0)},
		{ID: 2, Channel: "sms", To: "+31612345678", Body: "123456"},
	}}
	return map[string][2]templ.Component{
		"Start":             {StartPage(m), StartPartial(m)},
		"Login":             {LoginPage(m, login), LoginPartial(m, login)},
		"Invitation":        {InvitationPage(m, inv), InvitationPartial(m, inv)},
		"InvitationInvalid": {InvitationInvalidPage(m, invalid), InvitationInvalidPartial(m, invalid)},
		"NewLink":           {InvitationInvalidPage(m, InvitationInvalidView{}), InvitationInvalidPartial(m, InvitationInvalidView{})},
		"NewLinkSent":       {NewLinkSentPage(m), NewLinkSentPartial(m)},
		"NextStep":          {NextStepPage(m, next), NextStepPartial(m, next)},
		"Error":             {ErrorPage(m, errV), ErrorPartial(m, errV)},
		"DevOutbox":         {DevOutboxPage(m, dev), DevOutboxPartial(m, dev)},
	}
}

var (
	inputPattern = regexp.MustCompile(`<input [^>]*>`)
	idPattern    = regexp.MustCompile(`\bid="([^"]+)"`)
	formPattern  = regexp.MustCompile(`<form [^>]*>`)
)

// TestPagesAreAccessibleAndCSPClean checks what every page must have: one
// h1, a label for every visible input, the CSRF field in every form, and no
// inline script or style (the CSP would block them).
func TestPagesAreAccessibleAndCSPClean(t *testing.T) {
	for _, lang := range i18n.Languages {
		for name, p := range pages(lang) {
			t.Run(lang+"/"+name, func(t *testing.T) {
				full, partial := renderString(t, p[0]), renderString(t, p[1])
				if !strings.HasPrefix(full, "<!doctype html><html lang=\""+lang+"\">") {
					t.Errorf("full page does not start with the document: %.80s", full)
				}
				if strings.Contains(partial, "<html") || !strings.HasPrefix(partial, "<title>") {
					t.Errorf("partial is not content only: %.80s", partial)
				}
				for _, page := range []string{full, partial} {
					if n := strings.Count(page, "<h1"); n != 1 {
						t.Errorf("%d h1 elements", n)
					}
					if strings.Contains(page, " style=") || strings.Contains(page, "<style") || strings.Contains(page, "<script>") {
						t.Error("inline style or script")
					}
					for _, input := range inputPattern.FindAllString(page, -1) {
						if strings.Contains(input, `type="hidden"`) {
							continue
						}
						id := idPattern.FindStringSubmatch(input)
						if id == nil || !strings.Contains(page, `<label for="`+id[1]+`">`) {
							t.Errorf("input without label: %s", input)
						}
					}
					forms := formPattern.FindAllString(page, -1)
					if n := strings.Count(page, `<input type="hidden" name="_csrf" value="csrf-token-value">`); n != len(forms) {
						t.Errorf("%d forms but %d CSRF fields", len(forms), n)
					}
					for _, f := range forms {
						if !strings.Contains(f, `method="post"`) {
							t.Errorf("form without method=post: %s", f)
						}
					}
				}
				if strings.Contains(full, "Naar de inhoud") != (lang == "nl") {
					t.Error("skip link missing or in the wrong language")
				}
			})
		}
	}
}

func TestFieldErrorIsTiedToInput(t *testing.T) {
	m := Meta{L: i18n.For("nl"), CSRF: "x"}
	page := renderString(t, InvitationInvalidPartial(m, InvitationInvalidView{Email: "jan@", EmailError: "Vul een geldig mailadres in."}))
	for _, want := range []string{
		`<p id="newlink-email-error" class="field-error"><span class="visually-hidden">Fout: </span>Vul een geldig mailadres in.</p>`,
		`value="jan@"`, `aria-invalid="true"`, `aria-describedby="newlink-email-error"`, "autofocus",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
}
