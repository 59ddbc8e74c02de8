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
	"dialoog/messaging"
)

// TestTeamConversationOverHTTP, on both engines: Hanna starts a
// conversation on behalf of her team with "Namens"; her colleague Piet's
// open page hears of it and his team box lists it; Bram, of the
// organisation but not of the team, gets 404; Piet answers and Jan, the
// outsider, reads "Piet Post namens OSAW Verzuim"; Piet assigns it to
// himself and the team box says so. When Piet leaves the team his page is
// 404 at once and his socket, still open, hears nothing of the next
// message while Hanna's does.
func TestTeamConversationOverHTTP(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		la := newLiveAppOn(t, d)
		hr := la.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
		piet := la.person(t, "piet@osaw.nl", true, "Piet", "", "Post", "nl")
		bram := la.person(t, "bram@osaw.nl", true, "Bram", "", "Arts", "nl")
		jan := la.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		team, err := la.msg.CreateTeam(ctx, la.org.ID, "OSAW Verzuim", false, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []*person{hr, piet} {
			if err := la.msg.AddTeamMember(ctx, team.ID, p.u.Email); err != nil {
				t.Fatal(err)
			}
		}
		teamID := strconv.FormatInt(team.ID, 10)
		hrConn := la.connect(t, hr.u, hr.b.session())
		pietConn := la.connect(t, piet.u, piet.b.session())

		_, form := hr.b.get("/berichten/nieuw")
		wantContains(t, form, `<select id="compose-team" name="team">`, `<option value="`+teamID+`">OSAW Verzuim</option>`)
		_, form = bram.b.get("/berichten/nieuw")
		wantNotContains(t, form, "compose-team")
		resp, _ := hr.b.post("/berichten/nieuw", url.Values{"to": {jan.u.Email}, "subject": {"Verzuim"}, "body": {"Hoe gaat het?"}, "team": {teamID}})
		wantStatus(t, resp, http.StatusSeeOther)
		loc := resp.Header.Get("Location")
		threadID, err := strconv.ParseInt(strings.TrimPrefix(loc, "/berichten/"), 10, 64)
		if err != nil {
			t.Fatalf("location %q", loc)
		}
		// Someone not of the team cannot start one on its behalf.
		resp, page := bram.b.post("/berichten/nieuw", url.Values{"to": {jan.u.Email}, "subject": {"X"}, "body": {"Y"}, "team": {teamID}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, "Je bent geen lid van dit team.")

		readLiveUntil(t, pietConn, "Verzuim")
		_, box := piet.b.get("/berichten?team=" + teamID)
		wantContains(t, box, `aria-current="page">`, "OSAW Verzuim", "/berichten/"+itoa(threadID))
		resp, _ = bram.b.get(loc)
		wantStatus(t, resp, http.StatusNotFound)
		_, box = bram.b.get("/berichten")
		wantNotContains(t, box, "/berichten/"+itoa(threadID))

		resp, _ = jan.b.post(loc, url.Values{"body": {"Het gaat beter"}})
		wantStatus(t, resp, http.StatusSeeOther)
		readLiveUntil(t, pietConn, "Het gaat beter")
		readLiveUntil(t, hrConn, "Het gaat beter")
		resp, _ = piet.b.post(loc, url.Values{"body": {"Fijn om te horen"}})
		wantStatus(t, resp, http.StatusSeeOther)
		_, page = jan.b.get(loc)
		wantContains(t, page, "Piet Post", "namens OSAW Verzuim", "Fijn om te horen")
		wantNotContains(t, page, "piet@osaw.nl")

		resp, _ = piet.b.post(loc+"/toewijzen", url.Values{"assignee": {itoa(piet.u.ID)}})
		wantStatus(t, resp, http.StatusSeeOther)
		_, box = hr.b.get("/berichten?team=" + teamID)
		wantContains(t, box, "In behandeling bij Piet Post")
		resp, _ = bram.b.post(loc+"/toewijzen", url.Values{"assignee": {itoa(bram.u.ID)}})
		wantStatus(t, resp, http.StatusNotFound)
		// The members' open inboxes hear who handles it (which also reads
		// Piet's socket up to now).
		readLiveUntil(t, hrConn, "In behandeling bij Piet Post")
		readLiveUntil(t, pietConn, "In behandeling bij Piet Post")

		if err := la.msg.RemoveTeamMember(ctx, team.ID, piet.u.Email); err != nil {
			t.Fatal(err)
		}
		resp, _ = piet.b.get(loc)
		wantStatus(t, resp, http.StatusNotFound)
		resp, _ = jan.b.post(loc, url.Values{"body": {"Na het vertrek"}})
		wantStatus(t, resp, http.StatusSeeOther)
		readLiveUntil(t, hrConn, "Na het vertrek")
		// The relay rendered that event for everyone at once, before the
		// next: a personal message to Piet marks where to stop reading his
		// socket, which must not have carried the team's message.
		la.compose(t, hr.u, "Daarna", "Persoonlijk", piet.u.Email)
		for {
			msg := readLive(t, pietConn)
			if strings.Contains(msg, "Na het vertrek") {
				t.Fatalf("a former member's open socket got a push: %s", msg)
			}
			if strings.Contains(msg, "Daarna") {
				break
			}
		}
	})
}

