package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
)

// stepRequests are every request of the first visit and the signed-in
// pages, with the stage each belongs to. A POST carries input that would be
// accepted, so a guard that let it through would change state.
var stepRequests = []struct {
	method, path string
	form         url.Values
	stage        auth.Stage
}{
	{http.MethodGet, pathTerms, nil, auth.StageTerms},
	{http.MethodPost, pathTerms, url.Values{"version": {"1"}, "accept": {"yes"}}, auth.StageTerms},
	{http.MethodGet, pathPassword, nil, auth.StagePassword},
	{http.MethodPost, pathPassword, url.Values{"password": {testPassword}, "confirm": {testPassword}}, auth.StagePassword},
	{http.MethodPost, pathPassword + "/controle", url.Values{"password": {testPassword}}, auth.StagePassword},
	{http.MethodGet, pathSMS, nil, auth.StageSecondFactor},
	{http.MethodPost, pathSMS, url.Values{"phone": {"0687654321"}}, auth.StageSecondFactor},
	{http.MethodPost, pathSMS + "/code", url.Values{"code": {"123456"}}, auth.StageSecondFactor},
	{http.MethodPost, pathSMS + "/opnieuw", nil, auth.StageSecondFactor},
	{http.MethodPost, pathSMS + "/wijzigen", nil, auth.StageSecondFactor},
	{http.MethodGet, pathApp, nil, auth.StageSecondFactor},
	{http.MethodPost, pathApp, url.Values{"code": {"123456"}}, auth.StageSecondFactor},
	{http.MethodPost, pathApp + "/overslaan", nil, auth.StageSecondFactor},
	{http.MethodGet, pathRecovery, nil, auth.StageRecovery},
	{http.MethodPost, pathRecovery, url.Values{"stored": {"yes"}}, auth.StageRecovery},
	{http.MethodGet, pathProfile, nil, auth.StageProfile},
	{http.MethodPost, pathProfile, url.Values{"initials": {"X"}, "first_name": {"X"}, "last_name": {"X"}}, auth.StageProfile},
	{http.MethodGet, pathInbox, nil, auth.StageDone},
}

