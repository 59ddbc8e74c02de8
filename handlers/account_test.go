package handlers

import (
	"archive/zip"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
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

// TestAccountExport: the box comes as a ZIP download with the
// conversation in it, readable and as data; without the CSRF token nothing
// is sent.
func TestAccountExport(t *testing.T) {
	ra := newRealApp(t)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Berg", "nl")
	id := ra.compose(t, hr.u, "Verzuim", "Hoe gaat het met je? <b>echt</b>", "jan@example.nl")

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
	files := unzipAll(t, body)
	dir := "gesprekken/" + itoa(id) + "-verzuim/"
	for _, name := range []string{"LEESMIJ.txt", "overzicht.html", "profiel.json", "tweede-stap.json", "beveiligingsactiviteit.json", dir + "gesprek.html", dir + "gesprek.json"} {
		if _, ok := files[name]; !ok {
			t.Errorf("no %s in the export", name)
		}
	}
	wantContains(t, files[dir+"gesprek.html"], "<title>Verzuim</title>", "Hanna de Vries", "Hoe gaat het met je? &lt;b&gt;echt&lt;/b&gt;")
	wantContains(t, files[dir+"gesprek.json"], `"body": "Hoe gaat het met je? \u003cb\u003eecht\u003c/b\u003e"`)
	wantContains(t, files["beveiligingsactiviteit.json"], `"kind":"export"`)
}

// TestAccountExportInEnglish: a person who reads Dialoog in English
// downloads a file with English names, the ZIP file's own name and the
// folder of a conversation whose subject gives no name included.
func TestAccountExportInEnglish(t *testing.T) {
	ra := newRealApp(t)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Berg", "en")
	id := ra.compose(t, hr.u, "???", "Hallo", "jan@example.nl")

	resp, body := jan.b.post(pathAccountExport, nil)
	wantStatus(t, resp, http.StatusOK)
	if got, want := resp.Header.Get("Content-Disposition"), `attachment; filename="dialoog-messages.zip"`; got != want {
		t.Errorf("Content-Disposition %q, want %q", got, want)
	}
	files := unzipAll(t, body)
	dir := "conversations/" + itoa(id) + "-conversation/"
	for _, name := range []string{"README.txt", "index.html", dir + "conversation.html", dir + "conversation.json"} {
		if _, ok := files[name]; !ok {
			t.Errorf("no %s in the export", name)
		}
	}
	for name := range files {
		if strings.Contains(name, "gesprek") || strings.Contains(name, "bijlage") {
			t.Errorf("Dutch file name %s in an English export", name)
		}
	}
}

// TestAccountExportOneAtATime: while an export of the person is being
// written (here, or on another instance), another request gets a page
// saying so; once it ended the download works again.
func TestAccountExportOneAtATime(t *testing.T) {
	ra := newRealApp(t)
	jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Berg", "nl")
	running, err := ra.msg.Export(context.Background(), jan.u.Identity(), "")
	if err != nil {
		t.Fatal(err)
	}
	resp, page := jan.b.post(pathAccountExport, nil)
	wantStatus(t, resp, http.StatusConflict)
	wantContains(t, page, "Je berichten worden al klaargezet voor een download.")
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type %q", ct)
	}
	running.Close()
	resp, _ = jan.b.post(pathAccountExport, nil)
	wantStatus(t, resp, http.StatusOK)
}

// unzipAll reads every file of a ZIP into a map by name.
func unzipAll(t *testing.T, body string) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(strings.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		out[f.Name] = string(b)
	}
	return out
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
