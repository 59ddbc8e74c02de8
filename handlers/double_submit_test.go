package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// atOnce posts form to target from each browser at the same moment (a
// form sent twice by a double click, or by two tabs) and returns the
// answers.
func atOnce(t *testing.T, browsers []*browser, target string, form url.Values) []answer {
	t.Helper()
	for _, b := range browsers {
		b.csrf()
	}
	answers := make([]answer, len(browsers))
	var wg sync.WaitGroup
	for i, b := range browsers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := url.Values{}
			for k, v := range form {
				f[k] = append([]string(nil), v...)
			}
			resp, body := b.post(target, f)
			answers[i] = answer{resp.StatusCode, body, resp.Header.Get("Location")}
		}()
	}
	wg.Wait()
	return answers
}

// answer is the status and page of a request, and where it redirects.
type answer struct {
	status   int
	body     string
	location string
}

// wantOneDone checks that one of the answers is a redirect (done) and
// every other one a redirect or the form again with message (422): never
// a server error.
func wantOneDone(t *testing.T, what string, answers []answer, message string) {
	t.Helper()
	done := 0
	var statuses []int
	for _, a := range answers {
		statuses = append(statuses, a.status)
	}
	for _, a := range answers {
		switch a.status {
		case http.StatusSeeOther:
			done++
		case http.StatusUnprocessableEntity:
			if !strings.Contains(a.body, message) {
				t.Fatalf("%s: a refusal without %q", what, message)
			}
		default:
			t.Fatalf("%s: statuses %v", what, statuses)
		}
	}
	if done == 0 {
		t.Fatalf("%s: nothing done: %v", what, statuses)
	}
}

// count counts the rows of model matching where.
func (ra *realApp) count(t *testing.T, model any, where string, args ...any) int {
	t.Helper()
	n, err := ra.d.NewSelect().Model(model).Where(where, args...).Count(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// TestTeamFormsSentTwiceAtOnce, on both engines: "Team aanmaken" and "Lid
// toevoegen" sent twice at the same moment make one team and one
// membership; the later request gets the form with its message, never a
// server error (on PostgreSQL the second insert broke a unique index
// after the check for a taken name or member had passed in both).
func TestTeamFormsSentTwiceAtOnce(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		admin := ra.adminOf(t, "beheer@osaw.nl")
		hanna := ra.person(t, "hanna@osaw.nl", true, "Hanna", "", "Vries", "nl")
		tabs := []*browser{admin.b, ra.signIn(t, admin.u), ra.signIn(t, admin.u), ra.signIn(t, admin.u)}
		for _, name := range []string{"Bedrijfsartsen", "Casemanagers", "Planning"} {
			wantOneDone(t, "create "+name, atOnce(t, tabs, pathAdminTeams, url.Values{"name": {name}}), "Er is al een team met deze naam.")
			if n := ra.count(t, (*db.Team)(nil), "name = ?", name); n != 1 {
				t.Fatalf("%d teams %s", n, name)
			}
			var team db.Team
			if err := ra.d.NewSelect().Model(&team).Where("name = ?", name).Scan(t.Context()); err != nil {
				t.Fatal(err)
			}
			wantOneDone(t, "member of "+name, atOnce(t, tabs, teamPath(team.ID)+"/leden", url.Values{"email": {hanna.u.Email}}), "Deze persoon is al lid van het team.")
			if n := ra.count(t, (*db.TeamMember)(nil), "team_id = ?", team.ID); n != 1 {
				t.Fatalf("%d members of %s", n, name)
			}
		}
	})
}

// TestConversationFormsSentTwiceAtOnce, on both engines: "Deelnemer
// toevoegen" and "Aan dossier toevoegen" (a new case) sent twice at the
// same moment add one participant and make one case; the later request
// gets the conversation with the form's message, never a server error.
func TestConversationFormsSentTwiceAtOnce(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
		jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		tabs := []*browser{hr.b, ra.signIn(t, hr.u), ra.signIn(t, hr.u), ra.signIn(t, hr.u)}
		for _, ref := range []string{"P-1", "P-2", "P-3"} {
			threadID := ra.compose(t, hr.u, "Overleg "+ref, "Hallo", jan.u.Email)
			tp := "/berichten/" + itoa(threadID)
			wantOneDone(t, "participant in "+ref, atOnce(t, tabs, tp+"/deelnemers", url.Values{"email": {"arts@example.nl"}, "history": {"new"}}),
				"Deze persoon doet al mee aan dit gesprek.")
			if n := ra.count(t, (*db.Participant)(nil), "thread_id = ?", threadID); n != 3 {
				t.Fatalf("%d participants in %s", n, ref)
			}
			wantOneDone(t, "case "+ref, atOnce(t, tabs, tp+"/dossier", url.Values{"subject": {itoa(jan.u.ID)}, "reference": {ref}}),
				"Er bestaat al een dossier met dit kenmerk.")
			if n := ra.count(t, (*db.Case)(nil), "reference = ?", ref); n != 1 {
				t.Fatalf("%d cases %s", n, ref)
			}
		}
	})
}

// TestAdminInviteSentTwiceAtOnce, on both engines: "Collega uitnodigen"
// sent twice at the same moment makes one invited colleague; the later
// request gets the form with its message, never a server error.
func TestAdminInviteSentTwiceAtOnce(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		admin := ra.adminOf(t, "beheer@osaw.nl")
		tabs := []*browser{admin.b, ra.signIn(t, admin.u), ra.signIn(t, admin.u), ra.signIn(t, admin.u)}
		for _, email := range []string{"arts@osaw.nl", "cm@osaw.nl", "planning@osaw.nl"} {
			wantOneDone(t, "invite "+email, atOnce(t, tabs, "/beheer/gebruikers/uitnodigen", url.Values{"email": {email}, "role": {"member"}}),
				"Dit e-mailadres heeft al een account.")
			if n := ra.count(t, (*db.User)(nil), "email = ?", email); n != 1 {
				t.Fatalf("%d users %s", n, email)
			}
		}
	})
}
