package handlers

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
)

func TestSecurityHeaders(t *testing.T) {
	cases := []struct {
		name, path string
		status     int
		cache      string
	}{
		{"StartPage", "/", http.StatusOK, "no-store"},
		{"NotFound", "/bestaat-niet", http.StatusNotFound, "no-store"},
		{"InvalidLink", "/aanmelden/unknown", http.StatusNotFound, "no-store"},
		{"Health", "/healthz", http.StatusOK, "no-store"},
		{"OwnCSS", "/static/css/app.css", http.StatusOK, "no-cache"},
		{"VendorJS", "/static/vendor/htmx-2.0.11.min.js", http.StatusOK, "public, max-age=31536000, immutable"},
		{"MissingStatic", "/static/nope.js", http.StatusNotFound, "no-store"},
	}
	for _, base := range []string{"http://localhost:8080", "https://dialoog.example.nl"} {
		ta := newTestApp(t, withBaseURL(t, base))
		for _, tc := range cases {
			t.Run(tc.name+"/"+base[:5], func(t *testing.T) {
				resp, _ := ta.browser(t).do(http.MethodGet, tc.path, nil)
				wantStatus(t, resp, tc.status)
				checkSecurityHeaders(t, resp, strings.HasPrefix(base, "https"))
				if got := resp.Header.Get("Cache-Control"); got != tc.cache {
					t.Errorf("Cache-Control %q, want %q", got, tc.cache)
				}
			})
		}
	}
}

func checkSecurityHeaders(t *testing.T, resp *http.Response, https bool) {
	t.Helper()
	csp := resp.Header.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self';", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'", "img-src 'self' data:"} {
		if !strings.Contains(csp, d) {
			t.Errorf("CSP %q lacks %q", csp, d)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("CSP allows unsafe sources: %q", csp)
	}
	wantWS := "connect-src 'self' ws://localhost:8080"
	if https {
		wantWS = "connect-src 'self' wss://dialoog.example.nl"
	}
	if !strings.Contains(csp, wantWS) {
		t.Errorf("CSP %q lacks %q", csp, wantWS)
	}
	for h, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Referrer-Policy":        "no-referrer",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if resp.Header.Get("Permissions-Policy") == "" {
		t.Error("no Permissions-Policy")
	}
	if hsts := resp.Header.Get("Strict-Transport-Security"); https != (hsts != "") {
		t.Errorf("Strict-Transport-Security %q with https=%v", hsts, https)
	}
	if len(resp.Header.Get("X-Request-Id")) != 16 {
		t.Errorf("X-Request-Id %q", resp.Header.Get("X-Request-Id"))
	}
}

// TestSecurityHeadersOnEarlyErrors covers errors Fiber answers before any
// middleware runs, here a body over the limit. app.Test reports that error
// instead of the response, so this test talks HTTP over a real socket.
func TestSecurityHeadersOnEarlyErrors(t *testing.T) {
	ta := newTestApp(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = ta.app.Listener(ln) }()
	t.Cleanup(func() { _ = ta.app.ShutdownWithTimeout(time.Second) })

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	// Only the announced length matters: the server refuses after the
	// first few KiB (what it reads ahead of the handlers), not after
	// reading the announced body.
	fmt.Fprintf(conn, "POST /inloggen HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s", bodyLimit+1, strings.Repeat("a", 16<<10))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", resp.StatusCode)
	}
	checkSecurityHeaders(t, resp, false)
}

