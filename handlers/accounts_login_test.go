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
	"dialoog/db/dbtest"
	"dialoog/notify"
)

func TestLoginPage(t *testing.T) {
	ra := newRealApp(t)
	resp, page := ra.browser(t).get(pathLogin)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page,
		"<h1>Inloggen</h1>", `<form method="post" action="/inloggen"`,
		`<label for="login-email">E-mailadres</label>`, `autocomplete="username"`,
		`<label for="login-password">Wachtwoord</label>`, `autocomplete="current-password"`,
		`<a href="/wachtwoord-vergeten" hx-get="/wachtwoord-vergeten">Wachtwoord vergeten?</a>`,
	)
}

// TestLoginWrongCredentials: a wrong password and an unknown address get the
// same message; a throttled account is told when to try again.
func TestLoginWrongCredentials(t *testing.T) {
	ra := newRealApp(t)
	ra.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, false)
	b := ra.browser(t)
	for _, email := range []string{"jan@example.nl", "niemand@example.nl", "geen adres"} {
		resp, body := b.post(pathLogin, url.Values{"email": {email}, "password": {"verkeerd wachtwoord"}})
		wantStatus(t, resp, http.StatusUnauthorized)
		wantContains(t, body, "Het e-mailadres of wachtwoord is onjuist.", `role="alert"`)
		wantNotContains(t, body, "verkeerd wachtwoord")
		if b.session() != "" {
			t.Fatal("a failed login set a session")
		}
	}
	// Four failures are free, the fifth starts a wait.
	for range 4 {
		b.post(pathLogin, url.Values{"email": {"jan@example.nl"}, "password": {"verkeerd wachtwoord"}})
	}
	resp, body := b.post(pathLogin, url.Values{"email": {"jan@example.nl"}, "password": {testPassword}})
	wantStatus(t, resp, http.StatusTooManyRequests)
	wantContains(t, body, "Te veel pogingen. Probeer het over 1 seconde opnieuw.", `value="jan@example.nl"`)
	ra.clk.Add(2 * time.Second)
	resp, _ = b.post(pathLogin, url.Values{"email": {"jan@example.nl"}, "password": {testPassword}})
	wantRedirect(t, resp, pathLoginFactor)
}

func TestLoginWithSMS(t *testing.T) {
	ra := newRealApp(t)
	ra.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, false)
	texts := ra.smsCount(t, testPhone)

	b := ra.browser(t)
	b.get(pathLogin)
	resp, _ := b.post(pathLogin, url.Values{"email": {"JAN@example.nl "}, "password": {testPassword}})
	wantRedirect(t, resp, pathLoginFactor)
	first := b.session()
	if first == "" {
		t.Fatal("no session after the password")
	}
	// The password alone opens nothing.
	resp, _ = b.get(pathInbox)
	wantRedirect(t, resp, pathLoginFactor)

	resp, page := b.follow(resp)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page, "<h1>Tweede stap</h1>", "<h2 id=\"login-sms-heading\">SMS-code</h2>", "••••••••5678",
		">Stuur mij een SMS-code</button>", "<summary>Herstelcode gebruiken</summary>", `<label for="login-recovery-code">Herstelcode</label>`)
	wantNotContains(t, page, `id="login-sms-code"`, "Authenticatie-app")
	if ra.smsCount(t, testPhone) != texts {
		t.Fatal("the login sent a text before it was asked for")
	}

	resp, _ = b.post(pathLoginFactor+"/sms", nil)
	wantRedirect(t, resp, pathLoginFactor)
	if ra.smsCount(t, testPhone) != texts+1 {
		t.Fatal("no text after asking for one")
	}
	_, page = b.follow(resp)
	wantContains(t, page, `<label for="login-sms-code">Bevestigingscode</label>`, `autocomplete="one-time-code"`, "(nog 60 seconden)")

	resp, body := b.post(pathLoginFactor, url.Values{"kind": {"sms"}, "code": {wrongCode(ra.lastSMSCode(t, testPhone))}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Deze code klopt niet.")

	resp, _ = b.post(pathLoginFactor, url.Values{"kind": {"sms"}, "code": {ra.lastSMSCode(t, testPhone)}})
	wantRedirect(t, resp, pathInbox)
	if b.session() == first || b.session() == "" {
		t.Fatal("the session id did not change at login")
	}
	resp, body = b.follow(resp)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "<h1>Berichten</h1>", "Jan van der Berg")
	// Logged in, the login page sends the user on.
	resp, _ = b.get(pathLogin)
	wantRedirect(t, resp, pathInbox)
}

