package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/i18n"
)

// TestSetupTextCapPageSaysWhen, on both engines: someone who had the most
// setup texts sent from 20:00 in Amsterdam and tries again at 00:30 is not
// told "try again tomorrow" (it is tomorrow, and the cap counts the last 24
// hours) but how long to wait, with the typed number kept.
func TestSetupTextCapPageSaysWhen(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		ra.clk.Add(time.Date(2026, 2, 23, 20, 0, 0, 0, i18n.Zone).Sub(ra.clk.Now()))
		b := ra.signUp(t, auth.InviteInput{Email: "pomp@example.nl"})
		acceptTerms(t, b)
		setPassword(t, b)
		for i := range auth.SMSSetupPerDay {
			resp, _ := b.post(pathSMS, url.Values{"phone": {fmt.Sprintf("06123400%02d", i)}})
			wantRedirect(t, resp, pathSMS)
			ra.clk.Add(time.Minute)
		}
		// The evening passes with the page open (an idle session ends).
		for until := time.Date(2026, 2, 24, 0, 30, 0, 0, i18n.Zone); ra.clk.Now().Before(until); {
			ra.clk.Add(min(20*time.Minute, until.Sub(ra.clk.Now())))
			resp, _ := b.get(pathSMS)
			wantStatus(t, resp, http.StatusOK)
		}
		resp, page := b.post(pathSMS, url.Values{"phone": {"0687650000"}})
		wantStatus(t, resp, http.StatusTooManyRequests)
		wantContains(t, page, "in de afgelopen 24 uur", "Probeer het over 20 uur opnieuw", `value="0687650000"`)
		wantNotContains(t, page, "morgen")
	})
}
