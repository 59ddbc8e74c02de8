package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"dialoog/notify/notifytest"
)

// TestPasskey: in Chromium with a virtual authenticator (the DevTools
// protocol's WebAuthn domain: CTAP2, internal, resident keys, user
// verification), a person adds a passkey in the first visit's
// second-factor step, and later logs in with the passkey alone, on a
// desktop and on a 360 px phone. WebAuthn needs a domain as the relying
// party's id, so the server's base URL is http://localhost:PORT.
func TestPasskey(t *testing.T) {
	smtpSrv := notifytest.StartSMTP(t, "127.0.0.1:0", "", "")
	gw := notifytest.StartGateway(t)
	addr := freeAddr(t)
	s := startServer(t, map[string]string{
		"DIALOOG_ADDR":      addr,
		"DIALOOG_BASE_URL":  "http://localhost:" + addr[strings.LastIndex(addr, ":")+1:],
		"DIALOOG_SMTP_URL":  "smtp://" + smtpSrv.Addr + "?tls=none",
		"DIALOOG_SMS_URL":   gw.URL,
		"DIALOOG_MAIL_FROM": "Dialoog <no-reply@dialoog.test>",
		"DIALOOG_ORG_NAME":  "OSAW",
	})
	viewports := []struct {
		name          string
		width, height int
	}{{"desktop", 1280, 800}, {"phone", 360, 740}}
	for i, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			email := fmt.Sprintf("passkey%d@example.nl", i)
			b := openInvitation(t, s, smtpSrv, email, vp.width, vp.height)
			b.virtualAuthenticator()
			b.termsAndPassword()

			// The second-factor step offers the passkey beside SMS and app.
			b.step("factor", "Mobiel telefoonnummer")
			b.waitJS("passkey block", `!document.querySelector('[data-passkey-block]').hidden`)
			if h := b.text("#passkey-heading"); h != "Passkey (vingerafdruk, gezicht of beveiligingssleutel)" {
				t.Fatalf("passkey heading %q", h)
			}
			b.fill("Naam van deze passkey", "Laptop")
			b.click("Passkey toevoegen")
			b.recoveryAndProfile()

			// Next time: the passkey alone. Chromium's virtual authenticator
			// answers the login page's autofill request (conditional
			// mediation) at once, as a person picking the passkey from the
			// mail address field's suggestions would.
			before := evalJS[float64](b, `performance.timeOrigin`)
			b.click("Uitloggen")
			b.waitJS("a new inbox page", fmt.Sprintf(`location.pathname === '/berichten' && performance.timeOrigin > %f && document.readyState === 'complete'`, before))
			b.step("inbox-after-autofill", "")

			// In a browser without that autofill: the button. (Logging out
			// may swap the page in place, so the page in hand loses the
			// autofill too.)
			const noAutofill = `PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false); true`
			if _, err := chromedp.Call(b.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
				Source: noAutofill,
			}); err != nil {
				t.Fatal(err)
			}
			b.eval(noAutofill)
			b.click("Uitloggen")
			b.waitPath("/inloggen")
			b.step("login", "Wachtwoord")
			if ac := evalJS[string](b, `document.getElementById('login-email').getAttribute('autocomplete')`); ac != "username webauthn" {
				t.Fatalf("mail address autocomplete %q", ac)
			}
			b.waitJS("passkey login block", `!document.querySelector('[data-passkey-block]').hidden`)
			b.shot("login-passkey")
			b.click("Inloggen met passkey")
			b.waitPath("/berichten")
			b.step("inbox-after-passkey", "")

			// The password stays, with the passkey as its second step.
			b.click("Uitloggen")
			b.waitPath("/inloggen")
			b.step("login-password", "Wachtwoord")
			b.fill("E-mailadres", email)
			b.fill("Wachtwoord", password)
			b.submit()
			b.waitPath("/inloggen/tweede-stap")
			b.waitJS("passkey second step", `!document.querySelector('[data-passkey-block]').hidden`)
			b.step("login-second-step", "")
			b.click("Gebruik je passkey")
			b.waitPath("/berichten")
			b.step("inbox-after-second-step", "")

			// Tweede stap beheren lists the passkey, the only factor, and
			// after "confirm it is you" offers another.
			b.run(chromedp.Navigate(s.BaseURL + "/account/tweede-stap"))
			b.step("factors", "Wachtwoord")
			page := b.text("")
			for _, want := range []string{"Passkey ‘Laptop’", "Dit is je enige tweede stap."} {
				if !strings.Contains(page, want) {
					t.Fatalf("Tweede stap beheren lacks %q:\n%s", want, page)
				}
			}
			b.fill("Wachtwoord", password)
			b.click("Bevestigen")
			b.waitJS("passkey add block", `!!document.querySelector('[data-passkey-block]') && !document.querySelector('[data-passkey-block]').hidden`)
			b.step("factors-confirmed", "Naam van deze passkey")

			// The security activity lists the passkey's events.
			b.run(chromedp.Navigate(s.BaseURL + "/account/activiteit"))
			b.step("activity", "")
			body := b.text("")
			for _, want := range []string{"Passkey toegevoegd", "Ingelogd zonder wachtwoord (passkey)"} {
				if !strings.Contains(body, want) {
					t.Fatalf("security activity lacks %q:\n%s", want, body)
				}
			}
		})
	}
}

// virtualAuthenticator gives the browser a platform authenticator that
// keeps resident keys and verifies its user at once.
func (b *browser) virtualAuthenticator() {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		b.t.Fatalf("webauthn.Enable: %v", err)
	}
	_, err := chromedp.Call(b.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol:                    webauthn.AuthenticatorProtocolCtap2,
			Ctap2version:                webauthn.Ctap2versionCtap21,
			Transport:                   webauthn.AuthenticatorTransportInternal,
			HasResidentKey:              true,
			HasUserVerification:         true,
			IsUserVerified:              true,
			AutomaticPresenceSimulation: true,
		},
	})
	if err != nil {
		b.t.Fatalf("webauthn.AddVirtualAuthenticator: %v", err)
	}
}
