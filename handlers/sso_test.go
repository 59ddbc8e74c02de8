package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

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
	ra, op := newSSOApp(t)
	b := ra.browser(t)
	resp, _ := ssoLogin(t, b, op, "anna@osaw.example", "anna")
	wantRedirect(t, resp, pathTerms)
	acceptTerms(t, b, pathInbox)
	resp, _ = b.get(pathInbox)
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
	ra, op := newSSOApp(t)
	b := ra.browser(t)
	resp, _ := ssoLogin(t, b, op, "anna@osaw.example", "anna")
	wantRedirect(t, resp, pathTerms)
	acceptTerms(t, b, pathInbox)
	resp, _ = b.post("/uitloggen", nil, "HX-Request", "true")
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