// TestTeamBoxNotFoundOverHTTP, on both engines: /berichten?team=ID is 404
// for a colleague outside the team, an outsider, a team of another
// organisation and an id no team has, like every other object someone may
// not see; so are its "Meer berichten" piece and the re-fetch after a lost
// live connection. The member gets the box.
func TestTeamBoxNotFoundOverHTTP(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ra := newRealAppOn(t, d)
		hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
		bram := ra.person(t, "bram@osaw.nl", true, "Bram", "", "Arts", "nl")
		jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		team, err := ra.msg.CreateTeam(ctx, ra.org.ID, "OSAW Verzuim", false, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := ra.msg.AddTeamMember(ctx, team.ID, hr.u.Email); err != nil {
			t.Fatal(err)
		}
		other, _, otherColleague := ra.otherOrg(t)
		theirs, err := ra.msg.CreateTeam(ctx, other.ID, "Verzuim", false, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := ra.msg.AddTeamMember(ctx, theirs.ID, otherColleague.u.Email); err != nil {
			t.Fatal(err)
		}
		resp, box := hr.b.get("/berichten?team=" + itoa(team.ID))
		wantStatus(t, resp, http.StatusOK)
		wantContains(t, box, `aria-current="page">`, "OSAW Verzuim")

		for _, c := range []struct {
			name string
			b    *browser
			team int64
		}{
			{"a colleague outside the team", bram.b, team.ID},
			{"an outsider", jan.b, team.ID},
			{"another organisation's member", otherColleague.b, team.ID},
			{"a team of another organisation", hr.b, theirs.ID},
			{"an id no team has", hr.b, theirs.ID + 1000},
		} {
			box := "/berichten?team=" + itoa(c.team)
			for _, r := range []struct {
				what    string
				target  string
				headers []string
			}{
				{"the page", box, nil},
				{"Meer berichten", box + "&pagina=2&na=1771837560000000000-7", []string{"HX-Request", "true", "HX-Target", "inbox-more"}},
				{"the re-fetch after a lost connection", box, []string{"HX-Request", "true", "X-Dialoog-Resync", "true"}},
			} {
				resp, page := c.b.get(r.target, r.headers...)
				if resp.StatusCode != http.StatusNotFound {
					t.Errorf("%s, %s: %d, want 404", c.name, r.what, resp.StatusCode)
				}
				wantNotContains(t, page, "OSAW Verzuim</a>", "team-tabs__")
			}
		}
	})
}