// TestStepGuard walks one user through the first visit and, at every stage,
// requests every step that is not the stage's: each is redirected to the
// stage's page and changes nothing. An htmx request gets an HX-Location
// that swaps the right page into main instead.
func TestStepGuard(t *testing.T) {
	ra := newRealApp(t)
	b := ra.signUp(t, auth.InviteInput{Email: "jan@example.nl"})
	stages := []struct {
		stage auth.Stage
		page  string
		next  func()
	}{
		{auth.StageTerms, pathTerms, func() { acceptTerms(t, b) }},
		{auth.StagePassword, pathPassword, func() { setPassword(t, b) }},
		{auth.StageSecondFactor, pathSMS, func() {
			ra.setUpSMS(t, b, testPhone)
			resp, _ := b.post(pathApp+"/overslaan", nil)
			wantRedirect(t, resp, pathRecovery)
		}},
		{auth.StageRecovery, pathRecovery, func() { storeRecoveryCodes(t, b) }},
		{auth.StageProfile, pathProfile, func() { saveProfile(t, b) }},
		{auth.StageDone, pathInbox, nil},
	}
	for _, st := range stages {
		t.Run(string(st.stage), func(t *testing.T) {
			b.t = t
			for _, r := range stepRequests {
				if r.stage == st.stage {
					continue
				}
				t.Run(r.method+r.path, func(t *testing.T) {
					b.t = t
					sms := ra.smsCount(t, "+31687654321")
					var resp *http.Response
					if r.method == http.MethodGet {
						resp, _ = b.get(r.path)
					} else {
						resp, _ = b.post(r.path, cloneValues(r.form))
					}
					wantRedirect(t, resp, st.page)

					// The same through htmx: HX-Location, swapped into main.
					var body string
					if r.method == http.MethodGet {
						resp, body = b.get(r.path, "HX-Request", "true")
					} else {
						resp, body = b.post(r.path, cloneValues(r.form), "HX-Request", "true")
					}
					wantStatus(t, resp, http.StatusOK)
					var loc struct{ Path, Target, Swap string }
					if err := json.Unmarshal([]byte(resp.Header.Get("HX-Location")), &loc); err != nil || loc.Path != st.page || loc.Target != "#main" {
						t.Errorf("HX-Location %q, want %s into #main", resp.Header.Get("HX-Location"), st.page)
					}
					if body != "" {
						t.Errorf("body of an HX-Location answer: %q", body)
					}
					if ra.smsCount(t, "+31687654321") != sms {
						t.Error("a refused request sent a text")
					}
				})
			}
			b.t = t
			// Nothing changed: the stage's own page still answers.
			resp, _ := b.get(st.page)
			wantStatus(t, resp, http.StatusOK)
			if st.next != nil {
				st.next()
			}
		})
	}

	t.Run("SignedOut", func(t *testing.T) {
		anon := ra.browser(t)
		for _, r := range append(stepRequests, struct {
			method, path string
			form         url.Values
			stage        auth.Stage
		}{http.MethodGet, pathLoginFactor, nil, ""}) {
			var resp *http.Response
			if r.method == http.MethodGet {
				resp, _ = anon.get(r.path)
			} else {
				resp, _ = anon.post(r.path, cloneValues(r.form))
			}
			wantRedirect(t, resp, pathLogin)
		}
	})
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// TestStepsRequireCSRF posts to every step without the token.
func TestStepsRequireCSRF(t *testing.T) {
	ra := newRealApp(t)
	b := ra.signUp(t, auth.InviteInput{Email: "jan@example.nl"})
	posts := []string{pathLogin, pathLoginFactor, pathLoginFactor + "/sms", "/uitloggen", "/wachtwoord-vergeten", "/beheer/voorwaarden"}
	for _, r := range stepRequests {
		if r.method == http.MethodPost {
			posts = append(posts, r.path)
		}
	}
	for _, p := range posts {
		resp, body := b.do(http.MethodPost, p, url.Values{"accept": {"yes"}, "version": {"1"}})
		wantStatus(t, resp, http.StatusForbidden)
		wantContains(t, body, "Dit formulier is verlopen")
	}
	// Nothing was accepted: the terms are still the step.
	resp, _ := b.get(pathPassword)
	wantRedirect(t, resp, pathTerms)
}

func TestTermsStep(t *testing.T) {
	ra := newRealApp(t)
	b := ra.signUp(t, auth.InviteInput{Email: "jan@example.nl"})
	resp, page := b.get(pathTerms)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page,
		`<h1 aria-describedby="step-progress">Gebruikersvoorwaarden</h1>`, "Met Dialoog kunt u beveiligd berichten uitwisselen",
		`<a href="/voorwaarden/1">Hier</a> vindt u de juridische gebruikersvoorwaarden`,
		"<h2>Beveiliging</h2>",
		`<label for="terms-accept">Ik ga akkoord met de gebruikersvoorwaarden</label>`,
		`id="terms-accept" type="checkbox" name="accept"`, ">INLOGGEN</button>",
		">Uitloggen</button>",
	)
	wantNotContains(t, page, "DialoogXpert")

	t.Run("FullText", func(t *testing.T) {
		for _, p := range []string{"/voorwaarden", "/voorwaarden/1"} {
			resp, body := ra.browser(t).get(p)
			wantStatus(t, resp, http.StatusOK)
			wantContains(t, body, "<h1>Gebruikersvoorwaarden</h1>", "Versie 1, gepubliceerd op 23 februari 2026.")
		}
		resp, _ := ra.browser(t).get("/voorwaarden/7")
		wantStatus(t, resp, http.StatusNotFound)
	})

	t.Run("UncheckedRefused", func(t *testing.T) {
		resp, body := b.post(pathTerms, url.Values{"version": {"1"}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, body, "Vink aan dat je akkoord gaat met de gebruikersvoorwaarden", `aria-invalid="true"`, `aria-describedby="terms-accept-error"`)
		resp, _ = b.get(pathPassword)
		wantRedirect(t, resp, pathTerms)
	})

	before := b.session()
	resp, _ = b.post(pathTerms, url.Values{"version": {"1"}, "accept": {"yes"}})
	wantRedirect(t, resp, pathPassword)
	if b.session() == before || b.session() == "" {
		t.Fatal("the session id did not change at the stage change")
	}
	var acc db.TermsAcceptance
	if err := ra.d.NewSelect().Model(&acc).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if acc.IP == "" || !acc.AcceptedAt.Equal(ra.clk.Now()) {
		t.Errorf("acceptance stored without ip or time: %+v", acc)
	}
}

// TestPasswordRules checks each rule's message, on submit and in the live
// feedback, and that typed passwords are never sent back.
func TestPasswordRules(t *testing.T) {
	ra := newRealApp(t)
	b := ra.signUp(t, auth.InviteInput{Email: "pieter@example.nl"})
	acceptTerms(t, b)

	resp, page := b.get(pathPassword)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page,
		`<h1 aria-describedby="step-progress">Wachtwoord instellen</h1>`,
		`<label for="password-new">Wachtwoord</label>`, `<label for="password-confirm">Herhaal wachtwoord</label>`,
		`aria-expanded="false" aria-controls="password-rules"`, `<span aria-hidden="true">?</span>`,
		"is minimaal 12 tekens lang", "bevat niet je mailadres of je naam",
		`hx-post="/stap/wachtwoord/controle" hx-trigger="input changed delay:300ms"`, `aria-live="polite"`,
		`data-password-toggle="password-new password-confirm"`, `autocomplete="new-password"`,
	)
	wantNotContains(t, page, "onpaste")

	long := strings.Repeat("lang wachtwoord ", 17) // 272 characters
	cases := []struct{ name, pw, confirm, want string }{
		{"TooShort", "kort genoeg", "kort genoeg", "Het wachtwoord is te kort: gebruik minimaal 12 tekens."},
		{"TooLong", long, long, "Het wachtwoord is te lang: gebruik maximaal 256 tekens."},
		{"Weak", "wachtwoord123", "wachtwoord123", "Dit wachtwoord is te makkelijk te raden."},
		{"Common", "aaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaa", "Dit wachtwoord is te makkelijk te raden."},
		{"ContainsEmail", "pieter wandelt graag lang", "pieter wandelt graag lang", "Het wachtwoord mag je mailadres niet bevatten."},
		{"Mismatch", testPassword, testPassword + "!", "De twee wachtwoorden zijn niet gelijk."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b.t = t
			resp, body := b.post(pathPassword, url.Values{"password": {tc.pw}, "confirm": {tc.confirm}})
			wantStatus(t, resp, http.StatusUnprocessableEntity)
			wantContains(t, body, tc.want, `aria-invalid="true"`, `class="field-error"`)
			wantNotContains(t, body, `value="`+tc.pw, tc.pw)

			resp, body = b.post(pathPassword+"/controle", url.Values{"password": {tc.pw}, "confirm": {tc.confirm}}, "HX-Request", "true")
			wantStatus(t, resp, http.StatusOK)
			wantContains(t, body, tc.want, "feedback--bad")
			wantNotContains(t, body, "<title>", tc.pw)
		})
	}
	b.t = t
	_, body := b.post(pathPassword+"/controle", url.Values{"password": {testPassword}}, "HX-Request", "true")
	wantContains(t, body, "Dit wachtwoord voldoet aan de eisen.", "feedback--ok")
	_, body = b.post(pathPassword+"/controle", url.Values{"password": {""}}, "HX-Request", "true")
	if strings.TrimSpace(body) != "" {
		t.Errorf("feedback for an empty field: %q", body)
	}

	before := b.session()
	resp, _ = b.post(pathPassword, url.Values{"password": {testPassword}, "confirm": {testPassword}})
	wantRedirect(t, resp, pathSMS)
	if b.session() == before {
		t.Fatal("the session id did not change at the stage change")
	}
}

