package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestFirstAdminLink: the link printed at the first start asks for the first
// admin's mail address (a plain form that keeps what was typed after a
// mistake); the chosen address is invited and the browser goes straight on
// to its sign-up page and through it. The link then no longer works.
func TestFirstAdminLink(t *testing.T) {
	ra := newRealApp(t)
	if !strings.HasPrefix(ra.setupLink, "/eerste-beheerder/") {
		t.Fatalf("setup link %q", ra.setupLink)
	}
	b := ra.browser(t)
	resp, page := b.get(ra.setupLink)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page, "<h1>Eerste beheerder kiezen</h1>", "Dialoog is klaar voor OSAW.",
		`<form method="post" action="`+ra.setupLink+`"`, `<label for="setup-email">Mailadres van de beheerder</label>`, ">VERDER</button>")

	resp, page = b.post(ra.setupLink, url.Values{"email": {"ik@voorbeeld"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, "Vul een geldig mailadres in", `value="ik@voorbeeld"`, `aria-invalid="true"`)

	resp, _ = b.post(ra.setupLink, url.Values{"email": {"ik@voorbeeld.nl"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/aanmelden/") {
		t.Fatalf("after choosing: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if m := ra.lastMail(t, "ik@voorbeeld.nl"); !strings.Contains(m.Text, resp.Header.Get("Location")) {
		t.Fatalf("invitation mail lacks the link:\n%s", m.Text)
	}
	_, page = b.follow(resp)
	wantContains(t, page, "ik@voorbeeld.nl", ">AANMELDEN</button>")
	resp, _ = b.post(resp.Header.Get("Location"), nil)
	wantRedirect(t, resp, pathTerms)
	if u := ra.userByEmail(t, "ik@voorbeeld.nl"); !u.IsAdmin || u.OrgID == nil || *u.OrgID != ra.org.ID {
		t.Fatalf("first admin: %+v", u)
	}

	// Used: another browser gets a 404 that says what to do instead.
	other := ra.browser(t)
	resp, page = other.get(ra.setupLink)
	wantStatus(t, resp, http.StatusNotFound)
	wantContains(t, page, "dialoog invite --email naam@voorbeeld.nl --admin")
	resp, _ = other.post(ra.setupLink, url.Values{"email": {"ander@voorbeeld.nl"}})
	wantStatus(t, resp, http.StatusNotFound)
}

// The first admin's setup link is a secret like a sign-up link: the access
// log names its path without the token.
func TestAccessLogHidesSetupToken(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		token := strings.TrimPrefix(ra.setupLink, "/eerste-beheerder/")
		if token == "" || token == ra.setupLink {
			t.Fatalf("setup link %q", ra.setupLink)
		}
		b := ra.browser(t)
		resp, _ := b.get(ra.setupLink)
		wantStatus(t, resp, http.StatusOK)
		b.post(ra.setupLink, url.Values{"email": {"ik@voorbeeld"}})
		logs := ra.logs.String()
		wantNotContains(t, logs, token)
		wantContains(t, logs, `path=/eerste-beheerder/:token status=200`, `path=/eerste-beheerder/:token status=422`)
	})
}
