package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"dialoog/components"
)

func TestStartPage(t *testing.T) {
	ta := newTestApp(t)
	resp, body := ta.browser(t).do(http.MethodGet, "/", nil)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body,
		"<!doctype html>", `<html lang="nl">`, `<meta name="viewport"`,
		`<a class="skip-link" href="#main">Naar de inhoud</a>`,
		`<main id="main"`, "<footer", ">Dialoog</a>",
		"Welkom bij Dialoog", `href="/inloggen"`, ">Inloggen</a>",
	)
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestPartialOrFullPage(t *testing.T) {
	cases := []struct {
		name    string
		headers []string
		partial bool
	}{
		{"PlainGET", nil, false},
		{"HTMX", []string{"HX-Request", "true"}, true},
		{"Boosted", []string{"HX-Request", "true", "HX-Boosted", "true"}, false},
		{"HistoryRestore", []string{"HX-Request", "true", "HX-History-Restore-Request", "true"}, false},
	}
	for _, path := range []string{"/", "/inloggen", "/aanmelden/tok-valid", "/aanmelden/nieuwe-link", "/bestaat-niet"} {
		for _, tc := range cases {
			t.Run(path+"/"+tc.name, func(t *testing.T) {
				ta := newTestApp(t)
				resp, body := ta.browser(t).do(http.MethodGet, path, nil, tc.headers...)
				hasHTML := strings.Contains(body, "<html")
				if tc.partial == hasHTML {
					t.Fatalf("partial=%v but <html> present=%v:\n%s", tc.partial, hasHTML, body)
				}
				wantContains(t, body, "<h1>", "<title>")
				if tc.partial {
					if got := resp.Header.Get("HX-Push-Url"); got != path {
						t.Errorf("HX-Push-Url %q, want %q", got, path)
					}
				}
				if !strings.Contains(resp.Header.Get("Vary"), "HX-Request") {
					t.Errorf("Vary %q lacks HX-Request", resp.Header.Get("Vary"))
				}
			})
		}
	}
}

func TestEnglish(t *testing.T) {
	ta := newTestApp(t)
	b := ta.browser(t)
	resp, body := b.do(http.MethodGet, "/", nil, "Accept-Language", "en-GB,en;q=0.9,nl;q=0.5")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, `<html lang="en">`, "Welcome to Dialoog", "Skip to content", ">Log in</a>")
	if cl := resp.Header.Get("Content-Language"); cl != "en" {
		t.Errorf("Content-Language %q", cl)
	}
	_, body = b.do(http.MethodGet, "/aanmelden/unknown", nil, "Accept-Language", "en")
	wantContains(t, body, "This link no longer works", "Send me a new link", "Email address")
	resp, body = b.do(http.MethodPost, "/inloggen", url.Values{}, "Accept-Language", "en")
	wantStatus(t, resp, http.StatusForbidden)
	wantContains(t, body, "This form has expired.")
}

func TestLogin(t *testing.T) {
	ta := newTestApp(t)
	b := ta.browser(t)
	resp, page := b.do(http.MethodGet, "/inloggen", nil)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page,
		`<form method="post" action="/inloggen"`,
		`<label for="login-email">E-mailadres</label>`, `id="login-email" type="email" name="email"`,
		`<label for="login-password">Wachtwoord</label>`, `id="login-password" type="password" name="password"`,
	)
	resp, body := b.do(http.MethodPost, "/inloggen", url.Values{"_csrf": {formToken(t, page)}, "email": {"jan@example.nl"}, "password": {"hunter2-secret"}})
	wantStatus(t, resp, http.StatusUnauthorized)
	wantContains(t, body, "Het e-mailadres of wachtwoord is onjuist.", `value="jan@example.nl"`, `role="alert"`)
	wantNotContains(t, body, "hunter2-secret")
}

func TestDevOutbox(t *testing.T) {
	t.Run("Off", func(t *testing.T) {
		ta := newTestApp(t)
		resp, _ := ta.browser(t).do(http.MethodGet, "/dev/outbox", nil)
		wantStatus(t, resp, http.StatusNotFound)
	})
	t.Run("On", func(t *testing.T) {
		now := time.Date(2026, 2, 23, 9, 30, 0, 0, time.UTC)
		ta := newTestApp(t, withDev(fakeOutbox{
			{ID: 2, Channel: "sms", To: "+31612345678", Body: "Je Dialoog-code is 123456", Status: "sent", CreatedAt: now},
			{ID: 1, Channel: "mail", To: "jan@example.nl", Subject: "Uitnodiging voor Dialoog van OSAW",
				HTML: `<p style="color:red">Beste heer/mevrouw,</p>`, Text: "AANMELDEN:\nhttp://localhost:8080/aanmelden/abc\n",
				Status: "sent", CreatedAt: now, SentAt: now, Attempts: 1},
		}))
		resp, body := ta.browser(t).do(http.MethodGet, "/dev/outbox", nil)
		wantStatus(t, resp, http.StatusOK)
		wantContains(t, body,
			"SMS aan +31612345678", "Je Dialoog-code is 123456",
			"Uitnodiging voor Dialoog van OSAW", "jan@example.nl",
			`<iframe sandbox=""`, `srcdoc="&lt;p style=&#34;color:red&#34;&gt;Beste heer/mevrouw,&lt;/p&gt;"`,
			`<a href="http://localhost:8080/aanmelden/abc">`,
		)
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "style-src 'self' 'unsafe-inline'") || !strings.Contains(csp, "script-src 'self';") {
			t.Errorf("dev outbox CSP %q", csp)
		}
	})
	t.Run("OnWithoutOutbox", func(t *testing.T) {
		ta := newTestApp(t, withDev(nil))
		resp, body := ta.browser(t).do(http.MethodGet, "/dev/outbox", nil)
		wantStatus(t, resp, http.StatusOK)
		wantContains(t, body, "Nog niets verstuurd.")
	})
}

var _ DevOutbox = fakeOutbox(nil)
var _ = components.DevOutboxItem{}
