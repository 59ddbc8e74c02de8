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
