package handlers

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/components"
	"dialoog/config"
)

// fakeInvitations is an in-memory Invitations: links is the set of usable
// tokens; Accept consumes one.
type fakeInvitations struct {
	mu         sync.Mutex
	links      map[string]InvitationInfo
	checks     int
	accepts    int
	requested  []string // addresses RequestNewLink accepted
	newLinkErr error    // returned by RequestNewLink when set
}

var _ Invitations = (*fakeInvitations)(nil)

func (f *fakeInvitations) Check(_ context.Context, token string) (InvitationInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checks++
	info, ok := f.links[token]
	if !ok {
		return InvitationInfo{}, apperr.New(apperr.NotFound, "error.not_found")
	}
	return info, nil
}

func (f *fakeInvitations) Accept(_ context.Context, token, ip, userAgent, _ string) (string, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.accepts++
	if _, ok := f.links[token]; !ok {
		return "", "", apperr.New(apperr.NotFound, "error.not_found")
	}
	delete(f.links, token)
	return "session-" + token, "terms", nil
}

func (f *fakeInvitations) IsFor(context.Context, string, int64) (bool, error) { return false, nil }

func (f *fakeInvitations) RequestNewLink(_ context.Context, email, ip, lang string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.newLinkErr != nil {
		return f.newLinkErr
	}
	if !strings.Contains(email, "@") || strings.ContainsAny(email, " <>\"") {
		return apperr.Field("email", "email.invalid")
	}
	f.requested = append(f.requested, email)
	return nil
}

func (f *fakeInvitations) counts() (checks, accepts int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.checks, f.accepts
}

// signedOut is the Accounts of the tests with fake invitations: no session
// resolves and no login succeeds. The tests never reach its other methods
// (the embedded nil interface would panic).
type signedOut struct{ Accounts }

func (signedOut) Resolve(context.Context, string) (*auth.Current, error) {
	return nil, apperr.New(apperr.Unauthorized, "session.expired")
}

func (signedOut) LoginOnDevice(context.Context, string, string, string, string, string) (*auth.LoginResult, error) {
	return nil, apperr.New(apperr.Unauthorized, "login.failed")
}

type noSessions struct{}

func (noSessions) End(context.Context, string) error { return nil }

func (noSessions) KeepAlive(context.Context, int64) (time.Time, error) {
	return time.Time{}, apperr.New(apperr.Unauthorized, "session.expired")
}

func (noSessions) Remaining(context.Context, string) (time.Duration, bool, error) {
	return 0, true, nil
}

func (noSessions) Extend(context.Context, int64) (time.Duration, error) {
	return 0, apperr.New(apperr.Unauthorized, "session.expired")
}

func (noSessions) Lapsed(context.Context, string) (int64, error) {
	return 0, apperr.New(apperr.Unauthorized, "session.expired")
}

type noTerms struct{ Terms }

// noMessages is the Messages of the tests with fake invitations, which
// never sign anyone in; the embedded nil interface would panic if reached.
type noMessages struct{ Messages }

// pinger adapts a function to Pinger.
type pinger func(ctx context.Context) error

func (p pinger) PingContext(ctx context.Context) error { return p(ctx) }

// fakeOutbox returns fixed items.
type fakeOutbox []components.DevOutboxItem

func (o fakeOutbox) List(_ context.Context, limit int) ([]components.DevOutboxItem, error) {
	return o[:min(limit, len(o))], nil
}

func testConfig(t testing.TB, baseURL string) *config.Config {
	t.Helper()
	u, err := url.Parse(baseURL)
	if err != nil {
		t.Fatal(err)
	}
	return &config.Config{Addr: ":0", BaseURL: u, DataDir: t.TempDir(), OrgName: "Demo"}
}

// testApp holds an app and the fakes behind it.
type testApp struct {
	app  *fiber.App
	inv  *fakeInvitations
	logs *bytes.Buffer
}

type option func(*Deps)

func withBaseURL(t *testing.T, u string) option {
	return func(d *Deps) { d.Config = testConfig(t, u) }
}

func withDev(outbox DevOutbox) option {
	return func(d *Deps) { d.Config.Dev = true; d.DevOutbox = outbox }
}

func withHealth(p Pinger) option { return func(d *Deps) { d.Health = p } }

func newTestApp(t *testing.T, opts ...option) *testApp {
	t.Helper()
	inv := &fakeInvitations{links: map[string]InvitationInfo{
		"tok-valid": {Email: "jan@example.nl", OrgName: "OSAW", ExpiresAt: time.Now().Add(7 * 24 * time.Hour)},
	}}
	var logs bytes.Buffer
	deps := Deps{
		Config:      testConfig(t, "http://localhost:8080"),
		Logger:      slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Health:      pinger(func(context.Context) error { return nil }),
		Invitations: inv,
		Accounts:    signedOut{},
		Sessions:    noSessions{},
		Terms:       noTerms{},
		Messages:    noMessages{},
	}
	for _, o := range opts {
		o(&deps)
	}
	return &testApp{app: New(deps), inv: inv, logs: &logs}
}

// browser sends requests to the app and keeps the cookies it sets, like a
// browser on one host would (ignoring Secure, as app.Test speaks plain HTTP).
type browser struct {
	t       *testing.T
	app     *fiber.App
	cookies map[string]*http.Cookie
}

func (ta *testApp) browser(t *testing.T) *browser {
	return &browser{t: t, app: ta.app, cookies: map[string]*http.Cookie{}}
}

// do sends a request; form, when not nil, is posted url-encoded; headers are
// name/value pairs.
func (b *browser) do(method, target string, form url.Values, headers ...string) (*http.Response, string) {
	b.t.Helper()
	if form != nil {
		return b.doRaw(method, target, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), headers...)
	}
	return b.doRaw(method, target, "", nil, headers...)
}

// doRaw sends a request with any body; contentType "" sends none.
func (b *browser) doRaw(method, target, contentType string, body io.Reader, headers ...string) (*http.Response, string) {
	b.t.Helper()
	req := httptest.NewRequest(method, target, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	for _, c := range b.cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := b.app.Test(req, -1)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	buf, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("%s %s: read body: %v", method, target, err)
	}
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 || (!c.Expires.IsZero() && c.Expires.Before(time.Now())) {
			delete(b.cookies, c.Name)
			continue
		}
		b.cookies[c.Name] = c
	}
	return resp, string(buf)
}

var csrfFieldPattern = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// formToken returns the CSRF token of the first form in body.
func formToken(t *testing.T, body string) string {
	t.Helper()
	m := csrfFieldPattern.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no _csrf field in page:\n%s", body)
	}
	return m[1]
}

// csrfToken loads the login page and returns the token its form carries.
func (b *browser) csrfToken() string {
	b.t.Helper()
	_, body := b.do(http.MethodGet, "/inloggen", nil)
	return formToken(b.t, body)
}

func wantStatus(t *testing.T, resp *http.Response, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, want)
	}
}

func wantContains(t *testing.T, body string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(body, p) {
			t.Errorf("body does not contain %q:\n%s", p, body)
		}
	}
}

func wantNotContains(t *testing.T, body string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if strings.Contains(body, p) {
			t.Errorf("body contains %q:\n%s", p, body)
		}
	}
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

var errDown = errors.New("database down")