func TestCSRF(t *testing.T) {
	cases := []struct {
		name       string
		cookie     bool // send the CSRF cookie the app set
		field      string
		header     string
		wantCSRFOK bool
	}{
		{"NoCookieNoToken", false, "", "", false},
		{"NoCookieWithToken", false, "right", "", false},
		{"CookieNoToken", true, "", "", false},
		{"WrongFieldToken", true, "wrong", "", false},
		{"WrongHeaderToken", true, "", "wrong", false},
		{"FieldToken", true, "right", "", true},
		{"HeaderToken", true, "", "right", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ta := newTestApp(t)
			b := ta.browser(t)
			token := b.csrfToken()
			if !tc.cookie {
				b.cookies = map[string]*http.Cookie{}
			}
			resolve := func(s string) string {
				switch s {
				case "right":
					return token
				case "wrong":
					return strings.Repeat("A", len(token))
				}
				return ""
			}
			form := url.Values{"email": {"jan@example.nl"}, "password": {"geheim"}}
			if f := resolve(tc.field); f != "" {
				form.Set("_csrf", f)
			}
			var headers []string
			if h := resolve(tc.header); h != "" {
				headers = []string{"X-Csrf-Token", h}
			}
			resp, body := b.do(http.MethodPost, "/inloggen", form, headers...)
			if tc.wantCSRFOK {
				// Past CSRF, the (signed-out) login refuses the password.
				wantStatus(t, resp, http.StatusUnauthorized)
				return
			}
			wantStatus(t, resp, http.StatusForbidden)
			wantContains(t, body, "Dit formulier is verlopen")
			checkSecurityHeaders(t, resp, false)
		})
	}
}

// TestMethodsWithoutRoutes: no route takes PUT, PATCH or DELETE, so they
// are answered 405 with the methods the app does take, not 403 as a
// form that expired (which told a client nothing true), with or without
// a token.
func TestMethodsWithoutRoutes(t *testing.T) {
	ta := newTestApp(t)
	b := ta.browser(t)
	token := b.csrfToken()
	for _, method := range []string{http.MethodPut, http.MethodPatch, http.MethodDelete} {
		for _, headers := range [][]string{nil, {"X-Csrf-Token", token}} {
			resp, body := b.do(method, "/inloggen", url.Values{"email": {"jan@example.nl"}}, headers...)
			wantStatus(t, resp, http.StatusMethodNotAllowed)
			if got := resp.Header.Get("Allow"); got != "GET, HEAD, POST" {
				t.Errorf("%s: Allow %q", method, got)
			}
			wantNotContains(t, body, "Dit formulier is verlopen")
			checkSecurityHeaders(t, resp, false)
		}
	}
}

