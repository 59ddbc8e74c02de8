package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	fws "github.com/fasthttp/websocket"

	"dialoog/auth"
)

// fullLogin logs email in with the password and a text code to phone in a
// fresh browser.
func (ra *realApp) fullLogin(t *testing.T, email, password, phone string) *browser {
	t.Helper()
	b := ra.browser(t)
	resp, _ := b.post(pathLogin, url.Values{"email": {email}, "password": {password}})
	wantRedirect(t, resp, pathLoginFactor)
	resp, _ = b.post(pathLoginFactor+"/sms", nil)
	wantRedirect(t, resp, pathLoginFactor)
	resp, _ = b.post(pathLoginFactor, url.Values{"kind": {"sms"}, "code": {ra.lastSMSCode(t, phone)}})
	wantRedirect(t, resp, pathInbox)
	return b
}

// wantSocketClosed waits for the server to close conn with 1008.
func wantSocketClosed(t *testing.T, conn *fws.Conn, what string) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := conn.ReadMessage()
		if err == nil {
			continue
		}
		var ce *fws.CloseError
		if !errors.As(err, &ce) || ce.Code != fws.ClosePolicyViolation {
			t.Fatalf("%s: socket %v, want close 1008", what, err)
		}
		return
	}
}

// wantMailed checks that the newest mail to to has subject, and that it
// is the n-th to them.
func (ra *realApp) wantMailed(t *testing.T, to string, n int, subject string) {
	t.Helper()
	if got := ra.mailCount(t, to); got != n {
		t.Fatalf("%d mails to %s, want %d (the newest %q)", got, to, n, ra.lastMail(t, to).Subject)
	}
	if got := ra.lastMail(t, to).Subject; got != subject {
		t.Fatalf("newest mail %q, want %q", got, subject)
	}
}

