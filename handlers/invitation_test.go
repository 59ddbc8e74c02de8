package handlers

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"dialoog/apperr"
)

func TestInvitationShowDoesNotConsume(t *testing.T) {
	ta := newTestApp(t)
	b := ta.browser(t)
	for range 2 { // a mail scanner, then the user
		resp, body := b.do(http.MethodGet, "/aanmelden/tok-valid", nil)
		wantStatus(t, resp, http.StatusOK)
		wantContains(t, body,
			"Welkom bij Dialoog",
			"OSAW heeft je uitgenodigd om via Dialoog beveiligd berichten uit te wisselen.",
			"jan@example.nl",
			`<form method="post" action="/aanmelden/tok-valid"`,
			`name="_csrf"`,
			">AANMELDEN</button>",
		)
	}
	if checks, accepts := ta.inv.counts(); checks != 2 || accepts != 0 {
		t.Errorf("checks %d, accepts %d; want 2, 0", checks, accepts)
	}
}

func TestInvitationAccept(t *testing.T) {
	cases := []struct {
		name, base, cookie string
		secure             bool
	}{
		{"HTTP", "http://localhost:8080", "dialoog_session", false},
		{"HTTPS", "https://dialoog.example.nl", "__Host-dialoog_session", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ta := newTestApp(t, withBaseURL(t, tc.base))
			b := ta.browser(t)
			_, page := b.do(http.MethodGet, "/aanmelden/tok-valid", nil)
			resp, _ := b.do(http.MethodPost, "/aanmelden/tok-valid", url.Values{"_csrf": {formToken(t, page)}})
			wantStatus(t, resp, http.StatusSeeOther)
			// Straight on to the user's stage, here the terms.
			if loc := resp.Header.Get("Location"); loc != "/stap/voorwaarden" {
				t.Errorf("Location %q, want /stap/voorwaarden", loc)
			}
			c := cookieNamed(resp, tc.cookie)
			if c == nil {
				t.Fatalf("no %s cookie in %v", tc.cookie, resp.Header.Values("Set-Cookie"))
			}
			if c.Value != "session-tok-valid" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure != tc.secure {
				t.Errorf("session cookie %+v", c)
			}
			if c.MaxAge != 0 || !c.Expires.IsZero() {
				t.Errorf("session cookie should end with the browser session: %+v", c)
			}

			// The link is used up now.
			resp, body := b.do(http.MethodPost, "/aanmelden/tok-valid", url.Values{"_csrf": {formToken(t, page)}})
			wantStatus(t, resp, http.StatusNotFound)
			wantContains(t, body, "Deze link werkt niet meer", "Stuur mij een nieuwe link")
			if _, accepts := ta.inv.counts(); accepts != 2 {
				t.Errorf("accepts %d, want 2", accepts)
			}
		})
	}
}

func TestInvitationInvalid(t *testing.T) {
	cases := []struct{ name, path string }{
		{"Unknown", "/aanmelden/unknown-token"},
		{"Malformed", "/aanmelden/%3Cscript%3E"},
		{"TooLong", "/aanmelden/" + strings.Repeat("a", maxLinkTokenLen+1)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ta := newTestApp(t)
			resp, body := ta.browser(t).do(http.MethodGet, tc.path, nil)
			wantStatus(t, resp, http.StatusNotFound)
			wantContains(t, body,
				"Deze link werkt niet meer",
				`action="/aanmelden/nieuwe-link"`,
				`<label for="newlink-email">Mailadres</label>`,
				"Stuur mij een nieuwe link",
				`name="_csrf"`,
			)
			wantNotContains(t, body, "<script>")
		})
	}
}

