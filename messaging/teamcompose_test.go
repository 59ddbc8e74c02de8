package messaging_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// TestTeamComposeGivesEachInboxOneVersion, on both engines: a
// conversation started for a team box of 16 members, and a member who
// leaves it while 16 of its conversations are assigned to them, give
// every inbox that shows them a new version (the members', the people
// written to, the leaver's), so that the pages kept in memory are read
// again, and on SQLite they write each of those users' version a bounded
// number of times, whatever the size of the team.
//
// Before, on SQLite, the team's rows of a new conversation were added in
// one statement, and each row's trigger (migration 0037) gave everyone
// already in the conversation a new version: members × members / 2
// writes of users rows per conversation, the first member's written once
// per member, holding SQLite's one writer. And a leave cleared the
// leaver's assignments in one statement whose trigger gave everyone in
// each conversation a new version, once per conversation assigned to the
// leaver: every member once per assignment.
//
// Everyone's inbox, team tabs and team box are read as GET /berichten
// does before and after each step, so that a page that changed under an
// unchanged version fails the inbox cache's check in test binaries.
func TestTeamComposeGivesEachInboxOneVersion(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		const n = 16
		team, colleagues := f.teamOfColleagues(t, "Team compose", "compose-", n)
		people := slices.Clone(colleagues)
		outsiders := f.growthPeople(t, "compose-ext", 3)
		people = append(people, outsiders...)

		versions := func() map[int64]int64 {
			t.Helper()
			return inboxVersionsOf(t, d, people)
		}
		look := func(step string, seen map[int64]int64) {
			t.Helper()
			readInboxesUnder(t, f.svc, people, team.ID, step, seen)
		}
		// step runs change and checks that the versions of affected (and
		// of no one else on SQLite, where they are counted) changed, each
		// at most bound times.
		before := versions()
		look("start", before)
		step := func(name string, affected []*db.User, bound int64, change func() error) {
			t.Helper()
			if err := change(); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			after := versions()
			look(name, after)
			for _, u := range affected {
				if after[u.ID] == before[u.ID] {
					t.Errorf("%s: the inbox version of %s did not change", name, u.Email)
				}
			}
			if !d.Postgres() {
				var written int64
				for _, u := range people {
					w := after[u.ID] - before[u.ID]
					written += w
					if w > bound {
						t.Errorf("%s: the inbox version of %s was written %d times (%d members)", name, u.Email, w, n)
					}
				}
				t.Logf("%s: %d version writes", name, written)
			}
			before = after
		}
		everyone := func(others ...*db.User) []*db.User {
			out := append([]*db.User{}, people[:n]...)
			return append(out, others...)
		}

		// Conversations for the team with two people, or with one and a
		// member of the team (who takes part once, through the team), n
		// of them in all.
		tids := make([]int64, n)
		for i := range tids {
			f.clk.Add(2 * time.Minute)
			to := []*db.User{outsiders[i/2%2], outsiders[2]}
			if i%2 == 1 {
				to = []*db.User{outsiders[2], colleagues[(i+1)%n]}
			}
			emails := make([]string, len(to))
			for j, u := range to {
				emails[j] = u.Email
			}
			step(fmt.Sprint("compose ", i), everyone(to...), 2, func() error {
				var err error
				tids[i], err = f.svc.Compose(ctx, colleagues[i].Identity(), messaging.ComposeInput{To: emails, Subject: "Team", Body: "Hallo", TeamID: team.ID})
				return err
			})
		}
		leaver := colleagues[1]
		for i, tid := range tids {
			step(fmt.Sprint("assign ", i), nil, 1<<20, func() error { return f.svc.Assign(ctx, colleagues[0].Identity(), tid, leaver.ID) })
		}
		// Everyone sees the assignee go, and the leaver the team's
		// conversations.
		step("leave", people, 3, func() error { return f.svc.RemoveTeamMember(ctx, team.ID, leaver.Email) })
		var assigned int
		if err := d.NewRaw("SELECT COUNT(*) FROM threads WHERE assigned_to IS NOT NULL").Scan(ctx, &assigned); err != nil {
			t.Fatal(err)
		}
		if assigned != 0 {
			t.Errorf("%d conversations still assigned after the assignee left", assigned)
		}
		countersAgree(t, d, "compose")
	})
}