// TestPasswordChangePage: "Wachtwoord wijzigen" on the account page asks
// the current password (a wrong one is refused and counted), keeps no
// typed password on a mistake, and after a change the other sessions end
// (an open page loses its socket), this one goes on, the change is in the
// security activity and the person gets a mail.
func TestPasswordChangePage(t *testing.T) {
	la := newLiveApp(t)
	const email = "jan@example.nl"
	acc := la.onboard(t, auth.InviteInput{Email: email}, false)
	u := la.userByEmail(t, email)
	other := la.fullLogin(t, email, testPassword, testPhone)
	conn := la.connect(t, u, other.session())
	mails := la.mailCount(t, email)

	_, page := acc.b.get(pathAccount)
	wantContains(t, page, `action="/account/wachtwoord"`, `name="current_password"`, `autocomplete="new-password"`)

	const newPW = "vier losse woorden als zin"
	resp, page := acc.b.post(pathAccountPassword, url.Values{"current_password": {"geraden"}, "password": {newPW}, "confirm": {newPW}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, "Het wachtwoord klopt niet.", `aria-invalid="true"`)
	wantNotContains(t, page, newPW, "geraden")
	resp, page = acc.b.post(pathAccountPassword, url.Values{"current_password": {testPassword}, "password": {"kort"}, "confirm": {"anders"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, "minimaal 12 tekens")
	wantNotContains(t, page, testPassword)
	resp, page = acc.b.post(pathAccountPassword, url.Values{"current_password": {testPassword}, "password": {newPW}, "confirm": {newPW + "!"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, "De twee wachtwoorden zijn niet gelijk.")
	// A mistake changes nothing.
	resp, _ = other.get(pathInbox)
	wantStatus(t, resp, http.StatusOK)
	if n := la.mailCount(t, email); n != mails {
		t.Fatalf("%d mails after refused changes", n-mails)
	}

	before := acc.b.session()
	resp, _ = acc.b.post(pathAccountPassword, url.Values{"current_password": {testPassword}, "password": {newPW}, "confirm": {newPW}})
	wantRedirect(t, resp, pathAccount+"?melding=wachtwoord")
	if acc.b.session() == before {
		t.Fatal("the session kept its id")
	}
	_, page = acc.b.follow(resp)
	wantContains(t, page, "Je wachtwoord is gewijzigd.")
	wantSocketClosed(t, conn, "other session after a password change")
	resp, _ = other.get(pathInbox)
	wantRedirect(t, resp, pathLogin)
	la.wantMailed(t, email, mails+1, "Je wachtwoord voor Dialoog is gewijzigd")
	_, page = acc.b.get(pathAccountActivity)
	wantContains(t, page, "Wachtwoord gewijzigd")

	b := la.browser(t)
	resp, _ = b.post(pathLogin, url.Values{"email": {email}, "password": {testPassword}})
	wantStatus(t, resp, http.StatusUnauthorized)
	la.fullLogin(t, email, newPW, testPhone)
}

var factorRemoveAction = regexp.MustCompile(`action="(/account/tweede-stap/\d+/verwijderen)"`)

// TestFactorsPage: "Tweede stap beheren" without a recent confirmation
// shows the factors and the confirmation form and refuses every change;
// after it, an app is added (the other session's socket closes), the SMS
// number is removed, the last factor is refused, new recovery codes are
// shown once (the old ones stop working) and a new number is verified.
// Each change is audited and mailed.
func TestFactorsPage(t *testing.T) {
	la := newLiveApp(t)
	const email = "jan@example.nl"
	acc := la.onboard(t, auth.InviteInput{Email: email}, false)
	u := la.userByEmail(t, email)
	b := acc.b
	mails := la.mailCount(t, email)

	_, page := b.get(pathAccount)
	wantContains(t, page, `href="/account/tweede-stap"`)
	resp, page := b.get(pathFactors)
	wantStatus(t, resp, http.StatusOK)
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control %q", cc)
	}
	wantContains(t, page, "<h1>Tweede stap beheren</h1>", "SMS-codes naar", "Toegevoegd", "laatst gebruikt",
		"Bevestig dat jij het bent", `action="/account/bevestigen"`, "Dit is je enige tweede stap.")
	wantNotContains(t, page, `action="/account/tweede-stap/sms"`, `action="/account/tweede-stap/herstelcodes"`, testPhone)

	// Refused without a confirmation, each with the form to give one.
	for _, p := range []string{pathFactorSMS, pathFactorSMS + "/code", pathFactorApp, pathFactorRecovery, pathFactors + "/1/verwijderen"} {
		resp, page = b.post(p, url.Values{"phone": {"0687654321"}, "code": {"123456"}})
		wantStatus(t, resp, http.StatusForbidden)
		wantContains(t, page, "Bevestig eerst dat jij het bent.", `action="/account/bevestigen"`)
	}
	resp, _ = b.get(pathFactorApp)
	wantRedirect(t, resp, pathFactors)
	if n := la.smsCount(t, "+31687654321"); n != 0 {
		t.Fatalf("%d texts without a confirmation", n)
	}

	resp, page = b.post(pathConfirm, url.Values{"next": {pathFactors}, "kind": {"password"}, "password": {"geraden"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, "Het wachtwoord klopt niet.")
	wantNotContains(t, page, "geraden")
	resp, _ = b.post(pathConfirm, url.Values{"next": {"https://example.com/"}, "kind": {"password"}, "password": {testPassword}})
	wantRedirect(t, resp, pathFactors+"?melding=bevestigd")
	_, page = b.follow(resp)
	wantContains(t, page, "Bevestigd.", `action="/account/tweede-stap/sms"`, `href="/account/tweede-stap/app"`, `action="/account/tweede-stap/herstelcodes"`)
	wantNotContains(t, page, "Bevestig dat jij het bent")

	// An app, while another session has the box open.
	other := la.fullLogin(t, email, testPassword, testPhone)
	conn := la.connect(t, u, other.session())
	mails = la.mailCount(t, email) // the other browser's login was mailed
	resp, page = b.get(pathFactorApp)
	wantStatus(t, resp, http.StatusOK)
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("app page Cache-Control %q", cc)
	}
	wantContains(t, page, `hx-history="false"`, `<img src="data:image/png;base64,`)
	secret := appSecret(t, page)
	resp, page = b.post(pathFactorApp, url.Values{"code": {"000000"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, "Deze code klopt niet.", secret)
	added, _ := b.post(pathFactorApp, url.Values{"code": {totp(t, secret, la.clk.Now())}})
	wantRedirect(t, added, pathFactors+"?melding=app")
	wantSocketClosed(t, conn, "other session after a new app")
	resp, _ = other.get(pathInbox)
	wantRedirect(t, resp, pathLogin)
	la.wantMailed(t, email, mails+1, "Er is een tweede stap ingesteld voor je Dialoog-account")
	_, page = b.follow(added)
	wantContains(t, page, "De authenticatie-app is gekoppeld.", "Authenticatie-app", "Andere app koppelen")

	// The SMS number goes; then the app is the last one.
	removes := factorRemoveAction.FindAllStringSubmatch(page, -1)
	if len(removes) != 2 {
		t.Fatalf("%d remove buttons:\n%s", len(removes), page)
	}
	other = la.fullLogin(t, email, testPassword, testPhone)
	mails = la.mailCount(t, email)
	resp, _ = b.post(removes[0][1], nil)
	wantRedirect(t, resp, pathFactors+"?melding=verwijderd")
	resp, _ = other.get(pathInbox)
	wantRedirect(t, resp, pathLogin)
	la.wantMailed(t, email, mails+1, "Er is een tweede stap verwijderd van je Dialoog-account")
	_, page = b.get(pathFactors)
	wantNotContains(t, page, "SMS-codes naar", `/verwijderen"`)
	wantContains(t, page, "Dit is je enige tweede stap.")
	resp, page = b.post(removes[1][1], nil)
	wantStatus(t, resp, http.StatusConflict)
	wantContains(t, page, "Je laatste tweede stap kun je niet verwijderen")

	// New recovery codes, once; the old ones stop working.
	resp, page = b.post(pathFactorRecovery, nil)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page, "Je nieuwe herstelcodes", `hx-history="false"`, "De oude herstelcodes werken niet meer.")
	var codes []string
	for _, m := range recoveryCodeInPage.FindAllStringSubmatch(page, -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != auth.RecoveryCodeCount {
		t.Fatalf("%d new codes on the page", len(codes))
	}
	la.wantMailed(t, email, mails+2, "Er zijn nieuwe herstelcodes gemaakt voor je Dialoog-account")
	_, page = b.get(pathFactors)
	wantNotContains(t, page, codes[0])
	login := la.login(t, email)
	resp, page = login.post(pathLoginFactor, url.Values{"kind": {"recovery"}, "code": {acc.recoveryCodes[0]}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, "Deze code klopt niet.")
	resp, _ = login.post(pathLoginFactor, url.Values{"kind": {"recovery"}, "code": {codes[0]}})
	wantRedirect(t, resp, pathRecoveryUsed)

	// A number again: its code, then it is the SMS factor.
	la.clk.Add(time.Minute)
	resp, page = b.post(pathConfirm, url.Values{"next": {pathFactors}, "kind": {"totp"}, "code": {totp(t, secret, la.clk.Now())}})
	wantRedirect(t, resp, pathFactors+"?melding=bevestigd")
	resp, page = b.post(pathFactorSMS, url.Values{"phone": {"020 123 4567"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, `value="020 123 4567"`)
	resp, _ = b.post(pathFactorSMS, url.Values{"phone": {"06 8765 4321"}})
	wantRedirect(t, resp, pathFactors+"#factors-sms")
	_, page = b.get(pathFactors)
	// Just typed: shown in full to catch a typo.
	wantContains(t, page, "Er is een SMS met een code van 6 cijfers gestuurd naar 06 87 65 43 21.", `action="/account/tweede-stap/sms/code"`)
	resp, page = b.post(pathFactorSMS+"/code", url.Values{"code": {"000000"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, "Deze code klopt niet.")
	resp, _ = b.post(pathFactorSMS+"/code", url.Values{"code": {la.lastSMSCode(t, "+31687654321")}})
	wantRedirect(t, resp, pathFactors+"?melding=sms")
	_, page = b.follow(resp)
	wantContains(t, page, "Je telefoonnummer is bevestigd.", "SMS-codes naar")

	_, page = b.get(pathAccountActivity)
	wantContains(t, page, "Tweede stap toegevoegd", "Tweede stap verwijderd", "Nieuwe herstelcodes gemaakt", "Bevestigd dat jij het bent")
	if strings.Count(page, "Tweede stap toegevoegd") < 2 {
		t.Fatal("the new number is not in the security activity")
	}
}

// TestPhoneChangeEndsSessions: a new number replaces the old one only once
// verified, ends the other sessions and is mailed as a changed number.
func TestPhoneChangeEndsSessions(t *testing.T) {
	ra := newRealApp(t)
	const email = "jan@example.nl"
	acc := ra.onboard(t, auth.InviteInput{Email: email}, false)
	b := acc.b
	resp, _ := b.post(pathConfirm, url.Values{"next": {pathFactors}, "password": {testPassword}})
	wantRedirect(t, resp, pathFactors+"?melding=bevestigd")
	resp, _ = b.post(pathFactorSMS, url.Values{"phone": {"0687654321"}})
	wantRedirect(t, resp, pathFactors+"#factors-sms")
	// Until the new number is verified, the old one logs in.
	other := ra.fullLogin(t, email, testPassword, testPhone)
	mails := ra.mailCount(t, email)
	resp, _ = b.post(pathFactorSMS+"/code", url.Values{"code": {ra.lastSMSCode(t, "+31687654321")}})
	wantRedirect(t, resp, pathFactors+"?melding=sms")
	resp, _ = other.get(pathInbox)
	wantRedirect(t, resp, pathLogin)
	ra.wantMailed(t, email, mails+1, "Het telefoonnummer voor je Dialoog-account is gewijzigd")
	_, page := b.get(pathAccountActivity)
	wantContains(t, page, "Telefoonnummer gewijzigd")
	ra.fullLogin(t, email, testPassword, "+31687654321")
}

// TestNewBrowserLoginMail: a login completed in a browser that never
// logged in to the account is mailed; the next login in that browser, and
// one in the browser of the first visit, are not.
func TestNewBrowserLoginMail(t *testing.T) {
	ra := newRealApp(t)
	const email = "jan@example.nl"
	acc := ra.onboard(t, auth.InviteInput{Email: email}, false)
	mails := ra.mailCount(t, email)
	if ra.lastMail(t, email).Subject == "" || strings.Contains(ra.lastMail(t, email).Subject, "nieuwe browser") {
		t.Fatal("the first visit was mailed as a new browser")
	}

	// The browser of the first visit.
	acc.b.post("/uitloggen", nil)
	relogin := func(b *browser) {
		t.Helper()
		resp, _ := b.post(pathLogin, url.Values{"email": {email}, "password": {testPassword}})
		wantRedirect(t, resp, pathLoginFactor)
		ra.clk.Add(time.Minute)
		resp, _ = b.post(pathLoginFactor+"/sms", nil)
		wantRedirect(t, resp, pathLoginFactor)
		resp, _ = b.post(pathLoginFactor, url.Values{"kind": {"sms"}, "code": {ra.lastSMSCode(t, testPhone)}})
		wantRedirect(t, resp, pathInbox)
	}
	relogin(acc.b)
	if n := ra.mailCount(t, email); n != mails {
		t.Fatalf("login in the first visit's browser mailed (%q)", ra.lastMail(t, email).Subject)
	}

	fresh := ra.fullLogin(t, email, testPassword, testPhone)
	ra.wantMailed(t, email, mails+1, "Er is ingelogd op je Dialoog-account vanaf een nieuwe browser")
	fresh.post("/uitloggen", nil)
	relogin(fresh)
	if n := ra.mailCount(t, email); n != mails+1 {
		t.Fatalf("a second login in the same browser mailed (%q)", ra.lastMail(t, email).Subject)
	}
}

// TestRecoveryLoginMarksTheBrowser: a login completed with a recovery code
// is a completed login like any other: the browser is marked as the
// account's, so the next login in it is not mailed as a new browser (the
// recovery code's own mail already told the person).
func TestRecoveryLoginMarksTheBrowser(t *testing.T) {
	ra := newRealApp(t)
	const email = "jan@example.nl"
	acc := ra.onboard(t, auth.InviteInput{Email: email}, false)
	mails := ra.mailCount(t, email)
	b := ra.login(t, email)
	resp, _ := b.post(pathLoginFactor, url.Values{"kind": {"recovery"}, "code": {acc.recoveryCodes[0]}})
	wantRedirect(t, resp, pathRecoveryUsed)
	ra.wantMailed(t, email, mails+1, "Er is ingelogd met een herstelcode")
	b.post("/uitloggen", nil)
	resp, _ = b.post(pathLogin, url.Values{"email": {email}, "password": {testPassword}})
	wantRedirect(t, resp, pathLoginFactor)
	ra.clk.Add(time.Minute)
	resp, _ = b.post(pathLoginFactor+"/sms", nil)
	wantRedirect(t, resp, pathLoginFactor)
	resp, _ = b.post(pathLoginFactor, url.Values{"kind": {"sms"}, "code": {ra.lastSMSCode(t, testPhone)}})
	wantRedirect(t, resp, pathInbox)
	if n := ra.mailCount(t, email); n != mails+1 {
		t.Fatalf("the login after a recovery code in the same browser mailed (%q)", ra.lastMail(t, email).Subject)
	}
}
