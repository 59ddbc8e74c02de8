package handlers

import (
	"net/http"
	"net/url"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestMessageEveryMessageAtOnce: a message refused for a file posted with
// the form (without script) or for its "ter ondertekening" choice also
// says what else is wrong with it, so that one correction is enough; and
// nothing is sent.
func TestMessageEveryMessageAtOnce(t *testing.T) {
	la, _ := newSigningApp(t, dbtest.MustOpenSQLite(t))
	hr := la.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	jan := la.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "en")
	exe := []testFile{{"files", "setup.exe", []byte("MZ\x90\x00 not a document")}}

	resp, page := hr.b.postMultipart("/berichten/nieuw", url.Values{"to": {jan.u.Email}, "subject": {""}, "body": {"Tekst"}}, exe, false)
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, `<a href="#compose-files">Bijlagen: setup.exe:`, `<a href="#compose-subject">Onderwerp: Vul een onderwerp in.</a>`,
		`id="compose-subject-error"`, ">Tekst</textarea>")

	resp, page = hr.b.postMultipart("/berichten/nieuw", url.Values{"to": {jan.u.Email}, "subject": {"Plan"}, "body": {""},
		"sign": {"1"}, "deadline": {"morgen"}}, nil, false, "HX-Request", "true")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, `<a href="#compose-deadline">`, `<a href="#compose-body">Bericht: Schrijf een bericht.</a>`, `value="Plan"`)

	threadID := la.compose(t, hr.u, "Plan van aanpak", "Hallo", jan.u.Email)
	tp := "/berichten/" + itoa(threadID)
	resp, page = hr.b.postMultipart(tp, url.Values{"body": {" "}}, exe, false, "HX-Request", "true")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, `<a href="#reply-files">Bijlagen: setup.exe:`, `<a href="#reply-body">Bericht: Schrijf een bericht.</a>`)
	resp, page = hr.b.postMultipart(tp, url.Values{"body": {""}, "sign": {"1"}, "signers": {itoa(jan.u.ID)}, "deadline": {"morgen"}}, nil, false)
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, `<a href="#reply-deadline">`, `<a href="#reply-body">Bericht: Schrijf een bericht.</a>`)

	if n := la.count(t, (*db.Message)(nil), "thread_id = ?", threadID); n != 1 {
		t.Fatalf("%d messages in the conversation, want the first only", n)
	}
}
