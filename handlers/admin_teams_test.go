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

func teamRoutes(teamID, userID int64) (gets, posts []string) {
	p := "/beheer/teams/" + itoa(teamID)
	return []string{"/beheer/teams", p}, []string{"/beheer/teams", p, p + "/leden", p + "/leden/" + itoa(userID) + "/verwijderen"}
}

// TestAdminTeamsHidden, on both engines: "Teams" is a 404 for a
// colleague who is no admin, for an external user, and, for every route
// about a team, for an admin of another organisation, whose list shows
// nothing of this one and whose posts change nothing.
func TestAdminTeamsHidden(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ra := newRealAppOn(t, d)
		admin := ra.adminOf(t, "hr@osaw.nl")
		colleague := ra.person(t, "collega@osaw.nl", true, "Kees", "", "Smit", "nl")
		ext := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		_, otherAdmin, otherColleague := ra.otherOrg(t)
		team, err := ra.msg.CreateTeam(ctx, ra.org.ID, "OSAW Verzuim", false, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := ra.msg.AddTeamMember(ctx, team.ID, colleague.u.Email); err != nil {
			t.Fatal(err)
		}
		gets, posts := teamRoutes(team.ID, colleague.u.ID)
		form := url.Values{"name": {"Overgenomen"}, "medical": {"yes"}, "email": {otherColleague.u.Email}}
		for _, b := range []*browser{colleague.b, ext.b, otherColleague.b} {
			for _, p := range gets {
				resp, _ := b.get(p)
				wantStatus(t, resp, http.StatusNotFound)
			}
			for _, p := range posts {
				resp, _ := b.post(p, form)
				wantStatus(t, resp, http.StatusNotFound)
			}
		}
		for _, p := range gets[1:] {
			resp, _ := otherAdmin.b.get(p)
			wantStatus(t, resp, http.StatusNotFound)
		}
		for _, p := range posts[1:] {
			resp, _ := otherAdmin.b.post(p, form)
			wantStatus(t, resp, http.StatusNotFound)
		}
		resp, page := otherAdmin.b.get("/beheer/teams")
		wantStatus(t, resp, http.StatusOK)
		wantNotContains(t, page, ">OSAW Verzuim</a>", "/beheer/teams/"+itoa(team.ID))
		var got db.Team
		if err := d.NewSelect().Model(&got).Where("id = ?", team.ID).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if got.Name != "OSAW Verzuim" || got.Medical {
			t.Fatalf("team changed by outsiders: %+v", got)
		}
		n, err := d.NewSelect().Model((*db.TeamMember)(nil)).Where("team_id = ?", team.ID).Count(ctx)
		if err != nil || n != 1 {
			t.Fatalf("members after outsiders' posts: %d, %v", n, err)
		}
		// The organisation's own admin sees it, and the index names it.
		_, page = admin.b.get("/beheer")
		wantContains(t, page, `<a href="/beheer/teams" hx-get="/beheer/teams" hx-push-url="true">Teams</a>`)
		_, page = admin.b.get("/beheer/teams")
		wantContains(t, page, `hx-push-url="true">OSAW Verzuim</a>`, "· leden: 1")
	})
}