func TestSMSStep(t *testing.T) {
	ra := newRealApp(t)
	b := ra.signUp(t, auth.InviteInput{Email: "jan@example.nl"})
	acceptTerms(t, b)
	setPassword(t, b)

	resp, page := b.get(pathSMS)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page,
		`<h1 aria-describedby="step-progress">Een betere beveiliging voor vertrouwelijke gegevens</h1>`,
		`<label for="sms-phone">Mobiel telefoonnummer</label>`, "06 12345678", `type="tel"`,
		"<summary>Uitleg</summary>", `href="/stap/app"`, ">Overslaan</a>",
		"Voor het ontvangen van SMS-codes worden géén kosten berekend",
	)

	t.Run("NotMobile", func(t *testing.T) {
		b.t = t
		resp, body := b.post(pathSMS, url.Values{"phone": {"020 123 4567"}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, body, "Dit is geen mobiel nummer.", `value="020 123 4567"`, `aria-invalid="true"`)
	})
	b.t = t

	resp, _ = b.post(pathSMS, url.Values{"phone": {"06 12345678"}})
	wantRedirect(t, resp, pathSMS)
	if n := ra.smsCount(t, testPhone); n != 1 {
		t.Fatalf("%d texts, want 1", n)
	}

	t.Run("ReloadSendsNothing", func(t *testing.T) {
		b.t = t
		for range 2 {
			resp, body := b.get(pathSMS)
			wantStatus(t, resp, http.StatusOK)
			wantContains(t, body,
				// Right after typing, the number as typed (formatted), so
				// that a typo shows; masked only at a later login.
				"Er is een SMS met een code van 6 cijfers gestuurd naar 06 12 34 56 78.",
				`<label for="sms-code">Bevestigingscode</label>`,
				`inputmode="numeric"`, `autocomplete="one-time-code"`,
				"Geen SMS ontvangen", "(nog 60 seconden)", `type="submit" disabled data-countdown-button`, ">Telefoonnummer wijzigen</button>",
			)
		}
		if n := ra.smsCount(t, testPhone); n != 1 {
			t.Fatalf("a reload sent a text: %d texts", n)
		}
	})

	t.Run("OriginBoundText", func(t *testing.T) {
		b.t = t
		code := ra.lastSMSCode(t, testPhone)
		s := ra.lastSMS(t, testPhone)
		if !strings.HasPrefix(s, "Je Dialoog-code is "+code+".") || !strings.HasSuffix(s, "\n\n@dialoog.test #"+code) {
			t.Errorf("text %q", s)
		}
	})

	t.Run("WrongCode", func(t *testing.T) {
		b.t = t
		wrong := "000000"
		if ra.lastSMSCode(t, testPhone) == wrong {
			wrong = "111111"
		}
		resp, body := b.post(pathSMS+"/code", url.Values{"code": {wrong}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, body, "Deze code klopt niet.", `aria-describedby="sms-code-hint sms-code-error"`)
	})

	t.Run("ResendDuringCooldown", func(t *testing.T) {
		b.t = t
		ra.clk.Add(25 * time.Second)
		resp, body := b.post(pathSMS+"/opnieuw", nil)
		wantStatus(t, resp, http.StatusTooManyRequests)
		wantContains(t, body, "Een nieuwe code kan over 35 seconden worden gestuurd.", "(nog 35 seconden)")
		if n := ra.smsCount(t, testPhone); n != 1 {
			t.Fatalf("%d texts during the cooldown", n)
		}
		ra.clk.Add(35 * time.Second)
		_, body = b.get(pathSMS)
		wantNotContains(t, body, "data-countdown-button")
		resp, _ = b.post(pathSMS+"/opnieuw", nil)
		wantRedirect(t, resp, pathSMS)
		if n := ra.smsCount(t, testPhone); n != 2 {
			t.Fatalf("%d texts after the cooldown, want 2", n)
		}
	})

	t.Run("ChangeNumber", func(t *testing.T) {
		b.t = t
		resp, _ := b.post(pathSMS+"/wijzigen", nil)
		wantRedirect(t, resp, pathSMS)
		_, body := b.follow(resp)
		// The number comes back as it was sent to, to be corrected.
		wantContains(t, body, `<label for="sms-phone">Mobiel telefoonnummer</label>`, `value="06 12 34 56 78"`)
		wantNotContains(t, body, `id="sms-code"`, "••••")
	})
	b.t = t

	ra.clk.Add(time.Minute)
	before := b.session()
	ra.setUpSMS(t, b, testPhone)
	if b.session() == before {
		t.Fatal("the session id did not change when the factor was verified")
	}
	_, body := b.get(pathApp)
	wantContains(t, body, "SMS is ingesteld.")
}

func TestAppStep(t *testing.T) {
	ra := newRealApp(t)
	b := ra.signUp(t, auth.InviteInput{Email: "jan@example.nl"})
	acceptTerms(t, b)
	setPassword(t, b)

	t.Run("SkipWithoutAnyFactorRefused", func(t *testing.T) {
		b.t = t
		resp, body := b.post(pathApp+"/overslaan", nil)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, body, "Er moet altijd een 2 factor mogelijkheid ingesteld worden, anders kan je niet verder. SMS en/of Authenticatie app.", `role="alert"`)
		resp, _ = b.get(pathRecovery)
		wantRedirect(t, resp, pathSMS)
	})
	b.t = t

	resp, page := b.get(pathApp)
	wantStatus(t, resp, http.StatusOK)
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	secret := appSecret(t, page)
	if !regexp.MustCompile(`^[A-Z2-7]{4}( [A-Z2-7]{4}){7}$`).MatchString(secret) {
		t.Errorf("secret %q is not 32 characters in groups of four", secret)
	}
	wantContains(t, page,
		`hx-history="false"`, `<img src="data:image/png;base64,`, `alt="QR-code om Dialoog aan uw authenticatie-app te koppelen"`,
		"<dt>Geheime sleutel</dt>", `<label for="app-code">Token</label>`, `autocomplete="one-time-code"`, `inputmode="numeric"`,
		"<summary>Uitleg</summary>", `action="/stap/app/overslaan"`, ">Overslaan</button>",
		// The app on this phone: opened with the account, or the key copied.
		`href="otpauth://totp/`, "secret="+strings.ReplaceAll(secret, " ", ""), `data-copy="`+strings.ReplaceAll(secret, " ", "")+`"`,
	)
	_, partial := b.get(pathApp, "HX-Request", "true")
	wantContains(t, partial, `hx-history="false"`, secret)
	wantNotContains(t, partial, "<html")

	resp, body := b.post(pathApp, url.Values{"code": {wrongCode(totp(t, secret, ra.clk.Now()))}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Deze code klopt niet.", secret)

	resp, _ = b.post(pathApp, url.Values{"code": {totp(t, secret, ra.clk.Now())}})
	wantRedirect(t, resp, pathRecovery)
}

// wrongCode returns a 6-digit code that differs from code.
func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

func TestRecoveryCodesStep(t *testing.T) {
	ra := newRealApp(t)
	b := ra.signUp(t, auth.InviteInput{Email: "jan@example.nl"})
	acceptTerms(t, b)
	setPassword(t, b)
	ra.setUpSMS(t, b, testPhone)
	resp, _ := b.post(pathApp+"/overslaan", nil)
	wantRedirect(t, resp, pathRecovery)

	resp, page := b.get(pathRecovery)
	wantStatus(t, resp, http.StatusOK)
	codes := recoveryCodeInPage.FindAllStringSubmatch(page, -1)
	if len(codes) != 10 {
		t.Fatalf("%d codes, want 10", len(codes))
	}
	wantContains(t, page,
		`<h1 aria-describedby="step-progress">Herstelcodes</h1>`, `<ol class="recovery-codes"`,
		`download="dialoog-herstelcodes.txt"`, `href="data:text/plain;charset=utf-8,Dialoog-herstelcodes%20voor%20jan@example.nl`,
		">Kopiëren</button>", ">Downloaden</a>",
		`<label for="recovery-stored">Ik heb mijn herstelcodes veilig bewaard</label>`, ">VERDER</button>",
	)
	var form []string
	for _, c := range codes {
		form = append(form, c[1])
	}
	resp, body := b.post(pathRecovery, url.Values{"code": form})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Bevestig dat je je herstelcodes veilig hebt bewaard.")
	for _, c := range form {
		wantContains(t, body, "<li><code>"+c+"</code></li>")
	}
	resp, _ = b.post(pathRecovery, url.Values{"code": form, "stored": {"yes"}})
	wantRedirect(t, resp, pathProfile)
}

func TestProfileStep(t *testing.T) {
	ra := newRealApp(t)
	b := ra.signUp(t, auth.InviteInput{Email: "jan@example.nl"})
	acceptTerms(t, b)
	setPassword(t, b)
	ra.setUpSMS(t, b, testPhone)
	b.post(pathApp+"/overslaan", nil)
	storeRecoveryCodes(t, b)

	resp, page := b.get(pathProfile)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page,
		`<h1 aria-describedby="step-progress">Deelnemerinstellingen</h1>`,
		"Deze gegevens worden gedeeld met de gebruikers die je via Dialoog een bericht sturen.",
		`<label for="profile-gender">Geslacht</label>`, `<option value="unknown" selected>Onbekend</option>`,
		">Man</option>", ">Vrouw</option>", ">Anders</option>",
		`<label for="profile-initials">Voorletters <span class="required-mark">*</span></label>`,
		`<label for="profile-first-name">Voornaam <span class="required-mark">*</span></label>`,
		`<label for="profile-name-prefix">Tussenvoegsels</label>`,
		`<label for="profile-last-name">Achternaam <span class="required-mark">*</span></label>`,
		"<legend>Afwezigheid</legend>", `<label for="profile-away-enabled">Automatisch antwoorden bij afwezigheid</label>`,
		`type="date" name="away_from"`, `type="date" name="away_until"`, ">OPSLAAN</button>",
	)

	resp, body := b.post(pathProfile, url.Values{
		"gender": {"female"}, "initials": {""}, "first_name": {"Janneke"}, "name_prefix": {"<b>"}, "last_name": {""},
		"away_enabled": {"yes"}, "away_message": {""}, "away_from": {"2026-03-10"}, "away_until": {"2026-03-01"},
	})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body,
		`class="error-summary" role="alert"`, "Controleer de volgende velden:",
		`<a href="#profile-initials">Voorletters: Vul dit veld in.</a>`,
		`<a href="#profile-last-name">Achternaam: Vul dit veld in.</a>`,
		`<a href="#profile-name-prefix">Tussenvoegsels: De tekens &lt; en &gt; zijn hier niet toegestaan.</a>`,
		`<a href="#profile-away-message">Bericht bij afwezigheid: Vul het bericht in dat automatisch wordt gestuurd.</a>`,
		`<a href="#profile-away-until">Tot en met: Deze datum ligt voor de begindatum.</a>`,
		`<p id="profile-initials-error" class="field-error">`, `aria-describedby="profile-initials-error"`,
		`value="Janneke"`, `value="&lt;b&gt;"`, `<option value="female" selected>Vrouw</option>`,
		`name="away_enabled" value="yes" checked`, `value="2026-03-10"`, `value="2026-03-01"`,
	)
	wantNotContains(t, body, "<b>")

	resp, _ = b.post(pathProfile, url.Values{"gender": {"female"}, "initials": {"J."}, "first_name": {"Janneke"}, "last_name": {"Vries"}, "name_prefix": {"de"}})
	wantRedirect(t, resp, pathInbox)
	resp, body = b.follow(resp)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, "<h1>Berichten</h1>", "Ingelogd als Janneke de Vries", "Je hebt nog geen berichten.",
		`action="/uitloggen"`, ">Uitloggen</button>", `<span class="account__name">Janneke de Vries</span>`)
}

