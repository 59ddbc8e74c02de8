package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
)

// tab is another tab of b: the same cookies, as sent with a request
// before either tab's answer came back.
func (b *browser) tab() *browser {
	c := &browser{t: b.t, app: b.app, cookies: map[string]*http.Cookie{}}
	for k, v := range b.cookies {
		cp := *v
		c.cookies[k] = &cp
	}
	return c
}

// TestFirstVisitStepInTwoTabs, on both engines: the password step sent from two tabs at the same moment goes
// through once; the other tab is told, in the person's language, that the
// step is no longer next (never a server error), and the session of the
// tab that went through goes on. Before, both went through, and the
// second rotated the session under the first.
func TestFirstVisitStepInTwoTabs(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		for i, email := range []string{"jan@osaw.nl", "piet@osaw.nl", "kees@osaw.nl"} {
			b := ra.signUp(t, auth.InviteInput{Email: email})
			acceptTerms(t, b)
			tabs := []*browser{b, b.tab()}
			answers := atOnce(t, tabs, pathPassword, url.Values{"password": {testPassword}, "confirm": {testPassword}})
			done := -1
			for j, a := range answers {
				switch a.status {
				case http.StatusSeeOther:
					// A tab whose request came in after the other tab's
					// step rotated the session carries a dead cookie and is
					// sent to the login (in a browser, whose tabs share
					// the cookie, it would send the new one).
					if a.location == pathLogin {
						continue
					}
					if done >= 0 {
						t.Fatalf("%d: both tabs set the password", i)
					}
					done = j
				case http.StatusConflict:
					if !strings.Contains(a.body, "Deze stap is nu niet aan de beurt.") {
						t.Fatalf("%d: a refusal without its message:\n%s", i, a.body)
					}
				default:
					t.Fatalf("%d: status %d", i, a.status)
				}
			}
			if done < 0 {
				t.Fatalf("%d: no tab set the password", i)
			}
			if n := ra.count(t, (*db.AuditEvent)(nil), "kind = ? AND user_id = (SELECT id FROM users WHERE email = ?)", "password.set", email); n != 1 {
				t.Fatalf("%d: password set %d times", i, n)
			}
			resp, _ := tabs[done].get("/stap")
			wantRedirect(t, resp, pathSMS)
		}
	})
}
