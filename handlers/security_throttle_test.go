package handlers

import (
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
)

// The security suite: each test is an attack that worked from outside,
// turned into a check that it no longer does. These are about guessing
// secrets: how many guesses a burst gets evaluated, and that a burst from
// elsewhere does not lock the owner out.

// burst posts n forms to target at once from a copy of b's cookies (b itself
// is not touched, so the requests can run in parallel) and returns the
// status codes.
func (b *browser) burst(n int, target string, form func(i int) url.Values) []int {
	b.t.Helper()
	csrf := b.csrf()
	var cookies []*http.Cookie
	for _, c := range b.cookies {
		cookies = append(cookies, &http.Cookie{Name: c.Name, Value: c.Value})
	}
	codes := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := form(i)
			f.Set(csrfField, csrf)
			req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(f.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for _, c := range cookies {
				req.AddCookie(c)
			}
			resp, err := b.app.Test(req, -1)
			if err != nil {
				errs[i] = err
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.t.Fatalf("POST %s: %v", target, err)
		}
	}
	return codes
}

// countChecks counts the secrets of kind the services evaluate from now on.
func (ra *realApp) countChecks(kind string) *atomic.Int64 {
	var n atomic.Int64
	ra.acc.SecretChecked = func(k string) {
		if k == kind {
			n.Add(1)
		}
	}
	return &n
}

// allowance is how many guesses in a row an account gets before it waits:
// four failures are free, the fifth attempt is evaluated and starts the wait.
const allowance = 5

func TestSecurityPasswordBurstEvaluatesOnlyTheAllowance(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		ra.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, false)
		checks := ra.countChecks("password")
		codes := ra.browser(t).burst(40, pathLogin, func(int) url.Values {
			return url.Values{"email": {"jan@example.nl"}, "password": {"een verkeerd wachtwoord"}}
		})
		if n := checks.Load(); n > allowance {
			t.Errorf("40 parallel wrong passwords: %d evaluated, want at most %d", n, allowance)
		}
		if refused := countStatus(codes, http.StatusTooManyRequests); refused < 40-allowance {
			t.Errorf("%d of 40 refused with 429, want at least %d (codes %v)", refused, 40-allowance, codes)
		}
	})
}

func TestSecurityAppCodeBurstEvaluatesOnlyTheAllowance(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		ra.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, true)
		b := ra.login(t, "jan@example.nl")
		checks := ra.countChecks("totp")
		codes := b.burst(40, pathLoginFactor, func(int) url.Values {
			return url.Values{"kind": {db.FactorTOTP}, "code": {"000000"}}
		})
		if n := checks.Load(); n > allowance {
			t.Errorf("40 parallel wrong app codes: %d evaluated, want at most %d", n, allowance)
		}
		if refused := countStatus(codes, http.StatusTooManyRequests); refused < 40-allowance {
			t.Errorf("%d of 40 refused with 429, want at least %d (codes %v)", refused, 40-allowance, codes)
		}
	})
}

func TestSecuritySMSCodeBurstEvaluatesOnlyTheAllowance(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		ra.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, false)
		b := ra.login(t, "jan@example.nl")
		resp, _ := b.post(pathLoginFactor+"/sms", nil)
		wantRedirect(t, resp, pathLoginFactor)
		wrong := wrongCode(ra.lastSMSCode(t, testPhone))
		checks := ra.countChecks("sms")
		b.burst(40, pathLoginFactor, func(int) url.Values {
			return url.Values{"kind": {db.FactorSMS}, "code": {wrong}}
		})
		if n := checks.Load(); n > allowance {
			t.Errorf("40 parallel wrong SMS codes: %d evaluated, want at most %d", n, allowance)
		}
	})
}

// TestSecurityBurstDoesNotLockOutTheOwner: an attacker's burst of wrong
// passwords for an address blocks that address, but not the owner in a
// browser that completed a login before (it holds a signed device cookie
// for the account). A cookie for another account, or a forged one, does
// not help.
func TestSecurityBurstDoesNotLockOutTheOwner(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		owner := ra.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, false)
		other := ra.onboard(t, auth.InviteInput{Email: "piet@example.nl"}, false)
		device, ok := owner.b.cookies[deviceCookie]
		if !ok {
			t.Fatalf("no %s cookie after the first visit", deviceCookie)
		}
		if !device.HttpOnly || device.MaxAge < 30*24*3600 && device.Expires.IsZero() {
			t.Errorf("device cookie %+v: want HttpOnly and long-lived", device)
		}
		resp, _ := owner.b.post("/uitloggen", nil)
		wantStatus(t, resp, http.StatusSeeOther)

		attacker := ra.browser(t)
		for range 30 {
			attacker.post(pathLogin, url.Values{"email": {"jan@example.nl"}, "password": {"een verkeerd wachtwoord"}})
		}
		resp, _ = attacker.post(pathLogin, url.Values{"email": {"jan@example.nl"}, "password": {testPassword}})
		wantStatus(t, resp, http.StatusTooManyRequests)

		// Another account's device cookie and a forged one count with the
		// attacker.
		for name, value := range map[string]string{
			"other account": other.b.cookies[deviceCookie].Value,
			"forged":        device.Value[:len(device.Value)-4] + "AAAA",
		} {
			b := ra.browser(t)
			b.cookies[deviceCookie] = &http.Cookie{Name: deviceCookie, Value: value}
			resp, _ = b.post(pathLogin, url.Values{"email": {"jan@example.nl"}, "password": {testPassword}})
			if resp.StatusCode != http.StatusTooManyRequests {
				t.Errorf("%s device cookie: status %d, want 429", name, resp.StatusCode)
			}
		}

		resp, _ = owner.b.post(pathLogin, url.Values{"email": {"jan@example.nl"}, "password": {testPassword}})
		wantRedirect(t, resp, pathLoginFactor)
	})
}

