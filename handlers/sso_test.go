package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/oidctest"
)

const (
	testSSOClient = "dialoog"
	testSSOSecret = "secret-of-dialoog"
)

// newSSOApp wires the real app with single sign-on over a provider
// started by the test, set for ra.org (osaw.example, first logins
// create the user).
func newSSOApp(t *testing.T) (*realApp, *oidctest.Provider) {
	t.Helper()
	op := oidctest.Start(t, testSSOClient, testSSOSecret, testBase+auth.PathSSOCallback)
	op.AddUser("sub-anna", "anna", "anna@osaw.example", true, "Anna", "de Boer")
	var sso *auth.SSO
	ra := newRealAppOn(t, dbtest.MustOpenSQLite(t), func(d *Deps) {
		sso = &auth.SSO{Accounts: d.Accounts.(*auth.Accounts), RedirectURL: testBase + auth.PathSSOCallback}
		d.SSO = sso
	})
	if err := sso.SaveForOrg(context.Background(), ra.org.ID, auth.SSOInput{Issuer: op.Issuer, ClientID: testSSOClient,
		ClientSecret: testSSOSecret, Domains: "osaw.example", CreateUsers: true}); err != nil {
		t.Fatal(err)
	}
	return ra, op
}

// annaViaSSO is an app with an organisation's provider and Anna's browser,
// logged in through the provider and past the terms of use.
func annaViaSSO(t *testing.T) (*realApp, *oidctest.Provider, *browser) {
	t.Helper()
	ra, op := newSSOApp(t)
	b := ra.browser(t)
	resp, _ := ssoLogin(t, b, op, "anna@osaw.example", "anna")
	wantRedirect(t, resp, pathTerms)
	acceptTerms(t, b, pathInbox)
	return ra, op, b
}

// ssoLogin goes from Dialoog's login page through the provider and back,
// as htmx does, and returns Dialoog's answer to the return.
func ssoLogin(t *testing.T, b *browser, op *oidctest.Provider, typed, username string) (*http.Response, string) {
	t.Helper()
	resp, body := b.post(pathSSOBegin, url.Values{"email": {typed}}, "HX-Request", "true")
	wantStatus(t, resp, http.StatusOK)
	to := resp.Header.Get("HX-Redirect")
	if !strings.HasPrefix(to, op.Issuer) {
		t.Fatalf("HX-Redirect %q, body %s", to, body)
	}
	back, err := op.LogIn(context.Background(), to, username)
	if err != nil {
		t.Fatal(err)
	}
	return b.get(strings.TrimPrefix(back, testBase))
}

