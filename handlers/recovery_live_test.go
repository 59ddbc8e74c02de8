package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	fws "github.com/fasthttp/websocket"

	"dialoog/auth"
)

// TestNewFactorEndsOtherSessions: after a recovery code and a new factor,
// every other session of the person ends at once: an older browser can no
// longer read the box, and its open live connection is closed (1008), not
// left to the session sweep.
func TestNewFactorEndsOtherSessions(t *testing.T) {
	la := newLiveApp(t)
	acc := la.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, false)
	u := la.userByEmail(t, "jan@example.nl")
	older := acc.b
	resp, _ := older.get(pathInbox)
	wantStatus(t, resp, http.StatusOK)
	conn := la.connect(t, u, older.session())

	b := la.login(t, "jan@example.nl")
	resp, _ = b.post(pathLoginFactor, url.Values{"kind": {"recovery"}, "code": {acc.recoveryCodes[0]}})
	wantRedirect(t, resp, pathRecoveryUsed)
	// Logging in with a recovery code alone ends nothing.
	resp, _ = older.get(pathInbox)
	wantStatus(t, resp, http.StatusOK)

	resp, _ = b.post(pathSMS, url.Values{"phone": {"0687654321"}})
	wantRedirect(t, resp, pathSMS)
	resp, _ = b.post(pathSMS+"/code", url.Values{"code": {la.lastSMSCode(t, "+31687654321")}})
	wantRedirect(t, resp, pathInbox)

	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := conn.ReadMessage()
		if err == nil {
			continue
		}
		var ce *fws.CloseError
		if !errors.As(err, &ce) || ce.Code != fws.ClosePolicyViolation {
			t.Fatalf("older session's socket after the new factor: %v, want close 1008", err)
		}
		break
	}
	resp, _ = older.get(pathInbox)
	wantRedirect(t, resp, pathLogin)
	resp, _ = b.get(pathInbox)
	wantStatus(t, resp, http.StatusOK)
}