// TestAdminTeams, on both engines: an admin creates a team, renames it,
// flags it medical and hides the writer's name from outsiders, adds and
// removes a colleague, all through the pages; refused input keeps what
// was typed; names are escaped; each change is an audit row of the
// organisation naming the admin; a colleague added in Beheer sees the
// team's conversations at once and loses them when removed.
func TestAdminTeams(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ra := newRealAppOn(t, d)
		admin := ra.adminOf(t, "hr@osaw.nl")
		hanna := ra.person(t, "hanna@osaw.nl", true, "Hanna", "de", "Vries", "nl")
		kees := ra.person(t, "kees@osaw.nl", true, "Kees", "", "Smit", "nl")
		jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		_, _, otherColleague := ra.otherOrg(t)

		// Refused: no name; the flags stay as typed.
		resp, page := admin.b.post("/beheer/teams", url.Values{"name": {"  "}, "medical": {"yes"}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, "Geef het team een naam.", `id="team-new-medical" type="checkbox" name="medical" value="yes" checked`)
		wantNotContains(t, page, `id="team-new-show" type="checkbox" name="show_person" value="yes" checked`)

		resp, _ = admin.b.post("/beheer/teams", url.Values{"name": {"Zorg & <Co>"}, "show_person": {"yes"}})
		wantStatus(t, resp, http.StatusSeeOther)
		loc := resp.Header.Get("Location")
		id, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(loc, "/beheer/teams/"), "?melding=aangemaakt"), 10, 64)
		if err != nil {
			t.Fatalf("location %q", loc)
		}
		path := "/beheer/teams/" + itoa(id)
		_, page = admin.b.get(loc)
		wantContains(t, page, "Het team is aangemaakt.", "<h1>Zorg &amp; &lt;Co&gt;</h1>")
		wantNotContains(t, page, "<Co>")
		// A taken name is refused with what was typed.
		resp, page = admin.b.post("/beheer/teams", url.Values{"name": {"Zorg & <Co>"}, "medical": {"yes"}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, "Er is al een team met deze naam.", `value="Zorg &amp; &lt;Co&gt;"`)

		// Rename refused: the page keeps the typed flags.
		resp, page = admin.b.post(path, url.Values{"name": {strings.Repeat("x", 101)}, "medical": {"yes"}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, "De naam van het team is te lang.", `value="`+strings.Repeat("x", 101)+`"`,
			`id="team-medical" type="checkbox" name="medical" value="yes" checked`)
		resp, _ = admin.b.post(path, url.Values{"name": {"OSAW Verzuim"}, "show_person": {"yes"}})
		wantRedirect(t, resp, path+"?melding=opgeslagen")

		// Members: only colleagues of the organisation.
		for email, msg := range map[string]string{jan.u.Email: "Alleen collega&#39;s van de organisatie kunnen lid zijn.",
			otherColleague.u.Email: "Alleen collega&#39;s van de organisatie kunnen lid zijn.", "niemand@osaw.nl": "Er is niemand met dit e-mailadres."} {
			resp, page = admin.b.post(path+"/leden", url.Values{"email": {email}})
			wantStatus(t, resp, http.StatusUnprocessableEntity)
			wantContains(t, page, msg, `value="`+email+`"`)
		}
		resp, _ = admin.b.post(path+"/leden", url.Values{"email": {hanna.u.Email}})
		wantRedirect(t, resp, path+"?melding=toegevoegd")

		// Hanna starts a conversation for the team; Kees, added in Beheer
		// afterwards, sees it at once, with its history.
		resp, _ = hanna.b.post("/berichten/nieuw", url.Values{"to": {jan.u.Email}, "subject": {"Verzuim"}, "body": {"Hoe gaat het?"}, "team": {itoa(id)}})
		wantStatus(t, resp, http.StatusSeeOther)
		thread := resp.Header.Get("Location")
		resp, _ = kees.b.get(thread)
		wantStatus(t, resp, http.StatusNotFound)
		resp, _ = admin.b.post(path+"/leden", url.Values{"email": {kees.u.Email}})
		wantRedirect(t, resp, path+"?melding=toegevoegd")
		resp, page = kees.b.get(thread)
		wantStatus(t, resp, http.StatusOK)
		wantContains(t, page, "Hoe gaat het?")
		_, page = admin.b.get(path)
		wantContains(t, page, "Kees Smit (kees@osaw.nl)", "Hanna de Vries (hanna@osaw.nl)")

		// Medical, and outsiders see only the team's name.
		resp, _ = admin.b.post(path, url.Values{"name": {"OSAW Verzuim"}, "medical": {"yes"}})
		wantRedirect(t, resp, path+"?melding=opgeslagen")
		var team db.Team
		if err := d.NewSelect().Model(&team).Where("id = ?", id).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if team.Name != "OSAW Verzuim" || !team.Medical || team.ShowPerson {
			t.Fatalf("team after saving: %+v", team)
		}
		resp, _ = kees.b.post(thread, url.Values{"body": {"Namens ons allen"}})
		wantStatus(t, resp, http.StatusSeeOther)
		_, page = jan.b.get(thread)
		wantContains(t, page, "Namens ons allen", "OSAW Verzuim")
		wantNotContains(t, page, "Kees Smit")

		// Removed: Kees loses the conversation at once.
		resp, _ = admin.b.post(path+"/leden/"+itoa(kees.u.ID)+"/verwijderen", nil)
		wantRedirect(t, resp, path+"?melding=verwijderd")
		resp, _ = kees.b.get(thread)
		wantStatus(t, resp, http.StatusNotFound)
		resp, _ = admin.b.post(path+"/leden/"+itoa(kees.u.ID)+"/verwijderen", nil)
		wantStatus(t, resp, http.StatusNotFound)

		var rows []db.AuditEvent
		if err := d.NewSelect().Model(&rows).Where("kind LIKE 'team.%'").Order("id").Scan(ctx); err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, r := range rows {
			if r.OrgID == nil || *r.OrgID != ra.org.ID || r.ActorID == nil || *r.ActorID != admin.u.ID {
				t.Fatalf("audit row %s without the organisation or the admin: %+v", r.Kind, r)
			}
			kinds = append(kinds, r.Kind)
		}
		want := "team.created team.renamed team.member_added team.member_added team.medical team.show_person team.member_removed"
		if got := strings.Join(kinds, " "); got != want {
			t.Fatalf("audit kinds %q, want %q", got, want)
		}
		_, page = admin.b.get("/beheer/audit")
		wantContains(t, page, "team.member_removed", "kees@osaw.nl")
	})
}