// TestFirstVisit goes through the whole first visit on both databases,
// with both factors, and checks that the session id changes at every stage
// and the old ids stop working.
func TestFirstVisit(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		b := ra.signUp(t, auth.InviteInput{Email: "jan@example.nl"})
		seen := map[string]bool{b.session(): true}
		step := func(name string, fn func()) {
			t.Helper()
			before := b.session()
			fn()
			after := b.session()
			if after == "" || seen[after] {
				t.Fatalf("%s: the session id did not change", name)
			}
			seen[after] = true
			resp, _ := ra.browser(t).do(http.MethodGet, pathInbox, nil, "Cookie", sessionCookie+"="+before)
			wantRedirect(t, resp, pathLogin)
		}
		step("terms", func() { acceptTerms(t, b) })
		step("password", func() { setPassword(t, b) })
		step("sms", func() { ra.setUpSMS(t, b, testPhone) })
		step("app", func() { ra.clk.Add(time.Minute); ra.setUpApp(t, b) })
		step("recovery", func() { storeRecoveryCodes(t, b) })
		step("profile", func() { saveProfile(t, b) })
		resp, body := b.get(pathInbox)
		wantStatus(t, resp, http.StatusOK)
		wantContains(t, body, "<h1>Berichten</h1>", "Jan van der Berg", "Je hebt nog geen berichten.")
		// Finished steps cannot be repeated.
		resp, _ = b.get(pathTerms)
		wantRedirect(t, resp, pathInbox)
	})
}

