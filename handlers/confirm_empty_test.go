package handlers

import (
	"net/http"
	"net/url"
	"testing"

	"dialoog/auth"
	"dialoog/db"
)

// TestConfirmWithoutPassword: "confirm it is you" and "Account
// verwijderen" pressed with the password field empty ask for the password
// instead of saying it is wrong, in the user's language, and delete
// nothing.
func TestConfirmWithoutPassword(t *testing.T) {
	ra := newRealApp(t)
	acc := ra.onboard(t, auth.InviteInput{Email: "jan@example.nl", Language: "en"}, false)
	for _, hx := range [][]string{nil, {"HX-Request", "true"}} {
		resp, page := acc.b.post(pathConfirm, url.Values{"next": {pathFactors}, "kind": {"password"}, "password": {""}}, hx...)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, "Enter your password.")
		wantNotContains(t, page, "The password is not correct.")

		resp, page = acc.b.post(pathAccountStop, url.Values{"password": {""}, "confirm": {"yes"}}, hx...)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, "Enter your password.")
		wantNotContains(t, page, "The password is not correct.")
	}
	if n := ra.count(t, (*db.User)(nil), "email = ?", acc.email); n != 1 {
		t.Fatal("the account is gone")
	}
}