func TestNewLink(t *testing.T) {
	cases := []struct {
		name     string
		email    string
		svcErr   error
		status   int
		want     []string
		location string
	}{
		{"KnownOrUnknownAddress", "onbekend@example.nl", nil, http.StatusSeeOther, nil, "/aanmelden/nieuwe-link/verstuurd"},
		{"Malformed", "jan-at-example", nil, http.StatusUnprocessableEntity,
			[]string{`value="jan-at-example"`, "Vul een geldig mailadres in", `aria-invalid="true"`, `aria-describedby="newlink-email-error"`}, ""},
		{"Empty", "  ", nil, http.StatusUnprocessableEntity, []string{"Vul je mailadres in."}, ""},
		{"Escaped", `"><script>x</script>`, nil, http.StatusUnprocessableEntity,
			[]string{`value="&#34;&gt;&lt;script&gt;x&lt;/script&gt;"`}, ""},
		{"FieldsFromService", "jan@example.nl", apperr.Fields{apperr.Field("email", "email.invalid")}, http.StatusUnprocessableEntity,
			[]string{`value="jan@example.nl"`, "Vul een geldig mailadres in"}, ""},
		{"UnknownKeyFromService", "jan@example.nl", apperr.Field("email", "auth.some_untranslated_key"), http.StatusUnprocessableEntity,
			[]string{"Controleer wat je hebt ingevuld"}, ""},
		{"InternalFromService", "jan@example.nl", errDown, http.StatusInternalServerError,
			[]string{"Er ging bij ons iets mis"}, ""},
		{"RateLimited", "jan@example.nl", apperr.New(apperr.TooMany, "error.too_many"), http.StatusTooManyRequests,
			[]string{"Te veel pogingen"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ta := newTestApp(t)
			ta.inv.newLinkErr = tc.svcErr
			b := ta.browser(t)
			resp, page := b.do(http.MethodGet, "/aanmelden/nieuwe-link", nil)
			wantStatus(t, resp, http.StatusOK)
			wantContains(t, page, "Nieuwe link aanvragen", "Stuur mij een nieuwe link")

			resp, body := b.do(http.MethodPost, "/aanmelden/nieuwe-link", url.Values{"_csrf": {formToken(t, page)}, "email": {tc.email}})
			wantStatus(t, resp, tc.status)
			wantContains(t, body, tc.want...)
			wantNotContains(t, body, errDown.Error())
			if tc.status == http.StatusUnprocessableEntity {
				wantNotContains(t, body, "<script>")
			}
			if tc.location == "" {
				return
			}
			if loc := resp.Header.Get("Location"); loc != tc.location {
				t.Fatalf("Location %q, want %q", loc, tc.location)
			}
			resp, body = b.do(http.MethodGet, tc.location, nil)
			wantStatus(t, resp, http.StatusOK)
			wantContains(t, body, "Als dit adres bij ons bekend is, ontvang je binnen enkele minuten een nieuwe link.")
		})
	}
}

func TestInvitationEscapesOrgName(t *testing.T) {
	ta := newTestApp(t)
	ta.inv.links["tok-xss"] = InvitationInfo{Email: `a"b@example.nl`, OrgName: `<script>alert(1)</script>`, ExpiresAt: time.Now().Add(time.Hour)}
	_, body := ta.browser(t).do(http.MethodGet, "/aanmelden/tok-xss", nil)
	wantContains(t, body, "&lt;script&gt;alert(1)&lt;/script&gt; heeft je uitgenodigd", html.EscapeString(`a"b@example.nl`))
	wantNotContains(t, body, "<script>alert(1)")
}

func TestInvitationUsesUserLanguage(t *testing.T) {
	ta := newTestApp(t)
	ta.inv.links["tok-en"] = InvitationInfo{Email: "jo@example.com", OrgName: "OSAW", Language: "en"}
	resp, body := ta.browser(t).do(http.MethodGet, "/aanmelden/tok-en", nil, "Accept-Language", "nl-NL,nl")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, body, `<html lang="en">`, "OSAW has invited you to exchange secure messages via Dialoog.", ">SIGN UP</button>")
	if cl := resp.Header.Get("Content-Language"); cl != "en" {
		t.Errorf("Content-Language %q", cl)
	}
}
