package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// The security suite: each test here is an attack from outside that once
// worked. This file: text input that no store can hold (a NUL byte,
// invalid UTF-8) in a query, a form or a stored header.

// TestNULAndInvalidUTF8AreRefused sends a NUL byte and invalid UTF-8 in
// the query, the form fields and the User-Agent of several routes, signed
// out and signed in: each gets a 400 with a page that says what is wrong,
// in Dutch or English, and nothing is logged as an error.
func TestNULAndInvalidUTF8AreRefused(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
		threadID := ra.compose(t, hr.u, "Onderwerp", "Hallo", "werknemer@example.nl")
		thread := "/berichten/" + itoa(threadID)

		type attempt struct {
			name    string
			b       *browser
			method  string
			target  string
			form    url.Values
			headers []string
		}
		out := ra.browser(t)
		attempts := []attempt{
			{"search query with NUL", hr.b, http.MethodGet, "/berichten?zoek=a%00b", nil, nil},
			{"search query with invalid UTF-8", hr.b, http.MethodGet, "/berichten?zoek=a%ffb", nil, nil},
			{"query of a signed-out page", out, http.MethodGet, "/inloggen?x=%00", nil, nil},
			{"query name with NUL", out, http.MethodGet, "/?a%00=1", nil, nil},
			{"login address with NUL", out, http.MethodPost, pathLogin, url.Values{"email": {"jan\x00@example.nl"}, "password": {testPassword}}, nil},
			{"login password with invalid UTF-8", out, http.MethodPost, pathLogin, url.Values{"email": {"jan@example.nl"}, "password": {"pw\xff\xfe"}}, nil},
			{"login User-Agent with NUL", out, http.MethodPost, pathLogin, url.Values{"email": {"hr@osaw.nl"}, "password": {testPassword}}, []string{"User-Agent", "Mozilla\x00/5.0"}},
			{"page User-Agent with invalid UTF-8", out, http.MethodGet, "/", nil, []string{"User-Agent", "Mozilla\xff"}},
			{"forgotten password with NUL", out, http.MethodPost, "/wachtwoord-vergeten", url.Values{"email": {"a\x00@b.nl"}}, nil},
			{"new link with NUL", out, http.MethodPost, "/aanmelden/nieuwe-link", url.Values{"email": {"a\x00@b.nl"}}, nil},
			{"compose subject with NUL", hr.b, http.MethodPost, "/berichten/nieuw", url.Values{"to": {"x@example.nl"}, "subject": {"a\x00b"}, "body": {"hoi"}}, nil},
			{"reply body with invalid UTF-8", hr.b, http.MethodPost, thread, url.Values{"body": {"hoi \xc3"}}, nil},
			{"participant address with NUL", hr.b, http.MethodPost, thread + "/deelnemers", url.Values{"email": {"y\x00@example.nl"}}, nil},
		}
		for _, a := range attempts {
			t.Run(a.name, func(t *testing.T) {
				ra.logs.Reset()
				var resp *http.Response
				var page string
				if a.method == http.MethodPost {
					resp, page = a.b.post(a.target, a.form, a.headers...)
				} else {
					resp, page = a.b.get(a.target, a.headers...)
				}
				wantStatus(t, resp, http.StatusBadRequest)
				wantContains(t, page, "ongeldig teken")
				if strings.Contains(ra.logs.String(), "level=ERROR") {
					t.Errorf("logged as an error:\n%s", ra.logs.String())
				}
			})
		}

		resp, page := out.get("/inloggen?x=%00", "Accept-Language", "en")
		wantStatus(t, resp, http.StatusBadRequest)
		wantContains(t, page, "invalid character")

		// Nothing of the refused attempts was stored.
		n, err := ra.d.NewSelect().Model((*db.Thread)(nil)).Count(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%d conversations, want the one composed before", n)
		}
	})
}

// TestStoresCleanTextTheyKeep is the rule behind the check above, in the
// services that store what a browser sent: a session keeps a User-Agent
// as valid UTF-8 without NUL (also when cutting it to length would split a
// character), and the inbox search treats a NUL as nothing instead of
// failing.
func TestStoresCleanTextTheyKeep(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
		ctx := t.Context()
		ua := "Mozilla\x00/5.0 \xff" + strings.Repeat("é", 200)
		if _, err := ra.acc.Sessions.Create(ctx, ra.d, hr.u.ID, "127.0.0.1", ua); err != nil {
			t.Fatalf("session with a NUL in its User-Agent: %v", err)
		}
		var stored []string
		if err := ra.d.NewSelect().Model((*db.Session)(nil)).Column("user_agent").Where("user_id = ?", hr.u.ID).Scan(ctx, &stored); err != nil {
			t.Fatal(err)
		}
		for _, s := range stored {
			if !utf8.ValidString(s) || strings.ContainsRune(s, 0) || len(s) > 300 {
				t.Errorf("stored User-Agent %q", s)
			}
		}
		if _, err := ra.msg.Inbox(ctx, hr.u.Identity(), 1, "ab\x00c\xff"); err != nil {
			t.Errorf("search with a NUL: %v", err)
		}
	})
}