func TestCSRFCookie(t *testing.T) {
	for _, tc := range []struct{ base, name string }{
		{"http://localhost:8080", "dialoog_csrf"},
		{"https://dialoog.example.nl", "__Host-dialoog_csrf"},
	} {
		ta := newTestApp(t, withBaseURL(t, tc.base))
		resp, body := ta.browser(t).do(http.MethodGet, "/", nil)
		c := cookieNamed(resp, tc.name)
		if c == nil {
			t.Fatalf("%s: no %s cookie in %v", tc.base, tc.name, resp.Header.Values("Set-Cookie"))
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure != strings.HasPrefix(tc.base, "https") {
			t.Errorf("%s: cookie attributes %+v", tc.base, c)
		}
		// The layout exposes the same token to htmx.
		wantContains(t, body, `<meta name="csrf-token" content="`+c.Value+`">`, `hx-headers="{&#34;X-Csrf-Token&#34;:&#34;`+c.Value)
	}
}

func TestRecoverShowsGenericPage(t *testing.T) {
	ta := newTestApp(t)
	ta.app.Get("/test-panic", func(*fiber.Ctx) error { panic("secret detail 42") })
	resp, body := ta.browser(t).do(http.MethodGet, "/test-panic", nil)
	wantStatus(t, resp, http.StatusInternalServerError)
	wantContains(t, body, "Er ging bij ons iets mis", `href="/"`)
	wantNotContains(t, body, "secret detail")
	checkSecurityHeaders(t, resp, false)
	wantContains(t, ta.logs.String(), "secret detail 42", "stack=")
}

func TestAccessLogHidesTokens(t *testing.T) {
	ta := newTestApp(t)
	b := ta.browser(t)
	token := b.csrfToken()
	resp, _ := b.do(http.MethodGet, "/aanmelden/tok-valid", nil)
	b.do(http.MethodPost, "/aanmelden/tok-valid", url.Values{"_csrf": {token}})
	b.do(http.MethodGet, "/aanmelden/nieuwe-link", nil)
	logs := ta.logs.String()
	wantNotContains(t, logs, "tok-valid", token)
	wantContains(t, logs,
		`path=/aanmelden/:token status=200`,
		`path=/aanmelden/:token status=303`,
		`path=/aanmelden/nieuwe-link status=200`,
		"request_id="+resp.Header.Get("X-Request-Id"),
		"method=GET", "duration=",
	)
}

// TestAccessLogHidesTokensInAnyCase: routing ignores the case of a path,
// so a link typed or rewritten with capitals still works; its token must
// not reach the log either.
func TestAccessLogHidesTokensInAnyCase(t *testing.T) {
	ta := newTestApp(t)
	b := ta.browser(t)
	b.do(http.MethodGet, "/AANMELDEN/tok-valid", nil)
	resp, _ := b.do(http.MethodGet, "/Aanmelden/tok-valid", nil)
	wantStatus(t, resp, http.StatusOK)
	logs := ta.logs.String()
	wantNotContains(t, logs, "tok-valid")
	wantContains(t, logs, `path=/aanmelden/:token status=200`)
	for _, p := range []string{"/Wachtwoord-Vergeten/tok-reset", "/HERSTEL/tok-helpdesk", "/Eerste-Beheerder/tok-setup"} {
		if got := logPath(p); strings.Contains(got, "tok-") {
			t.Errorf("logPath(%q) = %q", p, got)
		}
	}
	if got := logPath("/Aanmelden/Nieuwe-Link"); got != "/Aanmelden/Nieuwe-Link" {
		t.Errorf("logPath of the public page = %q", got)
	}
}

func TestStaticFiles(t *testing.T) {
	ta := newTestApp(t)
	b := ta.browser(t)

	resp, body := b.do(http.MethodGet, "/static/css/app.css", nil)
	wantStatus(t, resp, http.StatusOK)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type %q", ct)
	}
	if !strings.Contains(body, ":focus-visible") {
		t.Error("app.css has no focus style")
	}
	etag := resp.Header.Get("ETag")
	resp, _ = b.do(http.MethodGet, "/static/css/app.css", nil, "If-None-Match", etag)
	wantStatus(t, resp, http.StatusNotModified)

	// No directory listings or path tricks: only embedded files exist.
	for _, p := range []string{"/static/", "/static/vendor", "/static/../handlers.go", "/static/vendor/README.md"} {
		resp, _ = b.do(http.MethodGet, p, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", p, resp.StatusCode)
		}
	}
	// Static files set no cookies.
	if c := resp.Header.Values("Set-Cookie"); len(c) > 0 {
		t.Errorf("static response sets cookies: %v", c)
	}
}

// TestLayoutAssetsExist checks every /static/ reference of the layout
// against the embedded files.
func TestLayoutAssetsExist(t *testing.T) {
	ta := newTestApp(t)
	b := ta.browser(t)
	_, body := b.do(http.MethodGet, "/", nil)
	refs := regexp.MustCompile(`(?:src|href)="(/static/[^"]+)"`).FindAllStringSubmatch(body, -1)
	if len(refs) < 4 {
		t.Fatalf("expected css, htmx, ws extension and app.js, got %v", refs)
	}
	for _, r := range refs {
		resp, _ := b.do(http.MethodGet, r[1], nil)
		wantStatus(t, resp, http.StatusOK)
	}
	wantNotContains(t, body, "<style", " style=", "<script>", "onclick", "javascript:")
}

// TestDeadSessionCookie: a page load with the cookie of an ended session
// removes the cookie; a background htmx request does not, because the
// browser may meanwhile hold the new cookie of the step that ended it (the
// password check fired while the password form was being sent).
func TestDeadSessionCookie(t *testing.T) {
	ra := newRealApp(t)
	u := ra.storeUser(t, "jan@example.nl", false, "Jan", "", "Berg", "nl")
	token := ra.sessionToken(t, u)
	if err := ra.acc.Sessions.End(context.Background(), token); err != nil {
		t.Fatal(err)
	}
	cleared := func(headers ...string) bool {
		req := httptest.NewRequest(http.MethodGet, "/inloggen", nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: token})
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := ra.app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for _, c := range resp.Cookies() {
			if c.Name == sessionCookie && (c.MaxAge < 0 || c.Value == "") {
				return true
			}
		}
		return false
	}
	if !cleared() {
		t.Error("a page load kept the dead session cookie")
	}
	if cleared("HX-Request", "true") {
		t.Error("a background htmx request cleared the session cookie")
	}
}
