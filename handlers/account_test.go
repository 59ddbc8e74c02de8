package handlers

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"net/url"
	"testing"

	"dialoog/auth"
)

// TestAccountPage: "Mijn account" is in the header of a finished user and
// shows both sections; an unfinished user cannot reach it or its actions.
func TestAccountPage(t *testing.T) {
	ra := newRealApp(t)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")

	_, inbox := hr.b.get(pathInbox)
	wantContains(t, inbox, `<a class="account__link" href="/account">Mijn account</a>`)
	resp, page := hr.b.get(pathAccount)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page, "<h1>Mijn account</h1>", "Mijn berichten downloaden", `action="/account/export"`,
		"Stoppen met Dialoog", "niet ongedaan", `<label for="stop-password">Wachtwoord</label>`,
		`<label for="stop-confirm">Ik begrijp dat mijn berichten en mijn account worden verwijderd</label>`, ">Account verwijderen</button>")
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", resp.Header.Get("Cache-Control"))
	}

	half := ra.signUp(t, auth.InviteInput{Email: "half@example.nl"})
	resp, _ = half.get(pathAccount)
	wantRedirect(t, resp, pathTerms)
	resp, _ = half.post(pathAccountExport, nil)
	wantRedirect(t, resp, pathTerms)
	resp, _ = half.post(pathAccountStop, url.Values{"password": {testPassword}, "confirm": {"yes"}})
	wantRedirect(t, resp, pathTerms)

	resp, _ = ra.browser(t).get(pathAccount)
	wantRedirect(t, resp, pathLogin)
}

// TestAccountExport: the box comes as a ZIP download with the message in
// it; without the CSRF token nothing is sent.
func TestAccountExport(t *testing.T) {
	ra := newRealApp(t)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Berg", "nl")
	ra.compose(t, hr.u, "Verzuim", "Hoe gaat het met je?", "jan@example.nl")

	resp, _ := jan.b.postNoCSRF(pathAccountExport, nil)
	wantStatus(t, resp, http.StatusForbidden)

	resp, body := jan.b.post(pathAccountExport, nil)
	wantStatus(t, resp, http.StatusOK)
	for h, want := range map[string]string{
		"Content-Type":           "application/zip",
		"Content-Disposition":    `attachment; filename="dialoog-berichten.zip"`,
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	zr, err := zip.NewReader(bytes.NewReader([]byte(body)), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 || zr.File[0].Name != "berichten.txt" {
		t.Fatalf("files in the export: %v", zr.File)
	}
	rc, _ := zr.File[0].Open()
	text, _ := io.ReadAll(rc)
	rc.Close()
	wantContains(t, string(text), "Onderwerp: Verzuim", "Hanna de Vries", "Hoe gaat het met je?")
}

// TestAccountStop: stopping needs the password and the tick; then the
// account is gone, the old session opens nothing and logging in fails,
// while the other participant keeps the conversation with "Verwijderde
// gebruiker" as the sender.
func TestAccountStop(t *testing.T) {
	ra := newRealApp(t)
	acc := ra.onboard(t, auth.InviteInput{Email: "jan@example.nl"}, false)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	threadID := ra.compose(t, hr.u, "Verzuim", "Hoe gaat het?", "jan@example.nl")
	resp, _ := acc.b.post("/berichten/"+itoa(threadID), url.Values{"body": {"Het gaat goed."}})
	wantRedirect(t, resp, "/berichten/"+itoa(threadID))
	b := acc.b
	old := b.session()

	t.Run("WithoutCSRF", func(t *testing.T) {
		resp, _ := b.postNoCSRF(pathAccountStop, url.Values{"password": {testPassword}, "confirm": {"yes"}})
		wantStatus(t, resp, http.StatusForbidden)
	})
	t.Run("WrongPassword", func(t *testing.T) {
		resp, page := b.post(pathAccountStop, url.Values{"password": {"niet mijn wachtwoord"}, "confirm": {"yes"}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, "Het wachtwoord klopt niet.", `aria-invalid="true"`, `aria-describedby="stop-password-hint stop-password-error"`)
		wantNotContains(t, page, "niet mijn wachtwoord")
		resp, _ = b.get(pathInbox)
		wantStatus(t, resp, http.StatusOK)
	})
	t.Run("NotTicked", func(t *testing.T) {
		resp, page := b.post(pathAccountStop, url.Values{"password": {testPassword}}, "HX-Request", "true")
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, "Vink aan dat je begrijpt")
		wantNotContains(t, page, "Het wachtwoord klopt niet.", "<html")
		resp, _ = b.get(pathInbox)
		wantStatus(t, resp, http.StatusOK)
	})
	t.Run("Stopped", func(t *testing.T) {
		resp, _ := b.post(pathAccountStop, url.Values{"password": {testPassword}, "confirm": {"yes"}})
		wantRedirect(t, resp, "/?gestopt=1")
		if b.session() != "" {
			t.Fatal("the session cookie was not removed")
		}
		_, page := b.follow(resp)
		wantContains(t, page, "Je account en je berichten zijn verwijderd.")
		wantNotContains(t, page, ">Uitloggen</button>")

		resp, _ = ra.browser(t).do(http.MethodGet, pathInbox, nil, "Cookie", sessionCookie+"="+old)
		wantRedirect(t, resp, pathLogin)
		resp, page = ra.browser(t).post(pathLogin, url.Values{"email": {"jan@example.nl"}, "password": {testPassword}})
		wantStatus(t, resp, http.StatusUnauthorized)
		wantContains(t, page, "Het e-mailadres of wachtwoord is onjuist.")

		resp, page = hr.b.get("/berichten/" + itoa(threadID))
		wantStatus(t, resp, http.StatusOK)
		wantContains(t, page, "Hoe gaat het?", "Het gaat goed.", "Verwijderde gebruiker")
		wantNotContains(t, page, "jan@example.nl", "Jan van der Berg")
	})
}
