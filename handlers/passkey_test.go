package handlers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
)

// withPasskeys offers passkeys on the test app's base URL.
func withPasskeys(t *testing.T) func(*Deps) {
	return func(deps *Deps) {
		pk, err := auth.NewPasskeys(deps.Accounts.(*auth.Accounts), testBase, "Dialoog")
		if err != nil {
			t.Fatal(err)
		}
		deps.Passkeys = pk
	}
}

// TestPasskeyOverHTTP: the login page offers the passkey (a hidden block
// the script shows, and the address field's autofill); the options need
// the CSRF token and bind the challenge to the browser by a cookie; a bad
// answer shows the login page with one message; adding a passkey under
// "Tweede stap beheren" needs the confirmation, and another person's or an
// unknown passkey is 404.
func TestPasskeyOverHTTP(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d, withPasskeys(t))
		b := ra.browser(t)

		resp, page := b.get(pathLogin)
		wantStatus(t, resp, http.StatusOK)
		wantContains(t, page, `autocomplete="username webauthn"`, `data-passkey="get"`, `data-options="/inloggen/passkey/opties"`,
			"Inloggen met passkey", `src="/static/js/passkey.js"`)

		resp, _ = b.do(http.MethodPost, pathPasskeyLogin+"/opties", url.Values{})
		wantStatus(t, resp, http.StatusForbidden)
		resp, body := b.do(http.MethodPost, pathPasskeyLogin+"/opties", nil, "X-Csrf-Token", b.csrf())
		wantStatus(t, resp, http.StatusOK)
		var opts struct {
			PublicKey struct {
				Challenge        string `json:"challenge"`
				RPID             string `json:"rpId"`
				UserVerification string `json:"userVerification"`
			} `json:"publicKey"`
		}
		if err := json.Unmarshal([]byte(body), &opts); err != nil || opts.PublicKey.Challenge == "" ||
			opts.PublicKey.RPID != "dialoog.test" || opts.PublicKey.UserVerification != "required" {
			t.Fatalf("options %s (%v)", body, err)
		}
		if _, ok := b.cookies[passkeyCookie]; !ok {
			t.Fatal("no cookie binds the challenge to the browser")
		}
		resp, page = b.post(pathPasskeyLogin, url.Values{"credential": {`{"id":"x"}`}})
		wantStatus(t, resp, http.StatusUnauthorized)
		wantContains(t, page, "De passkey is niet geaccepteerd.")
		if b.session() != "" {
			t.Fatal("a refused passkey left a session")
		}

		acc := ra.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, false)
		resp, body = acc.b.do(http.MethodPost, pathFactors+"/passkey/opties", nil, "X-Csrf-Token", acc.b.csrf())
		wantStatus(t, resp, http.StatusForbidden)
		wantContains(t, body, `"error":"Bevestig eerst dat jij het bent.`)
		resp, _ = acc.b.post(pathConfirm, url.Values{"next": {pathFactors}, "kind": {"password"}, "password": {testPassword}})
		wantRedirect(t, resp, pathFactors+"?melding=bevestigd")
		_, page = acc.b.get(pathFactors)
		wantContains(t, page, "Passkey (vingerafdruk, gezicht of beveiligingssleutel)", `data-passkey="create"`,
			`data-options="/account/tweede-stap/passkey/opties"`, `name="name"`)
		resp, body = acc.b.do(http.MethodPost, pathFactors+"/passkey/opties", nil, "X-Csrf-Token", acc.b.csrf())
		wantStatus(t, resp, http.StatusOK)
		wantContains(t, body, `"residentKey":"preferred"`, `"userVerification":"required"`, `"attestation":"none"`)
		resp, page = acc.b.post(pathFactors+"/passkey", url.Values{"name": {"Telefoon"}, "credential": {`{}`}})
		wantStatus(t, resp, http.StatusUnauthorized)
		wantContains(t, page, "De passkey is niet geaccepteerd.")
		resp, _ = acc.b.post(pathFactors+"/passkey/99999/verwijderen", nil)
		wantStatus(t, resp, http.StatusNotFound)
	})
}