func TestLoginWithApp(t *testing.T) {
	ra := newRealApp(t)
	acc := ra.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, true)
	ra.clk.Add(time.Minute) // a new time step: an app code works once

	b := ra.login(t, "jan@example.nl")
	_, page := b.get(pathLoginFactor)
	// Last used first: the app was set up after SMS.
	app, sms := strings.Index(page, "Authenticatie-app"), strings.Index(page, "SMS-code</h2>")
	if app < 0 || sms < 0 || app > sms {
		t.Fatalf("factors not offered last used first (app at %d, sms at %d):\n%s", app, sms, page)
	}
	wantContains(t, page, `<label for="login-app-code">Token</label>`)

	code := totp(t, acc.secret, ra.clk.Now())
	resp, _ := b.post(pathLoginFactor, url.Values{"kind": {"totp"}, "code": {code}})
	wantRedirect(t, resp, pathInbox)

	// The same code does not work twice.
	other := ra.login(t, "jan@example.nl")
	resp, body := other.post(pathLoginFactor, url.Values{"kind": {"totp"}, "code": {code}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Deze code klopt niet.", `aria-describedby="login-app-code-hint login-app-code-error"`)
}

// TestLoginWithRecoveryCode: a recovery code logs in once; the factors
// stay, the page says how many codes are left and, for 15 minutes, offers
// to replace a lost factor.
func TestLoginWithRecoveryCode(t *testing.T) {
	ra := newRealApp(t)
	acc := ra.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, false)
	code := acc.recoveryCodes[4]

	b := ra.login(t, "jan@example.nl")
	resp, _ := b.post(pathLoginFactor, url.Values{"kind": {"recovery"}, "code": {strings.ToUpper(code)}})
	wantRedirect(t, resp, pathRecoveryUsed)
	resp, page := b.follow(resp)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page, "<h1>Ingelogd met een herstelcode</h1>", "je hebt nog 9 van je herstelcodes over.",
		"Dat kan tot 10:15 uur", `href="/account/tweede-stap"`, `href="/berichten"`)
	resp, _ = b.get(pathInbox)
	wantStatus(t, resp, http.StatusOK)
	resp, page = b.get(pathSMS)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page, "Mobiel telefoonnummer")
	// "Tweede stap beheren" lets this session add a factor without
	// another confirmation while the grant lasts.
	resp, page = b.get(pathFactors)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page, "Tot 10:15 uur kun je hieronder", `action="/account/tweede-stap/sms"`, `href="/account/tweede-stap/app"`)

	// The same code does not work twice.
	other := ra.login(t, "jan@example.nl")
	resp, body := other.post(pathLoginFactor, url.Values{"kind": {"recovery"}, "code": {code}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Deze code klopt niet.")

	// After 15 minutes the factor setup is closed again.
	ra.clk.Add(15 * time.Minute)
	resp, _ = b.get(pathSMS)
	wantRedirect(t, resp, pathInbox)
	_, page = b.get(pathRecoveryUsed)
	wantNotContains(t, page, `href="/stap/sms"`, `href="/account/tweede-stap"`)
	_, page = b.get(pathFactors)
	wantNotContains(t, page, `action="/account/tweede-stap/sms"`)
}

// TestRecoveryGrantInRepeatedHour: a grant that ends in the hour that
// happens twice (the last Sunday of October) names summer or winter time,
// and the Dutch sentences then leave out "uur" after it, as the security
// mail does: "tot 02:30 zomertijd uur" is no Dutch.
func TestRecoveryGrantInRepeatedHour(t *testing.T) {
	ra := newRealApp(t)
	ra.clk.Add(time.Date(2026, 10, 24, 22, 0, 0, 0, time.UTC).Sub(ra.clk.Now()))
	acc := ra.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, false)
	// 00:15 UTC: the grant ends at 00:30 UTC, 02:30 summer time.
	ra.clk.Add(time.Date(2026, 10, 25, 0, 15, 0, 0, time.UTC).Sub(ra.clk.Now()))
	b := ra.login(t, "jan@example.nl")
	resp, _ := b.post(pathLoginFactor, url.Values{"kind": {"recovery"}, "code": {acc.recoveryCodes[0]}})
	wantRedirect(t, resp, pathRecoveryUsed)
	resp, page := b.follow(resp)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page, "Dat kan tot 02:30 zomertijd;")
	wantNotContains(t, page, "zomertijd uur")
	_, page = b.get(pathFactors)
	wantContains(t, page, "Tot 02:30 zomertijd kun je hieronder")
	wantNotContains(t, page, "zomertijd uur")
}

