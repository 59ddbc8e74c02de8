package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"dialoog/auth"
	"dialoog/db"
)

// TestAccountStopReauthThrottled: the password check before stopping with
// Dialoog is throttled per account like a login and audited: thirty quick
// guesses are not all checked, and each checked one leaves a trace.
func TestAccountStopReauthThrottled(t *testing.T) {
	ra := newRealApp(t)
	acc := ra.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, false)
	refused := 0
	for i := range 30 {
		resp, page := acc.b.post(pathAccountStop, url.Values{"password": {"geraden wachtwoord " + strconv.Itoa(i)}, "confirm": {"yes"}})
		switch resp.StatusCode {
		case http.StatusTooManyRequests:
			refused++
			wantContains(t, page, "Probeer het over")
		case http.StatusUnprocessableEntity:
			wantContains(t, page, "Het wachtwoord klopt niet.")
		default:
			t.Fatalf("guess %d: status %d", i, resp.StatusCode)
		}
	}
	if refused < 20 {
		t.Fatalf("only %d of 30 guesses refused without a check", refused)
	}
	ctx := context.Background()
	failed, err := ra.d.NewSelect().Model((*db.AuditEvent)(nil)).Where("kind = ?", "reauth.failed").Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if failed < 5 || failed > 10 {
		t.Fatalf("%d failed re-authentications audited", failed)
	}
	// Still blocked: even the right password waits.
	resp, _ := acc.b.post(pathAccountStop, url.Values{"password": {testPassword}, "confirm": {"yes"}})
	wantStatus(t, resp, http.StatusTooManyRequests)
	// An hour later (the per-address limit too), the session kept alive.
	for range 4 {
		ra.clk.Add(16 * time.Minute)
		resp, _ = acc.b.get(pathInbox)
		wantStatus(t, resp, http.StatusOK)
	}
	resp, _ = acc.b.post(pathAccountStop, url.Values{"password": {testPassword}, "confirm": {"yes"}})
	wantRedirect(t, resp, pathAfterAccountGone)
}