// TestTeamBoxSearchOverHTTP, on both engines: the search form of a team
// box carries the team, and a search typed there (?team=&zoek=) lists the
// team's conversations only, with the team's tab still selected, and its
// "Meer berichten" keeps both the team and the query; a non-member's
// search is 404 like the box.
func TestTeamBoxSearchOverHTTP(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ra := newRealAppOn(t, d)
		hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
		bram := ra.person(t, "bram@osaw.nl", true, "Bram", "", "Arts", "nl")
		jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		team, err := ra.msg.CreateTeam(ctx, ra.org.ID, "OSAW Verzuim", false, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := ra.msg.AddTeamMember(ctx, team.ID, hr.u.Email); err != nil {
			t.Fatal(err)
		}
		teamID := itoa(team.ID)
		mine := ra.compose(t, hr.u, "Verzuim persoonlijk", "Hallo", jan.u.Email)
		var theirs []int64
		for i := range messaging.PageSize + 1 {
			id, err := ra.msg.Compose(ctx, hr.u.Identity(), messaging.ComposeInput{To: []string{jan.u.Email}, Subject: "Verzuim team " + itoa(int64(i)), Body: "Hallo", TeamID: team.ID})
			if err != nil {
				t.Fatal(err)
			}
			theirs = append(theirs, id)
		}

		_, box := hr.b.get("/berichten?team=" + teamID)
		wantContains(t, box, `<input type="hidden" name="team" value="`+teamID+`">`)
		_, all := hr.b.get("/berichten")
		wantNotContains(t, all, `name="team"`)

		for _, r := range []struct {
			what    string
			headers []string
		}{
			{"the page", nil},
			{"the results typed", []string{"HX-Request", "true", "HX-Target", "inbox-results"}},
		} {
			resp, page := hr.b.get("/berichten?team="+teamID+"&zoek=verzuim", r.headers...)
			wantStatus(t, resp, http.StatusOK)
			wantContains(t, page, `"/berichten/`+itoa(theirs[len(theirs)-1])+`"`,
				`href="/berichten?pagina=2&amp;team=`+teamID+`&amp;zoek=verzuim"`)
			wantNotContains(t, page, `"/berichten/`+itoa(mine)+`"`)
			if r.headers == nil {
				wantContains(t, page, `id="team-tab-`+teamID+`" href="/berichten?team=`+teamID+`" aria-current="page"`)
			}
		}
		_, page := hr.b.get("/berichten?team="+teamID+"&zoek=verzuim&pagina=2", "HX-Request", "true", "HX-Target", "inbox-more")
		wantContains(t, page, `"/berichten/`+itoa(theirs[0])+`"`)
		wantNotContains(t, page, `"/berichten/`+itoa(mine)+`"`)

		for _, b := range []*browser{bram.b, jan.b} {
			resp, page := b.get("/berichten?team=" + teamID + "&zoek=verzuim")
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("a non-member's search: %d, want 404", resp.StatusCode)
			}
			wantNotContains(t, page, "Verzuim team")
		}
	})
}

// TestCaseBoxSearchOverHTTP, on both engines: the inbox filtered by a case
// carries the case in its search form, and a search there finds the
// case's conversations only, with the case's header kept; anyone who may
// not see the case gets 404.
func TestCaseBoxSearchOverHTTP(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ra := newRealAppOn(t, d)
		hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
		jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		inCase := ra.compose(t, hr.u, "Verzuim week 1", "Hallo", jan.u.Email)
		outside := ra.compose(t, hr.u, "Verzuim vorig jaar", "Hallo", jan.u.Email)
		caseID, err := ra.msg.CreateCaseForThread(ctx, hr.u.Identity(), inCase, jan.u.ID, "P-1")
		if err != nil {
			t.Fatal(err)
		}
		id := itoa(caseID)
		_, box := hr.b.get("/berichten?dossier=" + id)
		wantContains(t, box, `<input type="hidden" name="dossier" value="`+id+`">`)
		for _, headers := range [][]string{nil, {"HX-Request", "true", "HX-Target", "inbox-results"}} {
			resp, page := hr.b.get("/berichten?dossier="+id+"&zoek=verzuim", headers...)
			wantStatus(t, resp, http.StatusOK)
			wantContains(t, page, `"/berichten/`+itoa(inCase)+`"`)
			wantNotContains(t, page, `"/berichten/`+itoa(outside)+`"`)
			if headers == nil {
				wantContains(t, page, "P-1", `<input type="hidden" name="dossier" value="`+id+`">`)
			}
		}
		resp, page := jan.b.get("/berichten?dossier=" + id + "&zoek=verzuim")
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("an outsider's search in the case: %d, want 404", resp.StatusCode)
		}
		wantNotContains(t, page, "Verzuim week 1")
	})
}