// TestNoFactorAccountNeedsRecoveryCode: an account that finished its first
// visit but has no factor left (as yesterday's recovery code left it) is
// opened by neither its password nor a password reset; only a recovery
// code lets that session set up a factor.
func TestNoFactorAccountNeedsRecoveryCode(t *testing.T) {
	ra := newRealApp(t)
	acc := ra.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, false)
	ctx := context.Background()
	u := ra.userByEmail(t, "jan@example.nl")
	if _, err := ra.d.NewDelete().Model((*db.SecondFactor)(nil)).Where("user_id = ?", u.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := ra.d.NewUpdate().Model((*db.User)(nil)).Set("second_factor_done_at = NULL").Set("recovery_confirmed_at = NULL").
		Where("id = ?", u.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}

	b := ra.login(t, "jan@example.nl")
	_, page := b.get(pathLoginFactor)
	wantContains(t, page, "Voor je account is geen tweede stap meer ingesteld.", `<details class="help" open>`)
	for _, p := range []string{pathSMS, pathApp, pathInbox, pathRecovery, pathRecoveryUsed} {
		resp, _ := b.get(p)
		wantRedirect(t, resp, pathLoginFactor)
	}
	resp, _ := b.post(pathSMS, url.Values{"phone": {"0687654321"}})
	wantRedirect(t, resp, pathLoginFactor)

	resp, _ = b.post(pathLoginFactor, url.Values{"kind": {"recovery"}, "code": {acc.recoveryCodes[0]}})
	wantRedirect(t, resp, pathRecoveryUsed)
	_, page = b.follow(resp)
	wantContains(t, page, "Je account heeft geen tweede stap meer.", `href="/stap/sms"`)
	wantNotContains(t, page, `href="/berichten"`)
	resp, _ = b.post(pathSMS, url.Values{"phone": {"0687654321"}})
	wantRedirect(t, resp, pathSMS)
	resp, _ = b.post(pathSMS+"/code", url.Values{"code": {ra.lastSMSCode(t, "+31687654321")}})
	// Yesterday's recovery code also dropped the confirmation of the codes.
	wantRedirect(t, resp, pathRecovery)
	_, page = b.get(pathRecovery)
	var codes []string
	for _, m := range recoveryCodeInPage.FindAllStringSubmatch(page, -1) {
		codes = append(codes, m[1])
	}
	resp, _ = b.post(pathRecovery, url.Values{"stored": {"yes"}, "code": codes})
	wantRedirect(t, resp, pathInbox)
	resp, _ = b.get(pathInbox)
	wantStatus(t, resp, http.StatusOK)
}

