package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestManageFactors walks "Tweede stap beheren" on a phone (360 px): the
// page asks to confirm it is the person first, then links an
// authenticator app beside the SMS number; then the password is changed on
// the account page. Every page passes the accessibility scan.
func TestManageFactors(t *testing.T) {
	s, smtpSrv, gw := startMailServer(t)
	const phone = "+31644444444"
	b := openInvitation(t, s, smtpSrv, "tweedestap@example.nl", 360, 740)
	b.termsAndPassword()
	b.smsRoute(gw, phone)
	b.recoveryAndProfile()

	b.run(chromedp.Navigate(s.BaseURL + "/account"))
	b.step("account", "Huidig wachtwoord")
	b.click("Tweede stap beheren")
	b.step("factors-confirm", "Wachtwoord")
	b.fill("Wachtwoord", password)
	b.submit()
	b.waitJS("confirmed", `document.querySelector('main').innerText.includes('Bevestigd.')`)
	b.step("factors-open", "Mobiel telefoonnummer")
	b.click("App koppelen")
	b.step("factors-app", "Token")
	secret := strings.ReplaceAll(b.text("#app-secret"), " ", "")
	if len(secret) != 32 {
		t.Fatalf("secret key %q is not 160 bits in base32", secret)
	}
	b.fill("Token", totp(t, secret, time.Now()))
	b.submit()
	b.waitJS("app linked", `document.querySelector('main').innerText.includes('De authenticatie-app is gekoppeld.')`)
	b.step("factors-app-linked", "")
	if n := b.count("main .factor"); n != 2 {
		t.Fatalf("%d factors listed, want 2", n)
	}

	const newPassword = "vier losse woorden als zin"
	b.run(chromedp.Navigate(s.BaseURL + "/account"))
	b.step("account-again", "Huidig wachtwoord")
	b.fill("Huidig wachtwoord", password)
	b.fill("Nieuw wachtwoord", newPassword)
	b.fill("Herhaal het nieuwe wachtwoord", newPassword)
	b.submit()
	b.waitJS("password changed", `document.querySelector('main').innerText.includes('Je wachtwoord is gewijzigd.')`)
	b.step("account-password-changed", "")
}
