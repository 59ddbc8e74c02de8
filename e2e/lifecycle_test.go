package e2e

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	htmlLangNL = regexp.MustCompile(`(?is)<html[^>]*\slang="nl"`)
	// signupButton finds the sign-up button in HTML; CSS may print its
	// label in capitals, so the case is not checked here (the browser test
	// checks what a person sees).
	signupButton = regexp.MustCompile(`(?is)<button[^>]*>(\s|<[^>]*>)*aanmelden(\s|<[^>]*>)*</button>|<input[^>]*type="submit"[^>]*value="aanmelden"`)
)

func TestServerLifecycle(t *testing.T) {
	s := startServer(t, nil)

	for _, path := range []string{"/healthz", "/readyz"} {
		resp, body := httpGet(t, s.BaseURL+path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s, want 200 OK; body: %q", path, resp.Status, body)
		}
	}

	t.Run("home page", func(t *testing.T) {
		resp, body := httpGet(t, s.BaseURL+"/")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET / ended at %s with %s, want 200", resp.Request.URL, resp.Status)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("GET /: Content-Type %q, want text/html", ct)
		}
		if !htmlLangNL.MatchString(body) {
			t.Errorf("GET / (%s) is not a Dutch page: no <html lang=\"nl\">", resp.Request.URL)
		}
		if !strings.Contains(body, "Dialoog") {
			t.Errorf("GET / (%s) does not mention Dialoog", resp.Request.URL)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		if csp == "" {
			t.Errorf("GET /: no Content-Security-Policy header")
		}
		for _, unsafe := range []string{"'unsafe-inline'", "'unsafe-eval'"} {
			if strings.Contains(csp, unsafe) {
				t.Errorf("GET /: Content-Security-Policy allows %s: %q", unsafe, csp)
			}
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET /: X-Content-Type-Options %q, want nosniff", got)
		}
	})

	t.Run("invite", func(t *testing.T) {
		const bad = "jan.jansen.example.nl" // no @
		res := runCLI(t, s.env, "invite", "--email", bad)
		if res.Code == 0 {
			t.Errorf("dialoog invite --email %s exited 0, want an error\nstdout:\n%s", bad, res.Stdout)
		}
		if !strings.Contains(strings.ToLower(res.Stderr), "mail address") {
			t.Errorf("dialoog invite --email %s: stderr %q does not say that the mail address is invalid", bad, res.Stderr)
		}
		if strings.Contains(res.Stdout, "Sign-up link") {
			t.Errorf("dialoog invite --email %s printed a sign-up link:\n%s", bad, res.Stdout)
		}

		const good = "jan.jansen@example.nl"
		link := s.Invite(t, good)
		if !strings.HasPrefix(link, s.BaseURL+"/aanmelden/") {
			t.Errorf("invite link %q does not start with %s/aanmelden/", link, s.BaseURL)
		}
		resp, body := httpGet(t, link)
		if resp.StatusCode != http.StatusOK || !signupButton.MatchString(body) {
			t.Errorf("GET invite link: %s, want 200 with an AANMELDEN button", resp.Status)
		}

		// The dev outbox shows every queued mail: the good address gets its
		// invitation, the bad one nothing, so no user was made for it.
		outbox := waitForBody(t, s.BaseURL+"/dev/outbox", good, 15*time.Second)
		if strings.Contains(outbox, bad) {
			t.Errorf("the dev outbox mentions %s, for which invite failed", bad)
		}
	})

	t.Run("malformed base URL", func(t *testing.T) {
		env := append(append([]string(nil), s.env...),
			"DIALOOG_BASE_URL=dialoog.example.nl", // no scheme
			"DIALOOG_ADDR="+freeAddr(t),
			"DIALOOG_DATA_DIR="+t.TempDir(),
		)
		res := runCLI(t, env)
		if res.Code == 0 {
			t.Errorf("dialoog with DIALOOG_BASE_URL=dialoog.example.nl exited 0, want an error")
		}
		if !strings.Contains(res.Stderr, "DIALOOG_BASE_URL") {
			t.Errorf("the error does not name DIALOOG_BASE_URL; stderr: %q", res.Stderr)
		}
	})
}

// waitForBody polls url until its body contains want and returns that body;
// it fails the test after timeout.
func waitForBody(t *testing.T, url, want string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp, body := httpGet(t, url)
		if resp.StatusCode == http.StatusOK && strings.Contains(body, want) {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %s, no %q within %s; body: %.2000s", url, resp.Status, want, timeout, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
