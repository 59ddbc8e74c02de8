package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestMedicalConversationOverHTTP, on both engines: the compose form asks
// "Bevat medische informatie" of internal users only; a colleague outside
// the medical teams who ticks it gets the form back with a clear message
// and what was typed; a doctor's medical conversation is stored as such,
// shown with its mark, and every open by a colleague is audited. Piet, a
// participant who leaves the medical team, gets 404 at once and his open
// socket hears nothing more of it, while Jan, the external participant,
// reads it.
func TestMedicalConversationOverHTTP(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		la := newLiveAppOn(t, d)
		hr := la.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
		anna := la.person(t, "anna@osaw.nl", true, "Anna", "", "Arts", "nl")
		piet := la.person(t, "piet@osaw.nl", true, "Piet", "", "Post", "nl")
		jan := la.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "en")
		team, err := la.msg.CreateTeam(ctx, la.org.ID, "Bedrijfsarts", true, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []*person{anna, piet} {
			if err := la.msg.AddTeamMember(ctx, team.ID, p.u.Email); err != nil {
				t.Fatal(err)
			}
		}

		_, form := hr.b.get("/berichten/nieuw")
		wantContains(t, form, `id="compose-medical" type="checkbox" name="medical" value="yes"`, "Bevat medische informatie")
		_, form = jan.b.get("/berichten/nieuw")
		wantNotContains(t, form, "compose-medical")

		// Hanna is in no medical team.
		resp, page := hr.b.post("/berichten/nieuw", url.Values{"to": {jan.u.Email}, "subject": {"Uitslag keuring"}, "body": {"Zie bijlage"}, "medical": {"yes"}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, "Je bent geen lid van een medisch team", `value="Uitslag keuring"`, "checked")
		// Anna may not bring Hanna in.
		resp, page = anna.b.post("/berichten/nieuw", url.Values{"to": {jan.u.Email + ", " + hr.u.Email}, "subject": {"Uitslag keuring"}, "body": {"Zie bijlage"}, "medical": {"yes"}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, "Deze collega is geen lid van een medisch team")

		resp, _ = anna.b.post("/berichten/nieuw", url.Values{"to": {jan.u.Email + ", " + piet.u.Email}, "subject": {"Uitslag keuring"}, "body": {"Vertrouwelijk"}, "medical": {"yes"}})
		wantStatus(t, resp, http.StatusSeeOther)
		loc := resp.Header.Get("Location")
		threadID, err := strconv.ParseInt(strings.TrimPrefix(loc, "/berichten/"), 10, 64)
		if err != nil {
			t.Fatalf("location %q", loc)
		}
		var th db.Thread
		if err := d.NewSelect().Model(&th).Where("id = ?", threadID).Scan(ctx); err != nil || !th.Medical {
			t.Fatalf("stored thread %+v %v", th, err)
		}
		opens := func(u *db.User) int {
			n, err := d.NewSelect().Model((*db.AuditEvent)(nil)).Where("kind = ? AND user_id = ? AND detail = ?", "medical.opened", u.ID, "thread "+itoa(threadID)).Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return int(n)
		}
		_, page = piet.b.get(loc)
		wantContains(t, page, "Uitslag keuring", "Vertrouwelijk", "Bevat medische informatie")
		_, page = jan.b.get(loc)
		wantContains(t, page, "Uitslag keuring", "Vertrouwelijk", "Contains medical information")
		if opens(piet.u) != 1 || opens(jan.u) != 0 {
			t.Fatalf("audited opens: piet %d, jan %d", opens(piet.u), opens(jan.u))
		}
		resp, _ = hr.b.get(loc)
		wantStatus(t, resp, http.StatusNotFound)

		pietConn := la.connect(t, piet.u, piet.b.session())
		// Pushes of what happened while Piet was a member may still be on
		// their way (the relay renders after the fact): a personal message
		// sent now comes after them, so reading up to it drains them.
		la.compose(t, anna.u, "Ervoor", "Nog lid", piet.u.Email)
		for !strings.Contains(readLive(t, pietConn), "Ervoor") {
		}
		if err := la.msg.RemoveTeamMember(ctx, team.ID, piet.u.Email); err != nil {
			t.Fatal(err)
		}
		resp, page = piet.b.get(loc)
		wantStatus(t, resp, http.StatusNotFound)
		wantNotContains(t, page, "Uitslag keuring")
		_, box := piet.b.get("/berichten?q=keuring")
		wantNotContains(t, box, "Uitslag keuring", "/berichten/"+itoa(threadID))
		_, box = piet.b.get("/berichten")
		wantNotContains(t, box, "Uitslag keuring")
		if opens(piet.u) != 1 {
			t.Fatalf("a refused open was audited")
		}
		resp, _ = jan.b.post(loc, url.Values{"body": {"Na het vertrek"}})
		wantStatus(t, resp, http.StatusSeeOther)
		// A personal message to Piet marks where to stop reading his
		// socket, which must not have carried the medical message.
		la.compose(t, anna.u, "Daarna", "Persoonlijk", piet.u.Email)
		for {
			msg := readLive(t, pietConn)
			if strings.Contains(msg, "Na het vertrek") || strings.Contains(msg, "Uitslag keuring") {
				t.Fatalf("a former medical member's open socket got a push: %s", msg)
			}
			if strings.Contains(msg, "Daarna") {
				break
			}
		}
		_, page = anna.b.get(loc)
		wantContains(t, page, "Na het vertrek")
		if opens(anna.u) != 1 {
			t.Fatalf("anna's open audited %d times", opens(anna.u))
		}
	})
}