func TestSSOLoginPage(t *testing.T) {
	ra, op := newSSOApp(t)
	b := ra.browser(t)
	resp, body := b.get(pathLogin)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Inloggen met je organisatie", `action="/inloggen/organisatie"`)

	// A domain without single sign-on: the block says so, with what was typed.
	resp, body = b.post(pathSSOBegin, url.Values{"email": {"jan@elders.example"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Voor dit e-mailadres kun je niet inloggen via een organisatie", `value="jan@elders.example"`)

	// Without script the browser gets a link to the provider (the form
	// may only post to Dialoog), and the state cookie.
	resp, body = b.post(pathSSOBegin, url.Values{"email": {"osaw.example"}})
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, `id="sso-continue"`, op.Issuer)
	if c := cookieNamed(resp, ssoCookie); c == nil || !c.HttpOnly || c.Value == "" {
		t.Fatalf("state cookie %+v", c)
	}

	// First login: the user is created and goes on to the terms.
	resp, _ = ssoLogin(t, b, op, "anna@osaw.example", "anna")
	wantRedirect(t, resp, pathTerms)
	resp, body = b.get(pathTerms)
	wantStatus(t, resp, http.StatusOK)
	acceptTerms(t, b, pathInbox)

	// Another browser cannot use a return meant for this one.
	other := ra.browser(t)
	resp, body = b.post(pathSSOBegin, url.Values{"email": {"anna@osaw.example"}}, "HX-Request", "true")
	back, err := op.LogIn(context.Background(), resp.Header.Get("HX-Redirect"), "anna")
	if err != nil {
		t.Fatal(err)
	}
	resp, body = other.get(strings.TrimPrefix(back, testBase))
	wantStatus(t, resp, http.StatusUnauthorized)
	wantContains(t, body, "Deze inlogpoging is verlopen of al gebruikt")
	if other.session() != "" {
		t.Fatal("the other browser got a session")
	}
}

func TestSSOBackChannelLogout(t *testing.T) {
	ra, op, b := annaViaSSO(t)
	resp, _ := b.get(pathInbox)
	wantStatus(t, resp, http.StatusOK)

	// The provider posts without cookies or CSRF token.
	provider := ra.browser(t)
	target := auth.PathSSOBackChannel + itoa(ra.org.ID)
	resp, _ = provider.do(http.MethodPost, target, url.Values{"logout_token": {"not-a-token"}})
	wantStatus(t, resp, http.StatusBadRequest)
	resp, _ = provider.do(http.MethodPost, auth.PathSSOBackChannel+"999", url.Values{"logout_token": {op.LogoutToken(testSSOClient, "sub-anna", "")}})
	wantStatus(t, resp, http.StatusBadRequest)
	resp, _ = b.get(pathInbox)
	wantStatus(t, resp, http.StatusOK)
	resp, _ = provider.do(http.MethodPost, target, url.Values{"logout_token": {op.LogoutToken(testSSOClient, "sub-anna", "")}})
	wantStatus(t, resp, http.StatusOK)
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Fatalf("Cache-Control %q", cc)
	}
	resp, _ = b.get(pathInbox)
	wantRedirect(t, resp, pathLogin)
}

func TestAdminSSO(t *testing.T) {
	ra, op := newSSOApp(t)
	member := ra.person(t, "lid@osaw.nl", true, "Lid", "", "Jansen", "nl")
	for _, r := range []struct{ method, path string }{{"GET", pathAdminSSO}, {"POST", pathAdminSSO}, {"POST", pathAdminSSO + "/uit"}} {
		var resp *http.Response
		if r.method == "GET" {
			resp, _ = member.b.get(r.path)
		} else {
			resp, _ = member.b.post(r.path, url.Values{"issuer": {"https://evil.example"}, "client_id": {"x"}, "client_secret": {"y"}, "domains": {"evil.example"}})
		}
		wantStatus(t, resp, http.StatusNotFound)
	}
	admin := ra.adminOf(t, "beheer@osaw.nl")
	resp, body := admin.b.get(pathAdminSSO)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, op.Issuer, testBase+auth.PathSSOCallback, testBase+auth.PathSSOBackChannel+itoa(ra.org.ID))
	wantNotContains(t, body, testSSOSecret)

	// Refused input comes back with the messages; the secret is kept when
	// left empty.
	resp, body = admin.b.post(pathAdminSSO, url.Values{"issuer": {"http://idp.example"}, "client_id": {testSSOClient}, "domains": {"osaw.example"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Het adres moet met https:// beginnen.")
	resp, _ = admin.b.post(pathAdminSSO, url.Values{"issuer": {op.Issuer}, "client_id": {testSSOClient}, "domains": {"osaw.example zorg.example"}, "create_users": {"1"}})
	wantRedirect(t, resp, pathAdminSSO+"?melding=opgeslagen")
	n, err := ra.d.NewSelect().Model((*db.AuditEvent)(nil)).Where("kind = ? AND actor_id = ?", "admin.sso_changed", admin.u.ID).Count(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("audit: %d %v", n, err)
	}
	b := ra.browser(t)
	resp, _ = ssoLogin(t, b, op, "zorg.example", "anna")
	wantRedirect(t, resp, pathTerms)
	resp, body = admin.b.get("/beheer/gebruikers?zoek=anna@osaw.example")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "anna@osaw.example", "via de organisatie")

	// Without the CSRF token nothing changes.
	resp, _ = admin.b.do(http.MethodPost, pathAdminSSO+"/uit", url.Values{})
	wantStatus(t, resp, http.StatusForbidden)
	resp, _ = admin.b.post(pathAdminSSO+"/uit", nil)
	wantRedirect(t, resp, pathAdminSSO+"?melding=uit")
	resp, _ = b.post(pathSSOBegin, url.Values{"email": {"osaw.example"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
}

// TestSSOLocalLogout: logging out of a session opened through the
// provider is audited and, with script, goes on to the provider's
// end_session_endpoint; a password session's logout does not.
func TestSSOLocalLogout(t *testing.T) {
	ra, op, b := annaViaSSO(t)
	resp, _ := b.post("/uitloggen", nil, "HX-Request", "true")
	to := resp.Header.Get("HX-Redirect")
	if !strings.HasPrefix(to, op.Issuer) || !strings.Contains(to, "client_id="+testSSOClient) ||
		!strings.Contains(to, url.QueryEscape(testBase+pathLogin)) {
		t.Fatalf("logout went to %q", to)
	}
	resp, _ = b.get(pathInbox)
	wantRedirect(t, resp, pathLogin)
	n, err := ra.d.NewSelect().Model((*db.AuditEvent)(nil)).Where("kind = ? AND detail = ?", "sso.logout", "local").Count(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("audit: %d %v", n, err)
	}
	p := ra.person(t, "lid@osaw.nl", true, "Lid", "", "Jansen", "nl")
	resp, _ = p.b.post("/uitloggen", nil, "HX-Request", "true")
	if resp.Header.Get("HX-Redirect") != "" {
		t.Fatalf("password session's logout went to %q", resp.Header.Get("HX-Redirect"))
	}
}

// TestSSOReauth: the confirm forms offer "Bevestigen via je organisatie"
// to a person linked to the provider (instead of the password they do not
// have) and not to others; the round trip through the provider confirms
// the session and comes back to the page, which then proceeds.
func TestSSOReauth(t *testing.T) {
	ra, op, b := annaViaSSO(t)

	resp, body := b.get(pathFactors)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Bevestigen via je organisatie", `action="`+pathConfirmSSO+`"`, `name="next" value="`+pathFactors+`"`)
	wantNotContains(t, body, `id="confirm-password"`)
	resp, body = b.get(pathAccount)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Bevestigen via je organisatie", `name="next" value="`+pathAccount+`"`)
	wantNotContains(t, body, `id="stop-password"`)

	// Others see the password, not the organisation.
	p := ra.person(t, "lid@osaw.nl", true, "Lid", "", "Jansen", "nl")
	resp, body = p.b.get(pathFactors)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, `id="confirm-password"`)
	wantNotContains(t, body, "Bevestigen via je organisatie", pathConfirmSSO)
	resp, body = p.b.get(pathAccount)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, `id="stop-password"`)
	wantNotContains(t, body, "Bevestigen via je organisatie")
	// ...and posting it anyway says why it does not work.
	resp, body = p.b.post(pathConfirmSSO, url.Values{"next": {pathFactors}})
	wantStatus(t, resp, http.StatusConflict)
	wantContains(t, body, "niet via je organisatie ingelogd")

	// A linked person who also has a password gets both.
	setHash := func(h string) {
		if _, err := ra.d.NewUpdate().Model((*db.User)(nil)).Set("password_hash = ?", h).Where("email = ?", "anna@osaw.example").
			Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	setHash("not-a-real-hash")
	resp, body = b.get(pathFactors)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Bevestigen via je organisatie", `id="confirm-password"`)
	resp, body = b.get(pathAccount)
	wantContains(t, body, "Bevestigen via je organisatie", `id="stop-password"`)
	setHash("")

	// Stopping without a confirmation is refused with the reason.
	resp, body = b.post(pathAccountStop, url.Values{"confirm": {"yes"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Bevestig eerst via je organisatie")

	// The page to return to is one of a fixed set.
	resp, _ = b.post(pathConfirmSSO, url.Values{"next": {"https://evil.example/"}}, "HX-Request", "true")
	wantStatus(t, resp, http.StatusOK)
	if c := cookieNamed(resp, ssoReauthCookie); c == nil || !c.HttpOnly || !strings.HasSuffix(c.Value, "~"+pathFactors) {
		t.Fatalf("confirmation cookie %+v", c)
	}

	// Without script the browser gets a link to the provider; a person
	// who cancels there comes back to the page with a message.
	resp, body = b.post(pathConfirmSSO, url.Values{"next": {pathFactors}})
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, `id="sso-continue"`, op.Issuer, "prompt=login")
	c := cookieNamed(resp, ssoReauthCookie)
	if c == nil {
		t.Fatal("no confirmation cookie")
	}
	state, _, _ := strings.Cut(c.Value, "~")
	resp, body = b.get(auth.PathSSOCallback + "?error=access_denied&state=" + url.QueryEscape(state))
	wantStatus(t, resp, http.StatusUnauthorized)
	wantContains(t, body, "Tweede stap beheren", "Bevestigen bij je organisatie is niet gelukt of afgebroken")

	// A provider login that is not fresh is refused on the page that asked.
	op.Tamper(func(claims map[string]any) string {
		claims["auth_time"] = ra.clk.Now().Add(-time.Hour).Unix()
		return "RS256"
	})
	resp, _ = b.post(pathConfirmSSO, url.Values{"next": {pathFactors}}, "HX-Request", "true")
	back, err := op.LogIn(context.Background(), resp.Header.Get("HX-Redirect"), "anna")
	if err != nil {
		t.Fatal(err)
	}
	resp, body = b.get(strings.TrimPrefix(back, testBase))
	wantStatus(t, resp, http.StatusUnauthorized)
	wantContains(t, body, "Tweede stap beheren", "niet zojuist opnieuw laten inloggen")

	// The round trip: a fresh login at the provider, back to the account
	// page, which now asks only for the tick. The provider's login time
	// is on this test's clock (its tokens carry the real time).
	op.Tamper(func(claims map[string]any) string {
		claims["auth_time"] = ra.clk.Now().Unix()
		return "RS256"
	})
	resp, body = b.post(pathConfirmSSO, url.Values{"next": {pathAccount}}, "HX-Request", "true")
	wantStatus(t, resp, http.StatusOK)
	to := resp.Header.Get("HX-Redirect")
	if !strings.HasPrefix(to, op.Issuer) || !strings.Contains(to, "prompt=login") || !strings.Contains(to, "max_age=0") {
		t.Fatalf("HX-Redirect %q, body %s", to, body)
	}
	back, err = op.LogIn(context.Background(), to, "anna")
	if err != nil {
		t.Fatal(err)
	}
	// Another browser cannot finish it.
	other := ra.browser(t)
	resp, _ = other.get(strings.TrimPrefix(back, testBase))
	wantStatus(t, resp, http.StatusUnauthorized)
	resp, _ = b.get(strings.TrimPrefix(back, testBase))
	wantRedirect(t, resp, pathAccount+"?melding=bevestigd")
	resp, body = b.get(pathAccount + "?melding=bevestigd")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Bevestigd dat jij het bent", "Je hebt zojuist bevestigd")
	wantNotContains(t, body, `id="stop-password"`, `action="`+pathConfirmSSO+`"`)
	n, err := ra.d.NewSelect().Model((*db.AuditEvent)(nil)).Where("kind = ? AND detail = ?", "reauth.ok", "sso").Count(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("audit: %d %v", n, err)
	}
	// The return is used once.
	resp, _ = b.get(strings.TrimPrefix(back, testBase))
	wantStatus(t, resp, http.StatusUnauthorized)
	// Stoppen still needs its tick box.
	resp, body = b.post(pathAccountStop, nil)
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Vink aan dat je begrijpt")
	resp, _ = b.post(pathAccountStop, url.Values{"confirm": {"yes"}})
	wantRedirect(t, resp, pathAfterAccountGone)
}

// TestSSOPasswordAtOrganisation: a person who logs in through their
// organisation and has no Dialoog password is told on "Mijn account" that
// their password is changed there, gets no form asking for a current
// password they do not have, and a change posted anyway is refused with
// the reason. Someone with a Dialoog password keeps the form.
func TestSSOPasswordAtOrganisation(t *testing.T) {
	ra, _, b := annaViaSSO(t)

	resp, body := b.get(pathAccount)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "Wachtwoord wijzigen", "Je logt in via je organisatie. Je wachtwoord wijzig je daar.")
	wantNotContains(t, body, `id="change-current"`, `action="`+pathAccountPassword+`"`)
	resp, body = b.post(pathAccountPassword, url.Values{"current_password": {"iets"}, "password": {"Lange zin voor een wachtwoord 7"}, "confirm": {"Lange zin voor een wachtwoord 7"}})
	wantStatus(t, resp, http.StatusConflict)
	wantContains(t, body, "Je logt in via je organisatie. Je wachtwoord wijzig je daar.")

	p := ra.person(t, "lid@osaw.nl", true, "Lid", "", "Jansen", "nl")
	resp, body = p.b.get(pathAccount)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, `id="change-current"`)
	wantNotContains(t, body, "Je wachtwoord wijzig je daar")
}

// TestSSOUserPasswordLogin: a person who logs in through their
// organisation and still has a Dialoog password from before is told on
// the login form to use the organisation's login, with the address kept.
func TestSSOUserPasswordLogin(t *testing.T) {
	ra, _, _ := annaViaSSO(t)
	h, err := auth.HashPassword(context.Background(), testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ra.d.NewUpdate().Model((*db.User)(nil)).Set("password_hash = ?", h).Where("email = ?", "anna@osaw.example").
		Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	resp, body := ra.browser(t).post(pathLogin, url.Values{"email": {"anna@osaw.example"}, "password": {testPassword}})
	wantStatus(t, resp, http.StatusConflict)
	wantContains(t, body, "Je account logt in via je organisatie.", `value="anna@osaw.example"`, "Inloggen met je organisatie")
}

// TestAdminSSOLongDomainList, on both engines: a list of 50 long mail
// domains, which the rules allow, is stored whole: the form's bound cut
// it at 4,000 bytes, stored the first 40 or so and a cut-off one, and
// said nothing. A list past what any valid one can be is refused beside
// its field with the other fields as typed, and nothing is stored.
func TestAdminSSOLongDomainList(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d, func(deps *Deps) {
			deps.SSO = &auth.SSO{Accounts: deps.Accounts.(*auth.Accounts), RedirectURL: testBase + auth.PathSSOCallback}
		})
		admin := ra.adminOf(t, "beheer@osaw.nl")
		var domains []string
		for i := range 50 {
			domains = append(domains, fmt.Sprintf("%s.afdeling-%02d.example.nl", strings.Repeat("a", 60), i))
		}
		form := url.Values{"issuer": {"https://idp.example.com"}, "client_id": {"dialoog"}, "client_secret": {"geheim"},
			"domains": {strings.Join(domains, ", ")}}
		resp, _ := admin.b.post(pathAdminSSO, form)
		wantRedirect(t, resp, pathAdminSSO+"?melding=opgeslagen")
		var stored []string
		if err := d.NewSelect().Table("sso_domains").Column("domain").Order("domain").Scan(t.Context(), &stored); err != nil {
			t.Fatal(err)
		}
		if strings.Join(stored, " ") != strings.Join(domains, " ") {
			t.Fatalf("stored %d domains, want the 50 typed:\n%v", len(stored), stored)
		}

		form.Set("domains", strings.Repeat("osaw.nl ", 4<<10))
		form.Set("client_id", "ander")
		for _, hx := range [][]string{nil, {"HX-Request", "true"}} {
			resp, page := admin.b.post(pathAdminSSO, form, hx...)
			wantStatus(t, resp, http.StatusUnprocessableEntity)
			wantContains(t, page, `id="sso-domains-error"`, `value="ander"`, `value="https://idp.example.com"`)
			wantNotContains(t, page, "geheim")
		}
		if n, err := d.NewSelect().Table("sso_domains").Count(t.Context()); err != nil || n != 50 {
			t.Fatalf("%d domains after the refused list, want the 50 stored before", n)
		}
	})
}
