package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestSessionIdleWarning: before a session ends for being idle, the page
// asks how long it has left (GET /sessie, which is no activity: asking
// every minute would keep the session alive for ever) and warns; "Ingelogd
// blijven" (POST /sessie/verlengen) restarts the idle timer. A page of a
// signed-in person tells its script the idle time; a page without a
// session does not.
func TestSessionIdleWarning(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		la := newRealAppOn(t, d)
		emp := la.person(t, "jan@example.nl", false, "Jan", "", "Berg", "nl")
		var ended bool // of the last answer
		remaining := func(b *browser) int {
			t.Helper()
			resp, body := b.get(pathSessionState)
			wantStatus(t, resp, http.StatusOK)
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("GET %s: content type %q", pathSessionState, ct)
			}
			if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
				t.Fatalf("GET %s: Cache-Control %q, want no-store", pathSessionState, cc)
			}
			var state struct {
				Remaining *int `json:"remaining"`
				Ended     bool `json:"ended"`
			}
			if err := json.Unmarshal([]byte(body), &state); err != nil || state.Remaining == nil {
				t.Fatalf("GET %s: %q (%v)", pathSessionState, body, err)
			}
			ended = state.Ended
			return *state.Remaining
		}

		resp, body := emp.b.get(pathInbox)
		wantStatus(t, resp, http.StatusOK)
		if want := `data-session-idle="1800" data-session-ends="43200"`; !strings.Contains(body, want) {
			t.Fatalf("the inbox page does not tell its script the idle time and the absolute end (%s)", want)
		}
		if got := remaining(emp.b); got != 1800 {
			t.Fatalf("just after a page: %d s left, want 1800", got)
		}

		// Asking is no activity.
		for i := 0; i < 27; i++ {
			la.clk.Add(time.Minute)
			remaining(emp.b)
		}
		if got := remaining(emp.b); got != 180 {
			t.Fatalf("after 27 minutes of asking: %d s left, want 180", got)
		}

		// "Ingelogd blijven" without the CSRF token is refused; with it the
		// session has its full idle time again.
		resp, _ = emp.b.do(http.MethodPost, pathSessionExtend, url.Values{"_csrf": {"nope"}})
		wantStatus(t, resp, http.StatusForbidden)
		resp, body = emp.b.post(pathSessionExtend, nil, "Accept", "application/json")
		wantStatus(t, resp, http.StatusOK)
		if !strings.Contains(body, `"remaining":1800`) {
			t.Fatalf("POST %s: %q, want 1800 s left", pathSessionExtend, body)
		}
		la.clk.Add(20 * time.Minute)
		if got := remaining(emp.b); got != 600 {
			t.Fatalf("20 minutes after extending: %d s left, want 600", got)
		}
		resp, body = emp.b.get(pathInbox)
		wantStatus(t, resp, http.StatusOK)
		if want := `data-session-ends="40380"`; !strings.Contains(body, want) { // 12 h less 47 minutes
			t.Fatalf("40 minutes on, the page does not say %s", want)
		}

		// Past the idle end nothing is left, and extending is too late:
		// the page is sent to the login page.
		la.clk.Add(auth.SessionIdle)
		if got := remaining(emp.b); got != 0 || ended {
			t.Fatalf("idle for 30 minutes: %d s left, ended %v; want 0, lapsed (not ended)", got, ended)
		}
		resp, _ = emp.b.post(pathSessionExtend, nil, "Accept", "application/json")
		wantStatus(t, resp, http.StatusUnauthorized)
		resp, _ = emp.b.get(pathInbox)
		wantRedirect(t, resp, pathLogin)

		// Signed out: nothing left, and the login page names no idle time.
		anon := la.browser(t)
		if got := remaining(anon); got != 0 || !ended {
			t.Fatalf("without a session: %d s left, ended %v; want 0, ended", got, ended)
		}
		// Ended by a logout (here, or "afmelden" elsewhere): ended.
		boss := la.person(t, "baas@example.nl", true, "Bea", "", "Baas", "nl")
		if got := remaining(boss.b); got == 0 || ended {
			t.Fatalf("a live session: %d s left, ended %v", got, ended)
		}
		if err := la.acc.Sessions.End(context.Background(), boss.b.session()); err != nil {
			t.Fatal(err)
		}
		if got := remaining(boss.b); got != 0 || !ended {
			t.Fatalf("after its end: %d s left, ended %v; want 0, ended", got, ended)
		}
		resp, body = anon.get(pathLogin)
		wantStatus(t, resp, http.StatusOK)
		if strings.Contains(body, "data-session-idle") {
			t.Fatal("the login page of someone signed out names an idle time")
		}
		resp, _ = anon.post(pathSessionExtend, nil, "Accept", "application/json")
		wantStatus(t, resp, http.StatusUnauthorized)
	})
}

// TestLoginAfterIdleEnd: the page that left because its session ended
// goes to the login page, which says why: 30 minutes idle, 12 hours
// logged in, or a session ended elsewhere.
func TestLoginAfterIdleEnd(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		la := newRealAppOn(t, d)
		for _, c := range []struct{ query, lang, want string }{
			{"?verlopen=1", "nl", "omdat je 30 minuten niets hebt gedaan"},
			{"?verlopen=1", "en", "because you did nothing for 30 minutes"},
			{"?verlopen=12", "nl", "omdat je 12 uur ingelogd was"},
			{"?verlopen=12", "en", "because you had been logged in for 12 hours"},
			{"?afgemeld=1", "nl", "omdat deze sessie is beëindigd"},
			{"?afgemeld=1", "en", "because this session was ended"},
		} {
			b := la.browser(t)
			resp, body := b.get(pathLogin+c.query, "Accept-Language", c.lang)
			wantStatus(t, resp, http.StatusOK)
			if !strings.Contains(body, c.want) {
				t.Fatalf("%s %s: the login page does not say %q", c.query, c.lang, c.want)
			}
			_, body = b.get(pathLogin, "Accept-Language", c.lang)
			if strings.Contains(body, c.want) {
				t.Fatalf("%s: the plain login page says %q", c.lang, c.want)
			}
		}
	})
}