// TestStepsThroughHTMX: a step's POST answers 303 (XHR follows it) and the
// next page comes back as a partial that pushes its own address.
func TestStepsThroughHTMX(t *testing.T) {
	ra := newRealApp(t)
	b := ra.signUp(t, auth.InviteInput{Email: "jan@example.nl"})
	_, page := b.get(pathTerms, "HX-Request", "true")
	wantNotContains(t, page, "<html")
	wantContains(t, page, "<title>Gebruikersvoorwaarden – Dialoog</title>", `<div id="account" class="account" hx-swap-oob="true" data-session-idle="1800" data-session-ends="`)
	resp, _ := b.post(pathTerms, url.Values{"version": {"1"}, "accept": {"yes"}}, "HX-Request", "true")
	wantRedirect(t, resp, pathPassword)
	resp, page = b.follow(resp, "HX-Request", "true")
	wantStatus(t, resp, http.StatusOK)
	if got := resp.Header.Get("HX-Push-Url"); got != pathPassword {
		t.Errorf("HX-Push-Url %q", got)
	}
	wantContains(t, page, `<h1 aria-describedby="step-progress">Wachtwoord instellen</h1>`)
	wantNotContains(t, page, "<html")
}

// TestStepsInEnglish: a user whose language is English gets the steps in
// English whatever the browser says.
func TestStepsInEnglish(t *testing.T) {
	ra := newRealApp(t)
	b := ra.signUp(t, auth.InviteInput{Email: "jo@example.com", Language: "en"})
	_, page := b.get(pathTerms, "Accept-Language", "nl")
	wantContains(t, page, `<html lang="en">`, `<h1 aria-describedby="step-progress">Terms of use</h1>`, "I accept the terms of use", ">LOG IN</button>")
	resp, body := b.post(pathTerms, url.Values{"version": {"1"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, body, "Tick the box to accept the terms of use")
}

// TestSMSStepExpiredCode: a code typed after it expired (or after it was
// dropped) brings the number form back with the message why, in the
// person's language, and the number typed before; it showed the number
// form without a word.
func TestSMSStepExpiredCode(t *testing.T) {
	ra := newRealApp(t)
	for _, tc := range []struct{ email, lang, want string }{
		{"jan@example.nl", "nl", "Deze code is verlopen. Vraag een nieuwe code aan."},
		{"jo@example.com", "en", "This code has expired. Ask for a new code."},
	} {
		b := ra.signUp(t, auth.InviteInput{Email: tc.email, Language: tc.lang})
		acceptTerms(t, b)
		setPassword(t, b)
		resp, _ := b.post(pathSMS, url.Values{"phone": {"06 1234 5678"}})
		wantRedirect(t, resp, pathSMS)
		code := ra.lastSMSCode(t, testPhone)
		ra.clk.Add(11 * time.Minute)
		resp, page := b.post(pathSMS+"/code", url.Values{"code": {code}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, tc.want, `name="phone" value="06 12 34 56 78"`)
		ra.clk.Add(time.Hour)
	}
}

// TestRecoveryCodesReplacedInAnotherWindow: the recovery-code step opened
// twice (a second window, a reload) makes two sets, and only the newest
// works. Confirming the older one is refused with a message and the page
// shows new codes to store; those confirm.
func TestRecoveryCodesReplacedInAnotherWindow(t *testing.T) {
	ra := newRealApp(t)
	b := ra.signUp(t, auth.InviteInput{Email: "jan@example.nl"})
	acceptTerms(t, b)
	setPassword(t, b)
	ra.setUpSMS(t, b, testPhone)
	b.post(pathApp+"/overslaan", nil)
	shown := func(page string) []string {
		var codes []string
		for _, m := range recoveryCodeInPage.FindAllStringSubmatch(page, -1) {
			codes = append(codes, m[1])
		}
		if len(codes) != auth.RecoveryCodeCount {
			t.Fatalf("%d codes shown", len(codes))
		}
		return codes
	}
	_, first := b.get(pathRecovery)
	_, second := b.get(pathRecovery)
	resp, page := b.post(pathRecovery, url.Values{"stored": {"yes"}, "code": shown(first)})
	wantStatus(t, resp, http.StatusConflict)
	wantContains(t, page, "Deze herstelcodes zijn intussen vervangen")
	fresh := shown(page)
	for _, c := range append(shown(first), shown(second)...) {
		wantNotContains(t, page, c)
	}
	resp, _ = b.post(pathRecovery, url.Values{"stored": {"yes"}, "code": fresh})
	wantRedirect(t, resp, pathProfile)
}

// TestProfileStepShowsStoredAbsenceDays, on both engines: the absence
// days stored for a person (midnight UTC of each day) come back on
// "Deelnemerinstellingen" and, once it is saved, on the settings page as
// the same days, whatever the server's local zone (run it with
// TZ=Pacific/Honolulu and TZ=Asia/Tokyo too). Through the service only
// saving the step stores these days, which also ends the step, so the
// step is given them here directly.
func TestProfileStepShowsStoredAbsenceDays(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		b := ra.signUp(t, auth.InviteInput{Email: "jan@example.nl"})
		acceptTerms(t, b)
		setPassword(t, b)
		ra.setUpSMS(t, b, testPhone)
		b.post(pathApp+"/overslaan", nil)
		storeRecoveryCodes(t, b)
		from, until := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
		if _, err := d.NewUpdate().Model((*db.User)(nil)).Set("away_from = ?", from).Set("away_until = ?", until).
			Where("email = ?", "jan@example.nl").Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		_, page := b.get(pathProfile)
		wantContains(t, page, `name="away_from" value="2026-03-01"`, `name="away_until" value="2026-03-10"`)

		resp, _ := b.post(pathProfile, url.Values{"gender": {"female"}, "initials": {"J."}, "first_name": {"Janneke"}, "last_name": {"Vries"},
			"away_enabled": {"yes"}, "away_message": {"Ik ben weg."}, "away_from": {"2026-03-02"}, "away_until": {"2026-03-11"}})
		wantRedirect(t, resp, pathInbox)
		_, page = b.get(pathAccount)
		wantContains(t, page, `name="away_from" value="2026-03-02"`, `name="away_until" value="2026-03-11"`)
	})
}
