package handlers

import (
	"net/http"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestRemoveParticipantOverHTTP: "Verwijderen" beside a participant who
// may be removed is a POST form with its CSRF token and a question naming
// the person (hx-confirm), shown to the organisation's internal users
// only. Without the token the post is refused; a plain post and an htmx
// post remove the person and go back to the conversation; a refusal (the
// person read the conversation) shows its message on the conversation's
// page, where the add form shows its errors.
func TestRemoveParticipantOverHTTP(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
		jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		kees := ra.person(t, "kees@example.nl", false, "Kees", "", "Klein", "nl")
		threadID := ra.compose(t, hr.u, "Verzuim", "Hallo", jan.u.Email, kees.u.Email, "typo@example.nl")
		typo := ra.userByEmail(t, "typo@example.nl")
		tp := "/berichten/" + itoa(threadID)
		remove := func(id int64) string { return tp + "/deelnemers/" + itoa(id) + "/verwijderen" }

		if _, err := ra.msg.MarkRead(t.Context(), jan.u.Identity(), threadID); err != nil { // jan reads it
			t.Fatal(err)
		}
		_, page := jan.b.get(tp)
		wantNotContains(t, page, remove(kees.u.ID), remove(typo.ID))

		_, page = hr.b.get(tp)
		wantContains(t, page, `action="`+remove(kees.u.ID)+`"`, `hx-post="`+remove(kees.u.ID)+`"`,
			`hx-confirm="Kees Klein uit dit gesprek verwijderen? Kees Klein ziet het gesprek daarna niet meer."`, remove(typo.ID))
		wantNotContains(t, page, remove(jan.u.ID), remove(hr.u.ID))

		resp, _ := hr.b.postNoCSRF(remove(kees.u.ID), nil)
		wantStatus(t, resp, http.StatusForbidden)
		resp, _ = kees.b.get(tp) // still in it
		wantStatus(t, resp, http.StatusOK)

		resp, _ = hr.b.post(remove(kees.u.ID), nil)
		wantRedirect(t, resp, tp+"?melding=uit-gesprek")
		resp, _ = kees.b.get(tp)
		wantStatus(t, resp, http.StatusNotFound)
		_, page = hr.b.get(tp + "?melding=uit-gesprek")
		wantContains(t, page, "De deelnemer is uit het gesprek verwijderd.", "Kees Klein is verwijderd door Hanna de Vries")

		resp, _ = hr.b.post(remove(typo.ID), nil, "HX-Request", "true")
		wantRedirect(t, resp, tp+"?melding=uit-gesprek")
		if n, err := d.NewSelect().Model((*db.User)(nil)).Where("email = ?", "typo@example.nl").Count(t.Context()); err != nil || n != 0 {
			t.Fatalf("the invitation of the removed address stays: %d %v", n, err)
		}

		resp, page = hr.b.post(remove(jan.u.ID), nil, "HX-Request", "true")
		wantStatus(t, resp, http.StatusConflict)
		wantContains(t, page, "Deze deelnemer heeft het gesprek al gelezen en kan er niet meer uit worden verwijderd.")
		resp, page = jan.b.post(remove(hr.u.ID), nil)
		wantStatus(t, resp, http.StatusForbidden)
		wantContains(t, page, "Je hebt geen toegang tot deze pagina.")
	})
}