// TestAdminInviteIntoTeams, on both engines: the invitation form offers
// the organisation's teams; a colleague invited with a team ticked is its
// member from the start, in the team's conversations; a team of another
// organisation refuses the whole invitation and the form keeps what was
// typed.
func TestAdminInviteIntoTeams(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ra := newRealAppOn(t, d)
		admin := ra.adminOf(t, "hr@osaw.nl")
		hanna := ra.person(t, "hanna@osaw.nl", true, "Hanna", "de", "Vries", "nl")
		jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		otherOrg, _, _ := ra.otherOrg(t)
		team, err := ra.msg.CreateTeam(ctx, ra.org.ID, "OSAW Verzuim", false, true)
		if err != nil {
			t.Fatal(err)
		}
		foreign, err := ra.msg.CreateTeam(ctx, otherOrg.ID, "Elders", false, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := ra.msg.AddTeamMember(ctx, team.ID, hanna.u.Email); err != nil {
			t.Fatal(err)
		}
		resp, _ := hanna.b.post("/berichten/nieuw", url.Values{"to": {jan.u.Email}, "subject": {"Verzuim"}, "body": {"Hoe gaat het?"}, "team": {itoa(team.ID)}})
		wantStatus(t, resp, http.StatusSeeOther)
		thread, err := strconv.ParseInt(strings.TrimPrefix(resp.Header.Get("Location"), "/berichten/"), 10, 64)
		if err != nil {
			t.Fatal(err)
		}

		_, page := admin.b.get("/beheer/gebruikers")
		wantContains(t, page, `<input type="checkbox" name="teams" value="`+itoa(team.ID)+`">`)
		wantNotContains(t, page, "Elders")

		resp, page = admin.b.post("/beheer/gebruikers/uitnodigen", url.Values{"email": {"nieuw@osaw.nl"}, "role": {"member"},
			"teams": {itoa(team.ID), itoa(foreign.ID)}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, "Dit team bestaat niet.", `value="nieuw@osaw.nl"`,
			`<input type="checkbox" name="teams" value="`+itoa(team.ID)+`" checked aria-invalid="true" aria-describedby="invite-teams-error">`)
		if n, err := d.NewSelect().Model((*db.User)(nil)).Where("email = ?", "nieuw@osaw.nl").Count(ctx); err != nil || n != 0 {
			t.Fatalf("refused invitation stored a user: %d, %v", n, err)
		}

		resp, _ = admin.b.post("/beheer/gebruikers/uitnodigen", url.Values{"email": {"nieuw@osaw.nl"}, "role": {"member"}, "teams": {itoa(team.ID)}})
		wantRedirect(t, resp, "/beheer/gebruikers?melding=uitgenodigd")
		var u db.User
		if err := d.NewSelect().Model(&u).Where("email = ?", "nieuw@osaw.nl").Scan(ctx); err != nil {
			t.Fatal(err)
		}
		member, err := d.NewSelect().Model((*db.TeamMember)(nil)).Where("team_id = ? AND user_id = ?", team.ID, u.ID).Exists(ctx)
		if err != nil || !member {
			t.Fatalf("invited colleague not a member: %v", err)
		}
		in, err := d.NewSelect().Model((*db.Participant)(nil)).Where("thread_id = ? AND user_id = ? AND via_team_id = ?", thread, u.ID, team.ID).Exists(ctx)
		if err != nil || !in {
			t.Fatalf("invited colleague not in the team's conversation: %v", err)
		}
		var ev db.AuditEvent
		if err := d.NewSelect().Model(&ev).Where("kind = 'team.member_added' AND user_id = ?", u.ID).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if ev.OrgID == nil || *ev.OrgID != ra.org.ID || ev.ActorID == nil || *ev.ActorID != admin.u.ID {
			t.Fatalf("audit row %+v", ev)
		}
	})
}
