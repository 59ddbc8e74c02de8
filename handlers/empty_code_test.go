package handlers

import (
	"net/http"
	"net/url"
	"testing"

	"dialoog/auth"
)

// TestEmptyCodeIsNoTry: pressing the button before the text arrived (an
// empty code field) asks for the code and costs none of the code's tries
// and no waiting: the code that then arrives still works, at the first
// visit and at a login, in the user's language.
func TestEmptyCodeIsNoTry(t *testing.T) {
	ra := newRealApp(t)
	b := ra.signUp(t, auth.InviteInput{Email: "jan@example.nl", Language: "en"})
	acceptTerms(t, b)
	setPassword(t, b)
	resp, _ := b.post(pathSMS, url.Values{"phone": {testPhone}})
	wantRedirect(t, resp, pathSMS)
	for range 6 {
		resp, page := b.post(pathSMS+"/code", url.Values{"code": {" "}}, "HX-Request", "true")
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, "Enter the code.")
		wantNotContains(t, page, "This code is not correct")
	}
	resp, _ = b.post(pathSMS+"/code", url.Values{"code": {ra.lastSMSCode(t, testPhone)}})
	wantRedirect(t, resp, pathApp)
	resp, _ = b.post(pathApp+"/overslaan", nil)
	wantRedirect(t, resp, pathRecovery)
	storeRecoveryCodes(t, b)
	saveProfile(t, b)

	lb := ra.login(t, "jan@example.nl")
	resp, _ = lb.post(pathLoginFactor+"/sms", nil)
	wantRedirect(t, resp, pathLoginFactor)
	for range 6 {
		resp, page := lb.post(pathLoginFactor, url.Values{"kind": {"sms"}, "code": {""}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, "Enter the code.")
	}
	resp, _ = lb.post(pathLoginFactor, url.Values{"kind": {"sms"}, "code": {ra.lastSMSCode(t, testPhone)}})
	wantRedirect(t, resp, pathInbox)
}
