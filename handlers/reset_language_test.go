package handlers

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"dialoog/auth"
)

// TestPasswordResetInTheMailsLanguage: the page a reset mail links to
// speaks the language of the person the link is for, as the mail did (and
// as the invitation's page does), whatever the browser asks for; its
// refusals too, plain and with htmx. A language chosen in the footer wins.
func TestPasswordResetInTheMailsLanguage(t *testing.T) {
	ra := newRealApp(t)
	acc := ra.onboard(t, auth.InviteInput{Email: "jan@example.nl", Language: "en"}, false)
	b := ra.browser(t)
	resp, _ := b.post("/wachtwoord-vergeten", url.Values{"email": {acc.email}}, "Accept-Language", "nl-NL,nl;q=0.9")
	wantRedirect(t, resp, "/wachtwoord-vergeten/verstuurd")
	link := regexp.MustCompile(`/wachtwoord-vergeten/[A-Za-z0-9_-]{43}`).FindString(ra.lastMail(t, acc.email).Text)
	if link == "" {
		t.Fatal("no reset link mailed")
	}
	resp, page := b.get(link, "Accept-Language", "nl-NL,nl;q=0.9")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page, `<html lang="en"`)
	for _, hx := range [][]string{{"Accept-Language", "nl"}, {"Accept-Language", "nl", "HX-Request", "true"}} {
		resp, page = b.post(link, url.Values{"password": {"kort"}, "confirm": {"kort"}}, hx...)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, "The password is too short: use at least 12 characters.")
	}
	resp, page = b.post(link+"/controle", url.Values{"password": {"kort"}}, "Accept-Language", "nl", "HX-Request", "true")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page, "12 characters")
	resp, _ = b.post("/taal", url.Values{"taal": {"nl"}, "terug": {link}})
	wantStatus(t, resp, http.StatusSeeOther)
	_, page = b.get(link)
	wantContains(t, page, `<html lang="nl"`)
}
