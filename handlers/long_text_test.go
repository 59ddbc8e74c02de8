package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestOverLongNamesAreRefusedNotCut, on both engines: a team name, a
// case reference and an organisation's name one character too long are
// refused with the message that says so, in characters that take four
// bytes (an emoji) too: the form's bound in bytes cut them to the maximum
// (a split last character dropped) and stored them without a word.
func TestOverLongNamesAreRefusedNotCut(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		admin := ra.adminOf(t, "beheer@osaw.nl")
		jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		emoji := "\U0001F600"
		for _, name := range []string{strings.Repeat(emoji, 101), "T" + strings.Repeat(emoji, 100)} {
			resp, page := admin.b.post(pathAdminTeams, url.Values{"name": {name}})
			wantStatus(t, resp, http.StatusUnprocessableEntity)
			wantContains(t, page, "De naam van het team is te lang.")
		}
		if n := ra.count(t, (*db.Team)(nil), "1 = 1"); n != 0 {
			t.Fatalf("%d teams stored", n)
		}

		threadID := ra.compose(t, admin.u, "Verzuim", "Hallo", jan.u.Email)
		for _, ref := range []string{strings.Repeat(emoji, 51), "P" + strings.Repeat(emoji, 50)} {
			resp, page := admin.b.post("/berichten/"+itoa(threadID)+"/dossier", url.Values{"subject": {itoa(jan.u.ID)}, "reference": {ref}})
			wantStatus(t, resp, http.StatusUnprocessableEntity)
			wantContains(t, page, "Het kenmerk mag hoogstens 50 tekens lang zijn.")
		}
		if n := ra.count(t, (*db.Case)(nil), "1 = 1"); n != 0 {
			t.Fatalf("%d cases stored", n)
		}

		resp, _ := admin.b.post(pathAdminBranding, url.Values{"name": {"O" + strings.Repeat(emoji, 100)}, "colour": {"#1f4e79"}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
	})
}

// TestLongTextKeptWithTheServersMessage, on both engines: the message
// form, the profile and the absence reply have no maxlength (a browser's
// counts an emoji as two, see TestNoMaxlengthWhereTheServerCountsCharacters
// in components), so the server is what says no. It takes the maximum in
// emoji, refuses one character more with its message and the form keeps
// what was typed, and counts a line break as one character, as the
// browser does (a form sends it as CR LF).
func TestLongTextKeptWithTheServersMessage(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "", "de Vries", "nl")
		jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		emoji := "\U0001F600"

		resp, _ := hr.b.post("/berichten/nieuw", url.Values{"to": {jan.u.Email}, "subject": {strings.Repeat(emoji, 200)}, "body": {strings.Repeat(emoji, 20_000)}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("the maximum in emoji: status %d", resp.StatusCode)
		}
		subject, body := "O"+strings.Repeat("n", 200), strings.Repeat("b", 19_999)+"\r\nc"
		resp, page := hr.b.post("/berichten/nieuw", url.Values{"to": {jan.u.Email}, "subject": {subject}, "body": {body}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, "Het onderwerp is te lang: gebruik maximaal 200 tekens op één regel.",
			"Het bericht is te lang: gebruik maximaal 20.000 tekens.", `value="`+subject+`"`, body+"</textarea>", "20.001 van 20.000 tekens")

		resp, _ = jan.b.post(pathSettingsNames, url.Values{"gender": {"male"}, "initials": {strings.Repeat(emoji, 20)},
			"first_name": {strings.Repeat(emoji, 100)}, "last_name": {strings.Repeat(emoji, 100)}})
		wantRedirect(t, resp, pathAccount+"?melding=gegevens")

		// 1,000 lines: 1,999 characters in the browser and after the
		// server's reading, 2,998 bytes as the form sends them.
		away := strings.Repeat("a\r\n", 999) + "a"
		resp, page = jan.b.post(pathSettingsAway, url.Values{"away_message": {away}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("absence reply of 1,999 characters in lines: status %d\n%s", resp.StatusCode, page)
		}
		away = strings.Repeat(emoji, 2000) + "!"
		resp, page = jan.b.post(pathSettingsAway, url.Values{"away_message": {away}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, "Dit is te lang: gebruik maximaal 2000 tekens.", away+"</textarea>")
	})
}
