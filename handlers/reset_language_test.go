package handlers

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"dialoog/auth"
	"dialoog/db"
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

// TestHelpdeskLinkInTheMailsLanguage: the page behind a helpdesk reset's
// mailed link speaks the person's language, as the mail did, and so do
// its refusals.
func TestHelpdeskLinkInTheMailsLanguage(t *testing.T) {
	ra := newRealApp(t)
	admin := ra.adminOf(t, "hr@osaw.nl")
	acc := ra.onboard(t, auth.InviteInput{Email: "jan@example.nl", Language: "en"}, false)
	var u db.User
	if err := ra.d.NewSelect().Model(&u).Where("email = ?", acc.email).Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, link := ra.startHelpdesk(t, admin, &u)
	p := ra.browser(t)
	resp, page := p.get(link, "Accept-Language", "nl")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page, `<html lang="en"`)
	resp, page = p.post(link, url.Values{"password": {testPassword}, "code": {"0000 0000"}}, "Accept-Language", "nl", "HX-Request", "true")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantNotContains(t, page, "Het wachtwoord of de code klopt niet.")
}
