package messaging_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"dialoog/apperr"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// TestTeamJoinGivesEachInboxOneVersion, on both engines: a colleague who
// joins a team box, leaves it and joins it again gives every inbox that
// shows the team's conversations a new version (the members', the
// people they write with, their own), so that the pages kept in memory
// are read again, and on SQLite it writes each of those users' version
// at most three times, whatever the size of the team: before, the
// triggers of migration 0037 gave everyone in a conversation a new
// version once per participant row added or removed, so that a member
// of a team of c conversations was written c times by one join, and a
// join wrote about conversations × members users rows (64-75 ms with
// 1,000 conversations of 30 members, holding SQLite's one writer).
//
// Two sizes, 4 conversations of 4 members and 16 of 16, each with an
// outsider of its own: the joiner took part in one conversation in
// person before (that row moves under the team and back), and is
// assigned one before leaving. Everyone's inbox, team tabs and team box
// are read as GET /berichten does before and after each step, so that a
// page that changed under an unchanged version fails the inbox cache's
// check in test binaries.
func TestTeamJoinGivesEachInboxOneVersion(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		writes := map[int]int64{}
		for _, n := range []int{4, 16} {
			t.Run(fmt.Sprint(n), func(t *testing.T) { writes[n] = testTeamJoinVersions(t, f, n) })
		}
		if !d.Postgres() {
			t.Logf("version writes of a join, a leave and a join: %d with 4 conversations of 4 members, %d with 16 of 16", writes[4], writes[16])
		}
	})
}

// testTeamJoinVersions runs the join, leave and join with a team of n
// conversations and n members and returns how many inbox versions they
// wrote (SQLite; 0 on PostgreSQL).
func testTeamJoinVersions(t *testing.T, f *fx, n int) int64 {
	ctx := context.Background()
	d := f.d
	tag := fmt.Sprint("join", n)
	team, colleagues := f.teamOfColleagues(t, "Team "+tag, tag+"-", n)
	people := slices.Clone(colleagues)
	outsiders := f.growthPeople(t, tag+"-ext", n)
	people = append(people, outsiders...)
	tids := make([]int64, n)
	for i := range tids {
		f.clk.Add(2 * time.Minute)
		var err error
		if tids[i], err = f.svc.Compose(ctx, colleagues[0].Identity(), messaging.ComposeInput{To: []string{outsiders[i].Email}, Subject: "Team", Body: "Hallo", TeamID: team.ID}); err != nil {
			t.Fatal(err)
		}
	}
	joiner := f.active(t, tag+"-joiner@osaw.nl", true, "Jo", "", "Iner")
	people = append(people, joiner)
	if err := f.svc.AddParticipant(ctx, colleagues[0].Identity(), tids[0], messaging.AddInput{Email: joiner.Email, History: messaging.WithHistory}); err != nil {
		t.Fatal(err)
	}

	versions := func() map[int64]int64 {
		t.Helper()
		return inboxVersionsOf(t, d, people)
	}
	// look reads everyone's pages under the versions before and keeps
	// them (the inbox cache), as GET /berichten does.
	look := func(step string, seen map[int64]int64) {
		t.Helper()
		readInboxesUnder(t, f.svc, people, team.ID, step, seen)
	}
	var written int64
	steps := []struct {
		name   string
		change func() error
	}{
		{"join", func() error { return f.svc.AddTeamMember(ctx, team.ID, joiner.Email) }},
		{"assign", func() error { return f.svc.Assign(ctx, colleagues[0].Identity(), tids[1], joiner.ID) }},
		{"leave", func() error { return f.svc.RemoveTeamMember(ctx, team.ID, joiner.Email) }},
		{"join again", func() error { return f.svc.AddTeamMember(ctx, team.ID, joiner.Email) }},
	}
	before := versions()
	look("start", before)
	for _, step := range steps {
		if err := step.change(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		after := versions()
		look(step.name, after)
		if step.name == "assign" {
			before = after
			continue
		}
		// Every inbox that shows the team's conversations.
		for _, u := range people {
			if after[u.ID] == before[u.ID] {
				t.Errorf("%s: the inbox version of %s did not change", step.name, u.Email)
			}
		}
		if !d.Postgres() {
			// Each user's version is written a bounded number of times,
			// not once per conversation it shares with the joiner: at
			// most three (the joiner's, by their membership's own
			// trigger and before and after their rows change).
			for id, v := range after {
				written += v - before[id]
				if v-before[id] > 3 {
					t.Errorf("%s: the inbox version of user %d was written %d times (%d conversations, %d members)", step.name, id, v-before[id], n, n)
				}
			}
		}
		before = after
	}
	countersAgree(t, d, tag)
	return written
}

// inboxVersionsOf returns the inbox version of each of people: on
// PostgreSQL this instance's, after a sync with the notifications; on
// SQLite the stored one.
func inboxVersionsOf(t *testing.T, d *db.DB, people []*db.User) map[int64]int64 {
	t.Helper()
	ctx := context.Background()
	out := map[int64]int64{}
	if d.Postgres() {
		if err := d.InboxSync(ctx); err != nil {
			t.Fatal(err)
		}
		for _, u := range people {
			v, ok := d.InboxVersion(u.ID)
			if !ok {
				t.Fatal("no inbox version after a sync")
			}
			out[u.ID] = v
		}
		return out
	}
	var rows []struct {
		ID      int64 `bun:"id"`
		Version int64 `bun:"inbox_version"`
	}
	if err := d.NewRaw("SELECT id, inbox_version FROM users").Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		out[r.ID] = r.Version
	}
	return out
}

// readInboxesUnder reads everyone's pages (the inbox, their teams, the
// team box of teamID) under the versions seen and keeps them (the inbox
// cache), as GET /berichten does.
func readInboxesUnder(t *testing.T, svc *messaging.Service, people []*db.User, teamID int64, step string, seen map[int64]int64) {
	t.Helper()
	ctx := context.Background()
	for _, u := range people {
		c := messaging.WithInboxVersion(ctx, u.ID, seen[u.ID])
		if _, err := svc.Inbox(c, u.Identity(), 1, ""); err != nil {
			t.Fatalf("%s: inbox of %s: %v", step, u.Email, err)
		}
		if _, err := svc.MyTeams(c, u.Identity()); err != nil {
			t.Fatalf("%s: teams of %s: %v", step, u.Email, err)
		}
		if _, err := svc.TeamBox(c, u.Identity(), teamID, 1); err != nil && apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("%s: team box of %s: %v", step, u.Email, err)
		}
	}
}