// TestLogout ends the session: the old cookie opens nothing anymore.
func TestLogout(t *testing.T) {
	ra := newRealApp(t)
	acc := ra.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, false)
	b := acc.b
	old := b.session()

	resp, _ := b.do(http.MethodPost, "/uitloggen", url.Values{})
	wantStatus(t, resp, http.StatusForbidden)
	resp, _ = b.get(pathInbox)
	wantStatus(t, resp, http.StatusOK)

	resp, _ = b.post("/uitloggen", nil)
	wantRedirect(t, resp, pathLogin)
	if b.session() != "" {
		t.Fatal("the session cookie was not removed")
	}
	_, page := b.follow(resp)
	wantNotContains(t, page, ">Uitloggen</button>")

	resp, _ = ra.browser(t).do(http.MethodGet, pathInbox, nil, "Cookie", sessionCookie+"="+old)
	wantRedirect(t, resp, pathLogin)
}

func TestPasswordReset(t *testing.T) {
	ra := newRealApp(t)
	acc := ra.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, false)
	ctx := context.Background()

	b := ra.browser(t)
	resp, page := b.get("/wachtwoord-vergeten")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page, "<h1>Wachtwoord vergeten</h1>", `<label for="forgot-email">E-mailadres</label>`)

	// Known or not, the same answer.
	for _, email := range []string{"onbekend@example.nl", "jan@example.nl"} {
		resp, _ := b.post("/wachtwoord-vergeten", url.Values{"email": {email}})
		wantRedirect(t, resp, "/wachtwoord-vergeten/verstuurd")
		_, body := b.follow(resp)
		wantContains(t, body, "Als dit adres bij ons bekend is, ontvang je een e-mail met een link.")
	}
	resp, body := b.post("/wachtwoord-vergeten", url.Values{"email": {"geen-adres"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Vul een geldig mailadres in", `value="geen-adres"`)

	m, err := notify.LatestDevMailTo(ctx, ra.d, ra.v, "jan@example.nl")
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Nieuw wachtwoord instellen voor Dialoog" {
		t.Errorf("subject %q", m.Subject)
	}
	link := ""
	for _, line := range strings.Split(m.Text, "\n") {
		if strings.HasPrefix(line, testBase+"/wachtwoord-vergeten/") {
			link = strings.TrimPrefix(line, testBase)
		}
	}
	if link == "" || !strings.Contains(m.HTML, testBase+link) {
		t.Fatalf("no reset link in the mail:\n%s", m.Text)
	}

	// GET does not consume the link.
	for range 2 {
		resp, page := b.get(link)
		wantStatus(t, resp, http.StatusOK)
		wantContains(t, page, "<h1>Nieuw wachtwoord instellen</h1>", "jan@example.nl", `<label for="password-new">Wachtwoord</label>`,
			`hx-post="`+link+`/controle"`)
	}
	resp, body = b.post(link, url.Values{"password": {"jan van der berg wandelt"}, "confirm": {"jan van der berg wandelt"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Het wachtwoord mag je naam niet bevatten.")
	_, body = b.post(link+"/controle", url.Values{"password": {"kort"}}, "HX-Request", "true")
	wantContains(t, body, "Het wachtwoord is te kort")

	const newPassword = "een heel nieuw wachtwoord graag"
	resp, _ = b.post(link, url.Values{"password": {newPassword}, "confirm": {newPassword}})
	wantRedirect(t, resp, pathLoginFactor)
	// The second factor is still asked, and every other session ended.
	resp, _ = b.get(pathInbox)
	wantRedirect(t, resp, pathLoginFactor)
	resp, _ = acc.b.get(pathInbox)
	wantRedirect(t, resp, pathLogin)
	// Used up.
	resp, body = ra.browser(t).get(link)
	wantStatus(t, resp, http.StatusNotFound)
	wantContains(t, body, "Deze link werkt niet meer", `href="/wachtwoord-vergeten"`)

	b.post(pathLoginFactor+"/sms", nil)
	resp, _ = b.post(pathLoginFactor, url.Values{"kind": {"sms"}, "code": {ra.lastSMSCode(t, testPhone)}})
	wantRedirect(t, resp, pathInbox)

	// The new password works, the old one not.
	resp, _ = ra.browser(t).post(pathLogin, url.Values{"email": {"jan@example.nl"}, "password": {testPassword}})
	wantStatus(t, resp, http.StatusUnauthorized)
	resp, _ = ra.browser(t).post(pathLogin, url.Values{"email": {"jan@example.nl"}, "password": {newPassword}})
	wantRedirect(t, resp, pathLoginFactor)

	// The access log never shows the link's token.
	wantNotContains(t, ra.logs.String(), strings.TrimPrefix(link, "/wachtwoord-vergeten/"))
}

// TestAdminTerms: only internal admins see the page; a published version
// is accepted again by everyone, also by who is logged in now.
func TestAdminTerms(t *testing.T) {
	ra := newRealApp(t)
	user := ra.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, false)
	colleague := ra.onboard(t, auth.InviteInput{Email: "collega@example.nl", Internal: true}, false)

	for _, b := range []*browser{user.b, colleague.b} {
		resp, _ := b.get("/beheer/voorwaarden")
		wantStatus(t, resp, http.StatusNotFound)
		resp, _ = b.post("/beheer/voorwaarden", url.Values{"body_nl": {"Nieuw"}})
		wantStatus(t, resp, http.StatusNotFound)
	}
	resp, _ := ra.browser(t).get("/beheer/voorwaarden")
	wantRedirect(t, resp, pathLogin)

	admin := ra.onboard(t, auth.InviteInput{Email: "hr@example.nl", Admin: true}, false)
	_, page := admin.b.get(pathInbox)
	wantContains(t, page, `<a href="/beheer" hx-get="/beheer" hx-push-url="true">Beheer</a>`)
	_, page = user.b.get(pathInbox)
	wantNotContains(t, page, `href="/beheer"`)
	_, page = admin.b.get("/beheer")
	wantContains(t, page, `<a href="/beheer/voorwaarden" hx-get="/beheer/voorwaarden" hx-push-url="true">Gebruikersvoorwaarden beheren</a>`)
	resp, page = admin.b.get("/beheer/voorwaarden")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page, "<h1>Gebruikersvoorwaarden beheren</h1>", "Huidige versie: 1",
		`<label for="terms-nl">Nederlands</label>`, `<label for="terms-en">English</label>`, ">PUBLICEREN</button>")

	resp, body := admin.b.post("/beheer/voorwaarden", url.Values{"body_nl": {"  "}, "body_en": {"English text"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Vul de Nederlandse tekst van de gebruikersvoorwaarden in.", "English text")

	resp, _ = admin.b.post("/beheer/voorwaarden", url.Values{"body_nl": {"Versie twee van de voorwaarden."}, "body_en": {"Version two."}})
	wantRedirect(t, resp, "/beheer/voorwaarden")

	// Everyone, the admin too, accepts version 2 on their next request.
	for _, b := range []*browser{user.b, admin.b} {
		resp, _ := b.get(pathInbox)
		wantRedirect(t, resp, pathTerms)
		_, page := b.get(pathTerms)
		wantContains(t, page, `<a href="/voorwaarden/2">Hier</a>`, "Versie 2 van de gebruikersvoorwaarden.")
		acceptTerms(t, b, pathInbox)
	}
	_, text := ra.browser(t).get("/voorwaarden")
	wantContains(t, text, "Versie twee van de voorwaarden.")
	_, text = ra.browser(t).get("/voorwaarden", "Accept-Language", "en")
	wantContains(t, text, "Version two.")
}

// TestLoginBeforeFirstFactor: before the first factor, only the invitation
// link proves the person; a password alone opens nothing.
func TestLoginBeforeFirstFactor(t *testing.T) {
	ra := newRealApp(t)
	b := ra.signUp(t, auth.InviteInput{Email: "half@example.nl"})
	acceptTerms(t, b)
	setPassword(t, b)
	fresh := ra.browser(t)
	resp, body := fresh.post(pathLogin, url.Values{"email": {"half@example.nl"}, "password": {testPassword}})
	wantStatus(t, resp, http.StatusConflict)
	wantContains(t, body, "Je aanmelding is nog niet afgerond.")
	if fresh.session() != "" {
		t.Fatal("a password alone started a session")
	}
}

// TestPasswordResetLiveCheckKnowsTheName: the reset page's feedback while
// typing applies the rules the reset itself applies, the person's name
// included: it never calls a password fine that the form then refuses.
func TestPasswordResetLiveCheckKnowsTheName(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		ra.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, false)
		b := ra.browser(t)
		resp, _ := b.post("/wachtwoord-vergeten", url.Values{"email": {"jan@example.nl"}})
		wantRedirect(t, resp, "/wachtwoord-vergeten/verstuurd")
		m, err := notify.LatestDevMailTo(context.Background(), ra.d, ra.v, "jan@example.nl")
		if err != nil {
			t.Fatal(err)
		}
		link := ""
		for _, line := range strings.Split(m.Text, "\n") {
			if strings.HasPrefix(line, testBase+"/wachtwoord-vergeten/") {
				link = strings.TrimPrefix(line, testBase)
			}
		}
		if link == "" {
			t.Fatalf("no reset link in the mail:\n%s", m.Text)
		}
		const pw = "jan van der berg wandelt"
		_, body := b.post(link+"/controle", url.Values{"password": {pw}}, "HX-Request", "true")
		wantContains(t, body, "Het wachtwoord mag je naam niet bevatten.")
		wantNotContains(t, body, "Dit wachtwoord voldoet aan de eisen.")
		resp, body = b.post(link, url.Values{"password": {pw}, "confirm": {pw}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, body, "Het wachtwoord mag je naam niet bevatten.")
		_, body = b.post(link+"/controle", url.Values{"password": {"een heel nieuw wachtwoord graag"}}, "HX-Request", "true")
		wantContains(t, body, "Dit wachtwoord voldoet aan de eisen.")
	})
}

// TestAdminTermsOfASharedInstallation: the terms of use are the
// installation's, accepted by everyone of every organisation and by every
// outsider. On an installation shared by several organisations an admin of
// one of them no longer publishes them for all the others: the page shows
// the current version without the form and says who publishes them, and a
// post is refused and changes nothing. Before, any organisation's admin
// made everyone accept a text of theirs.
func TestAdminTermsOfASharedInstallation(t *testing.T) {
	ra := newRealApp(t)
	admin := ra.onboard(t, auth.InviteInput{Email: "hr@example.nl", Admin: true}, false)
	_, other, _ := ra.otherOrg(t)
	for _, b := range []*browser{admin.b, other.b} {
		resp, page := b.get("/beheer/voorwaarden")
		wantStatus(t, resp, http.StatusOK)
		wantContains(t, page, "<h1>Gebruikersvoorwaarden beheren</h1>", "Huidige versie: 1",
			"Deze installatie is van meerdere organisaties", "dialoog terms publish")
		wantNotContains(t, page, `name="body_nl"`, ">PUBLICEREN</button>")
		resp, page = b.post("/beheer/voorwaarden", url.Values{"body_nl": {"Voorwaarden van één organisatie."}, "body_en": {"One organisation's terms."}})
		wantStatus(t, resp, http.StatusForbidden)
		wantContains(t, page, "alleen de beheerder van de server publiceert de gebruikersvoorwaarden")
	}
	cur, err := auth.CurrentTerms(context.Background(), ra.d)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Version != 1 {
		t.Fatalf("terms version %d after the refused posts, want 1", cur.Version)
	}
	// Nobody has a new version to accept.
	resp, _ := admin.b.get(pathInbox)
	wantStatus(t, resp, http.StatusOK)
}
