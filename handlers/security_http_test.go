package handlers

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestCSRFTokenNotTakenFromQuery: the token is accepted from the form
// field or the X-Csrf-Token header only. In the query string it would end
// up in logs and history, and a link could carry it.
func TestCSRFTokenNotTakenFromQuery(t *testing.T) {
	ta := newTestApp(t)
	b := ta.browser(t)
	token := b.csrfToken()
	form := url.Values{"email": {"jan@example.nl"}}

	resp, page := b.do(http.MethodPost, "/aanmelden/nieuwe-link?_csrf="+url.QueryEscape(token), form)
	wantStatus(t, resp, http.StatusForbidden)
	wantContains(t, page, "Dit formulier is verlopen")

	resp, _ = b.do(http.MethodPost, "/aanmelden/nieuwe-link", form, csrfHeader, token)
	wantStatus(t, resp, http.StatusSeeOther)
	form.Set(csrfField, token)
	resp, _ = b.do(http.MethodPost, "/aanmelden/nieuwe-link", form)
	wantStatus(t, resp, http.StatusSeeOther)
}

// TestUnknownMethodsGetSecurityHeaders: a request with a method Fiber does
// not route (PROPFIND, a made-up one) is answered with the same security
// headers and no-store as every other answer.
func TestUnknownMethodsGetSecurityHeaders(t *testing.T) {
	ta := newTestApp(t, withBaseURL(t, "https://dialoog.example.nl"))
	for _, method := range []string{"PROPFIND", "FOO", "BREW", "TRACE", "PUT"} {
		resp, err := ta.app.Test(httptest.NewRequest(method, "/inloggen", nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented {
			t.Errorf("%s: status %d", method, resp.StatusCode)
		}
		for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Strict-Transport-Security"} {
			if resp.Header.Get(h) == "" {
				t.Errorf("%s: no %s", method, h)
			}
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("%s: Cache-Control %q", method, cc)
		}
	}
}