func countStatus(codes []int, status int) int {
	n := 0
	for _, c := range codes {
		if c == status {
			n++
		}
	}
	return n
}

// TestSecurityPerIPLimitsOnEverySecretAndSender walks every endpoint that
// checks a secret or sends mail or SMS: from one address, after the
// endpoint's per-IP limit was used up (with one account, address or
// number, which also meets that subject's own limits), a request about
// another account, address or number is refused too.
func TestSecurityPerIPLimitsOnEverySecretAndSender(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		a := ra.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, true)
		b := ra.onboard(t, auth.InviteInput{Email: "piet@example.nl"}, true)
		factorA := ra.login(t, a.email)
		factorB := ra.login(t, b.email)
		c := ra.signUp(t, auth.InviteInput{Email: "kees@example.nl"})
		acceptTerms(t, c)
		setPassword(t, c)
		c2 := ra.signUp(t, auth.InviteInput{Email: "anna@example.nl"})
		acceptTerms(t, c2)
		setPassword(t, c2)
		anon := ra.browser(t)
		badLink := func() string {
			buf := make([]byte, 32)
			rand.Read(buf)
			return "/wachtwoord-vergeten/" + base64.RawURLEncoding.EncodeToString(buf)
		}
		status := func(resp *http.Response, _ string) int { return resp.StatusCode }

		for _, e := range []struct {
			name    string
			limit   int
			exhaust func() int // one request with the first subject
			probe   func() int // one request with another subject
		}{
			{"login code", 100,
				func() int {
					return status(factorA.post(pathLoginFactor, url.Values{"kind": {db.FactorTOTP}, "code": {"000000"}}))
				},
				func() int {
					return status(factorB.post(pathLoginFactor, url.Values{"kind": {db.FactorTOTP}, "code": {"000000"}}))
				}},
			{"set-up SMS", 20,
				func() int { return status(c.post(pathSMS, url.Values{"phone": {"0612345670"}})) },
				func() int { return status(c2.post(pathSMS, url.Values{"phone": {"0612345671"}})) }},
			{"password reset request", 10,
				func() int { return status(anon.post("/wachtwoord-vergeten", url.Values{"email": {a.email}})) },
				func() int { return status(anon.post("/wachtwoord-vergeten", url.Values{"email": {b.email}})) }},
			{"new sign-up link", 10,
				func() int {
					return status(anon.post("/aanmelden/nieuwe-link", url.Values{"email": {"kees@example.nl"}}))
				},
				func() int {
					return status(anon.post("/aanmelden/nieuwe-link", url.Values{"email": {"klaas@example.nl"}}))
				}},
			{"password reset link", 20,
				func() int { return status(anon.get(badLink())) },
				func() int { return status(anon.get(badLink())) }},
			{"account deletion password", 20,
				func() int {
					return status(a.b.post(pathAccountStop, url.Values{"password": {"een verkeerd wachtwoord"}, "confirm": {"yes"}}))
				},
				func() int {
					return status(b.b.post(pathAccountStop, url.Values{"password": {"een verkeerd wachtwoord"}, "confirm": {"yes"}}))
				}},
			{"login password", 100,
				func() int {
					return status(anon.post(pathLogin, url.Values{"email": {a.email}, "password": {"een verkeerd wachtwoord"}}))
				},
				func() int {
					return status(anon.post(pathLogin, url.Values{"email": {b.email}, "password": {"een verkeerd wachtwoord"}}))
				}},
		} {
			if got := e.exhaust(); got == http.StatusTooManyRequests {
				t.Errorf("%s: the first request was refused", e.name)
			}
			for range e.limit - 1 {
				e.exhaust()
			}
			if got := e.probe(); got != http.StatusTooManyRequests {
				t.Errorf("%s: after %d requests from one address, another subject got %d, want 429", e.name, e.limit, got)
			}
		}
	})
}
