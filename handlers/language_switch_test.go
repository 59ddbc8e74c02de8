package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"dialoog/auth"
	"dialoog/db"
)

// TestLanguageSwitchSignedOut: every page's footer has the switch; it is a
// plain form (CSRF, no script needed) that remembers the choice in a cookie
// and goes back to the page it was on. The cookie wins over the browser's
// Accept-Language.
func TestLanguageSwitchSignedOut(t *testing.T) {
	ta := newTestApp(t)
	b := ta.browser(t)
	resp, page := b.get("/inloggen?x=1", "Accept-Language", "nl")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page, `<html lang="nl">`,
		`<form class="language-switch" method="post" action="/taal" aria-label="Taal">`,
		`<input type="hidden" name="terug" value="/inloggen?x=1">`,
		`<button class="language-switch__option" type="submit" name="taal" value="en" lang="en">English</button>`,
		`<span class="language-switch__current" lang="nl" aria-current="true">Nederlands</span>`)

	// Without the token nothing happens.
	resp, _ = b.do(http.MethodPost, "/taal", url.Values{"taal": {"en"}, "terug": {"/inloggen"}})
	wantStatus(t, resp, http.StatusForbidden)
	if b.cookies[languageCookie] != nil {
		t.Fatal("language cookie set without the CSRF token")
	}

	resp, _ = b.post("/taal", url.Values{"taal": {"en"}, "terug": {"/inloggen?x=1"}}, "Accept-Language", "nl")
	wantRedirect(t, resp, "/inloggen?x=1")
	c := cookieNamed(resp, languageCookie)
	if c == nil || c.Value != "en" || c.Path != "/" || c.SameSite != http.SameSiteLaxMode || c.Secure || c.MaxAge < 300*24*3600 {
		t.Fatalf("language cookie %+v", c)
	}
	resp, page = b.get("/inloggen", "Accept-Language", "nl")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page, `<html lang="en">`, ">Log in</h1>",
		`<button class="language-switch__option" type="submit" name="taal" value="nl" lang="nl">Nederlands</button>`)
	if got := resp.Header.Get("Content-Language"); got != "en" {
		t.Errorf("Content-Language %q", got)
	}
	// An error page too, also one answered before the language was
	// chosen (a file of /static/ that does not exist).
	_, page = b.get("/bestaat-niet", "Accept-Language", "nl")
	wantContains(t, page, `<html lang="en">`)
	resp, page = b.get("/static/bestaat-niet.css", "Accept-Language", "nl")
	wantStatus(t, resp, http.StatusNotFound)
	wantContains(t, page, `<html lang="en">`)

	// A language Dialoog does not have is refused with a message; a cookie
	// with one is ignored.
	resp, page = b.post("/taal", url.Values{"taal": {"de"}, "terug": {"/"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, "Choose Nederlands or English.")
	b.cookies[languageCookie] = &http.Cookie{Name: languageCookie, Value: "de"}
	_, page = b.get("/inloggen", "Accept-Language", "nl")
	wantContains(t, page, `<html lang="nl">`)
}

// TestLanguageSwitchReturnsOnlyHere: the way back is a path of this site;
// anything else goes to the start page, so the switch cannot send people
// elsewhere.
func TestLanguageSwitchReturnsOnlyHere(t *testing.T) {
	ta := newTestApp(t)
	b := ta.browser(t)
	for back, want := range map[string]string{
		"/berichten/5?pagina=2":         "/berichten/5?pagina=2",
		"":                              "/",
		"https://evil.test/":            "/",
		"//evil.test/x":                 "/",
		"/\\evil.test":                  "/",
		"\\\\evil.test":                 "/",
		"javascript:alert(1)":           "/",
		"berichten":                     "/",
		"/x\r\nSet-Cookie: a=b":         "/",
		"/%2F%2Fevil.test":              "/%2F%2Fevil.test",
		"/\tevil":                       "/",
		"/" + strings.Repeat("a", 3000): "/",
	} {
		resp, _ := b.post("/taal", url.Values{"taal": {"en"}, "terug": {back}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
			t.Errorf("back to %q: %d to %q, want %q", back, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
}

// TestLanguageSwitchSignedIn: signed in, the switch also changes the
// account's language (audited), which then wins over the cookie and the
// browser on every device.
func TestLanguageSwitchSignedIn(t *testing.T) {
	ra := newRealApp(t)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	_, page := hr.b.get("/berichten", "Accept-Language", "en")
	wantContains(t, page, `<html lang="nl">`, `name="terug" value="/berichten"`)

	resp, _ := hr.b.post("/taal", url.Values{"taal": {"en"}, "terug": {"/berichten"}})
	wantRedirect(t, resp, "/berichten")
	u := ra.userByEmail(t, hr.u.Email)
	if u.Language != "en" {
		t.Fatalf("account language %q, want en", u.Language)
	}
	n, err := ra.d.NewSelect().Model((*db.AuditEvent)(nil)).Where("user_id = ? AND kind = ?", u.ID, "language.changed").Count(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("%d audit rows (%v)", n, err)
	}
	_, page = hr.b.get("/berichten", "Accept-Language", "nl")
	wantContains(t, page, `<html lang="en">`, "Messages")

	// Another browser of the same person, with a Dutch cookie: the
	// account's setting wins once signed in.
	phone := ra.signIn(t, hr.u)
	phone.cookies[languageCookie] = &http.Cookie{Name: languageCookie, Value: "nl"}
	_, page = phone.get("/berichten", "Accept-Language", "nl")
	wantContains(t, page, `<html lang="en">`)
}

// TestLanguageSwitchDuringFirstVisit: someone invited in Dutch switches to
// English on the invitation page (signed out: the cookie wins over the
// invitation's language); pressing AANMELDEN makes that choice the
// account's language, so the steps after it, and their texts and mails,
// are English too. At a step (signed in) the switch stores the language.
func TestLanguageSwitchDuringFirstVisit(t *testing.T) {
	ra := newRealApp(t)
	link := ra.invite(t, auth.InviteInput{Email: "nieuw@example.nl", Language: "nl"})
	b := ra.browser(t)
	_, page := b.get(link)
	wantContains(t, page, `<html lang="nl">`)
	resp, _ := b.post("/taal", url.Values{"taal": {"en"}, "terug": {link}})
	wantRedirect(t, resp, link)
	_, page = b.get(link)
	wantContains(t, page, `<html lang="en">`)

	resp, _ = b.post(link, nil)
	wantRedirect(t, resp, pathTerms)
	_, page = b.get(pathTerms)
	wantContains(t, page, `<html lang="en">`)
	u := ra.userByEmail(t, "nieuw@example.nl")
	if u.Language != "en" {
		t.Fatalf("account language %q after signing up in English, want en", u.Language)
	}
	n, err := ra.d.NewSelect().Model((*db.AuditEvent)(nil)).Where("user_id = ? AND kind = ?", u.ID, "language.changed").Count(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("%d language audit rows (%v)", n, err)
	}

	resp, _ = b.post("/taal", url.Values{"taal": {"nl"}, "terug": {pathTerms}})
	wantRedirect(t, resp, pathTerms)
	if u := ra.userByEmail(t, "nieuw@example.nl"); u.Language != "nl" {
		t.Fatalf("account language %q, want nl", u.Language)
	}
	_, page = b.get(pathTerms)
	wantContains(t, page, `<html lang="nl">`)

	// Without a choice in the browser the invitation's language stays,
	// whatever the browser asks for.
	other := ra.invite(t, auth.InviteInput{Email: "ander@example.nl", Language: "nl"})
	b2 := ra.browser(t)
	resp, _ = b2.post(other, nil, "Accept-Language", "en")
	wantRedirect(t, resp, pathTerms)
	if u := ra.userByEmail(t, "ander@example.nl"); u.Language != "nl" {
		t.Fatalf("account language %q without a choice, want nl", u.Language)
	}
}

// TestLanguageSwitchBeforeSecondFactor: a session that passed the password
// but not yet the second factor is not the person yet: the switch only sets
// the cookie, which that page then follows.
func TestLanguageSwitchBeforeSecondFactor(t *testing.T) {
	ra := newRealApp(t)
	ra.onboard(t, auth.InviteInput{Email: "jan@example.nl", Language: "nl"}, false)
	b := ra.login(t, "jan@example.nl")
	_, page := b.get(pathLoginFactor, "Accept-Language", "en")
	wantContains(t, page, `<html lang="nl">`)
	resp, _ := b.post("/taal", url.Values{"taal": {"en"}, "terug": {pathLoginFactor}})
	wantRedirect(t, resp, pathLoginFactor)
	if u := ra.userByEmail(t, "jan@example.nl"); u.Language != "nl" {
		t.Fatalf("account language %q changed before the second factor", u.Language)
	}
	_, page = b.get(pathLoginFactor)
	wantContains(t, page, `<html lang="en">`)
}

// TestLanguageKeptAfterSignOut: a person whose account is in English, in
// a browser that asks for Dutch and never used the footer's switch, keeps
// English on the pages after logging out and after the session expired:
// the browser remembers the account's language once signed in.
func TestLanguageKeptAfterSignOut(t *testing.T) {
	ra := newRealApp(t)
	jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "en")
	_, page := jan.b.get(pathInbox, "Accept-Language", "nl")
	wantContains(t, page, `<html lang="en">`)
	resp, _ := jan.b.post("/uitloggen", nil, "Accept-Language", "nl")
	wantRedirect(t, resp, pathLogin)
	_, page = jan.b.follow(resp, "Accept-Language", "nl")
	wantContains(t, page, `<html lang="en">`, ">Log in</h1>")

	// The language chosen in Mijn account, in a browser whose switch
	// said Dutch before: the page after the session ended is English.
	piet := ra.person(t, "piet@example.nl", false, "Piet", "", "Pietersen", "nl")
	piet.b.cookies[languageCookie] = &http.Cookie{Name: languageCookie, Value: "nl"}
	resp, _ = piet.b.post(pathSettingsLanguage, url.Values{"language": {"en"}}, "Accept-Language", "nl")
	wantRedirect(t, resp, pathAccount+"?melding=taal")
	ra.clk.Add(31 * time.Minute) // idle: the session has ended
	resp, _ = piet.b.get(pathInbox, "Accept-Language", "nl")
	wantRedirect(t, resp, pathLogin)
	_, page = piet.b.follow(resp, "Accept-Language", "nl")
	wantContains(t, page, `<html lang="en">`, ">Log in</h1>")
}

// TestLoginIntoAnotherLanguageLoadsAWholePage: a login through htmx swaps
// only the main content, so when the account's language is not the one
// the login pages spoke (another browser, asking for Dutch), the next
// page comes whole (HX-Redirect): its <html lang>, skip link, header and
// footer in the account's language too, not the login page's.
func TestLoginIntoAnotherLanguageLoadsAWholePage(t *testing.T) {
	ra := newRealApp(t)
	ra.onboard(t, auth.InviteInput{Email: "jan@example.nl", Language: "en"}, false)
	b := ra.login(t, "jan@example.nl")
	b.cookies[languageCookie] = &http.Cookie{Name: languageCookie, Value: "nl"}
	_, page := b.get(pathLoginFactor, "Accept-Language", "nl")
	wantContains(t, page, `<html lang="nl">`)
	resp, _ := b.post(pathLoginFactor+"/sms", nil)
	wantRedirect(t, resp, pathLoginFactor)
	resp, _ = b.post(pathLoginFactor, url.Values{"kind": {"sms"}, "code": {ra.lastSMSCode(t, testPhone)}}, "HX-Request", "true", "Accept-Language", "nl")
	wantStatus(t, resp, http.StatusOK)
	if got := resp.Header.Get("HX-Redirect"); got != pathInbox {
		t.Fatalf("HX-Redirect %q, want %q", got, pathInbox)
	}
	_, page = b.get(pathInbox, "Accept-Language", "nl")
	wantContains(t, page, `<html lang="en">`)

	// In the language the login spoke, the next page is swapped in as
	// any other.
	ra.onboard(t, auth.InviteInput{Email: "piet@example.nl", Language: "nl"}, false)
	p := ra.login(t, "piet@example.nl")
	resp, _ = p.post(pathLoginFactor+"/sms", nil)
	wantRedirect(t, resp, pathLoginFactor)
	resp, _ = p.post(pathLoginFactor, url.Values{"kind": {"sms"}, "code": {ra.lastSMSCode(t, testPhone)}}, "HX-Request", "true", "Accept-Language", "nl")
	wantRedirect(t, resp, pathInbox)
}
