package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestSecurityExternalUserNewConversationLimit: an external user started
// 10 conversations (10 notification mails) in 3 seconds. Now the sixth
// within an hour is refused with a clear message in the form, which keeps
// what was typed; an hour later it works again.
func TestSecurityExternalUserNewConversationLimit(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		cm := ra.person(t, "casemanager@osaw.nl", true, "Carla", "", "Manager", "nl")
		ext := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		ra.compose(t, cm.u, "Welkom", "Hallo Jan", ext.u.Email)
		mailsBefore := ra.mailCount(t, cm.u.Email)

		form := func(i int) url.Values {
			return url.Values{"to": {cm.u.Email}, "subject": {fmt.Sprintf("Vraag %d", i)}, "body": {"Mijn vraag nummer " + itoa(int64(i))}}
		}
		for i := range 5 {
			resp, _ := ext.b.post("/berichten/nieuw", form(i))
			wantStatus(t, resp, http.StatusSeeOther)
		}
		resp, page := ext.b.post("/berichten/nieuw", form(5))
		wantStatus(t, resp, http.StatusTooManyRequests)
		wantContains(t, page, "Je hebt het afgelopen uur al 5 nieuwe gesprekken gestart",
			`value="casemanager@osaw.nl"`, `value="Vraag 5"`, "Mijn vraag nummer 5")
		// In English for a user who reads English.
		if _, err := ra.d.NewUpdate().Model((*db.User)(nil)).Set("language = ?", "en").Where("id = ?", ext.u.ID).Exec(t.Context()); err != nil {
			t.Fatal(err)
		}
		resp, page = ext.b.post("/berichten/nieuw", form(6))
		wantStatus(t, resp, http.StatusTooManyRequests)
		wantContains(t, page, "You have already started 5 new conversations in the past hour", "Mijn vraag nummer 6")
		if n := ra.mailCount(t, cm.u.Email) - mailsBefore; n > 5 {
			t.Errorf("%d notification mails for 5 conversations", n)
		}
		// Replies are not limited, and an hour later a new one works.
		ra.clk.Add(time.Hour + time.Minute)
		ext.b = ra.signIn(t, ext.u)
		resp, _ = ext.b.post("/berichten/nieuw", form(7))
		wantStatus(t, resp, http.StatusSeeOther)
	})
}

// TestSecurityInternalUserLimits: internal users get more new
// conversations, and a separate, lower limit on addresses that are new to
// Dialoog (each gets an account and an invitation mail).
func TestSecurityInternalUserLimits(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		cm := ra.person(t, "casemanager@osaw.nl", true, "Carla", "", "Manager", "nl")
		post := func(to, subject string) (*http.Response, string) {
			return cm.b.post("/berichten/nieuw", url.Values{"to": {to}, "subject": {subject}, "body": {"Beste, een bericht."}})
		}
		for i := range 20 {
			resp, _ := post(fmt.Sprintf("nieuw%d@example.nl", i), "Uitnodiging")
			wantStatus(t, resp, http.StatusSeeOther)
		}
		resp, page := post("nieuw20@example.nl", "Nog een")
		wantStatus(t, resp, http.StatusTooManyRequests)
		wantContains(t, page, "Je hebt het afgelopen uur al 20 nieuwe adressen uitgenodigd", `value="nieuw20@example.nl"`, `value="Nog een"`)
		if n, _ := ra.d.NewSelect().Model((*db.User)(nil)).Where("email = ?", "nieuw20@example.nl").Count(t.Context()); n != 0 {
			t.Error("the refused address got an account")
		}
		// Adding a new address to a conversation counts the same.
		thread := ra.compose(t, cm.u, "Bestaand", "tekst", "nieuw0@example.nl")
		resp, page = cm.b.post(fmt.Sprintf("/berichten/%d/deelnemers", thread), url.Values{"email": {"nieuw21@example.nl"}, "history": {"all"}})
		wantStatus(t, resp, http.StatusTooManyRequests)
		wantContains(t, page, "nieuwe adressen uitgenodigd")
		// Known addresses: up to 50 new conversations an hour (21 so far).
		for i := range 29 {
			resp, _ := post(fmt.Sprintf("nieuw%d@example.nl", i%20), fmt.Sprintf("Vervolg %d", i))
			wantStatus(t, resp, http.StatusSeeOther)
		}
		resp, page = post("nieuw1@example.nl", "Eén te veel")
		wantStatus(t, resp, http.StatusTooManyRequests)
		wantContains(t, page, "Je hebt het afgelopen uur al 50 nieuwe gesprekken gestart")
	})
}
