package handlers

import (
	"net/http"
	"net/url"
	"testing"

	"dialoog/auth"
)

// TestAppQRCodeShownElsewhere: when the app page was opened in another
// session meanwhile (the phone, after the laptop), the laptop's QR code no
// longer links: the code from it is refused with a message that says so
// and asks to scan the new QR code the page then shows, not one about an
// SMS code that was never asked for; in the user's language.
func TestAppQRCodeShownElsewhere(t *testing.T) {
	ra := newRealApp(t)
	acc := ra.onboard(t, auth.InviteInput{Email: "jan@example.nl", Language: "en"}, false)
	laptop := acc.b
	phone := ra.fullLogin(t, acc.email, testPassword, testPhone)
	for _, b := range []*browser{laptop, phone} {
		resp, _ := b.post(pathConfirm, url.Values{"next": {pathFactors}, "kind": {"password"}, "password": {testPassword}})
		wantRedirect(t, resp, pathFactors+"?melding=bevestigd")
	}
	_, page := laptop.get(pathFactorApp)
	scanned := appSecret(t, page)
	resp, _ := phone.get(pathFactorApp)
	wantStatus(t, resp, http.StatusOK)

	resp, page = laptop.post(pathFactorApp, url.Values{"code": {totp(t, scanned, ra.clk.Now())}}, "HX-Request", "true")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, "This QR code is no longer valid")
	wantNotContains(t, page, "No code has been sent yet")
	if appSecret(t, page) == scanned {
		t.Fatal("the page shows the old QR code again")
	}
}
