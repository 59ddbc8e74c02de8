package messaging_test

import (
	"context"
	"strings"
	"testing"

	"dialoog/apperr"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// TestInboxVersionFollowsChanges makes every kind of change an inbox shows,
// through the service where it has one and in SQL where another package
// makes it, and after each one reads the inbox, the team box and the team
// tabs of everyone involved as GET /berichten does: with the inbox version
// the session's query reads (SQLite) or this instance knows once the
// change's notification arrived (PostgreSQL). Each person's pages were read (and kept)
// before the change, so a change that leaves a version as it was is served
// from memory, and the cache's check in test binaries fails on the
// difference. A page whose version did not move costs no statement.
func TestInboxVersionFollowsChanges(t *testing.T) {
	dbtest.ForEachEngine(t, testInboxVersionFollowsChanges)
}

func testInboxVersionFollowsChanges(t *testing.T, d *db.DB) {
	ctx := context.Background()
	f := setup(t, d)
	emp := f.active(t, "werknemer@example.nl", false, "Wim", "", "Werker")
	colleague := f.active(t, "collega@osaw.nl", true, "Cor", "", "Collega")
	outsider := f.active(t, "ander@example.nl", false, "Olga", "", "Ander")
	team, err := f.svc.CreateTeam(ctx, f.org.ID, "Verzuim", false, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.AddTeamMember(ctx, team.ID, f.hr.Email); err != nil {
		t.Fatal(err)
	}
	people := []*db.User{f.hr, f.boss, emp, colleague}

	version := func(u *db.User) int64 {
		if d.Postgres() {
			if err := d.InboxSync(ctx); err != nil {
				t.Fatal(err)
			}
			v, ok := d.InboxVersion(u.ID)
			if !ok {
				t.Fatal("no inbox version after a sync")
			}
			return v
		}
		var v int64
		if err := d.NewRaw("SELECT inbox_version FROM users WHERE id = ?", u.ID).Scan(ctx, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	// look reads everyone's pages as GET /berichten does and returns the
	// versions it read them under.
	look := func(step string) map[int64]int64 {
		t.Helper()
		seen := map[int64]int64{}
		for _, u := range people {
			v := version(u)
			seen[u.ID] = v
			c := messaging.WithInboxVersion(ctx, u.ID, v)
			if _, err := f.svc.Inbox(c, u.Identity(), 1, ""); err != nil {
				t.Fatalf("%s: inbox of %s: %v", step, u.Email, err)
			}
			if _, err := f.svc.MyTeams(c, u.Identity()); err != nil {
				t.Fatalf("%s: teams of %s: %v", step, u.Email, err)
			}
			// NotFound for anyone but a member (TestTeamBoxOnlyForMembers).
			member, err := d.NewSelect().Model((*db.TeamMember)(nil)).Where("team_id = ? AND user_id = ?", team.ID, u.ID).Exists(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.TeamBox(c, u.Identity(), team.ID, 1); err != nil && (member || apperr.CodeOf(err) != apperr.NotFound) {
				t.Fatalf("%s: team box of %s: %v", step, u.Email, err)
			}
		}
		return seen
	}
	var tid, first, teamTid int64
	steps := []struct {
		name    string
		change  func() error
		changed []*db.User // whose version must move
	}{
		{"compose", func() (err error) {
			tid, err = f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{emp.Email, f.boss.Email}, Subject: "Herstel", Body: "Hoe gaat het?"})
			return err
		}, []*db.User{f.hr, f.boss, emp}},
		{"reply", func() (err error) {
			first, err = f.svc.Reply(ctx, emp.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Beter."})
			return err
		}, []*db.User{f.hr, f.boss, emp}},
		{"delete for everyone", func() error { return f.svc.DeleteForEveryone(ctx, emp.Identity(), first) }, []*db.User{f.hr, f.boss, emp}},
		{"read", func() error { _, err := f.svc.MarkRead(ctx, f.boss.Identity(), tid); return err }, []*db.User{f.boss}},
		{"add participant", func() error {
			return f.svc.AddParticipant(ctx, f.hr.Identity(), tid, messaging.AddInput{Email: colleague.Email, History: messaging.WithHistory})
		}, []*db.User{f.hr, f.boss, emp, colleague}},
		{"rename a participant", func() error {
			_, err := d.ExecContext(ctx, "UPDATE users SET last_name = 'Werker-Jansen' WHERE id = ?", emp.ID)
			return err
		}, []*db.User{f.hr, f.boss, emp, colleague}},
		{"rename the organisation", func() error {
			_, err := d.ExecContext(ctx, "UPDATE organisations SET name = 'OSAW Arbo' WHERE id = ?", f.org.ID)
			return err
		}, []*db.User{f.hr, f.boss, emp, colleague}},
		{"join a team", func() error { return f.svc.AddTeamMember(ctx, team.ID, colleague.Email) }, []*db.User{colleague}},
		{"team conversation", func() (err error) {
			teamTid, err = f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{emp.Email}, Subject: "Namens het team", Body: "Hallo", TeamID: team.ID})
			return err
		}, []*db.User{f.hr, colleague, emp}},
		{"assign", func() error { return f.svc.Assign(ctx, f.hr.Identity(), teamTid, colleague.ID) }, []*db.User{f.hr, colleague}},
		{"rename the assignee", func() error {
			_, err := d.ExecContext(ctx, "UPDATE users SET first_name = 'Corrie' WHERE id = ?", colleague.ID)
			return err
		}, []*db.User{f.hr, f.boss, emp, colleague}},
		{"rename the team", func() error { return f.svc.RenameTeam(ctx, team.ID, "Verzuimteam") }, []*db.User{f.hr, colleague, emp}},
		{"team's display", func() error { return f.svc.SetTeamShowPerson(ctx, team.ID, false) }, []*db.User{f.hr, colleague, emp}},
		{"leave a team", func() error { return f.svc.RemoveTeamMember(ctx, team.ID, colleague.Email) }, []*db.User{colleague}},
		{"add another outsider", func() error {
			return f.svc.AddParticipant(ctx, f.hr.Identity(), tid, messaging.AddInput{Email: outsider.Email, History: messaging.FromNowOn})
		}, []*db.User{f.hr, f.boss, emp, colleague}},
		// Their participant row goes with the account, and nothing else of
		// the conversation changes.
		{"the outsider stops using the service", func() error { return f.svc.StopService(ctx, outsider.Identity()) }, []*db.User{f.hr, f.boss, emp, colleague}},
		{"remove from box", func() error { return f.svc.RemoveThreadFromBox(ctx, emp.Identity(), tid) }, []*db.User{emp}},
	}
	before := look("start")
	for _, step := range steps {
		if err := step.change(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		after := look(step.name)
		for _, u := range step.changed {
			if after[u.ID] == before[u.ID] {
				t.Errorf("%s: the inbox version of %s did not change", step.name, u.Email)
			}
		}
		before = after
	}

	// An unchanged version is served from memory: no statement at all.
	messaging.CheckInboxCache(false)
	defer messaging.CheckInboxCache(true)
	stmts := dbtest.CountStatements(d)
	v := version(f.hr)
	sql := stmts.Run(func(ctx context.Context) {
		c := messaging.WithInboxVersion(ctx, f.hr.ID, v)
		if _, err := f.svc.Inbox(c, f.hr.Identity(), 1, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.MyTeams(c, f.hr.Identity()); err != nil {
			t.Fatal(err)
		}
	})
	if len(sql) != 0 {
		t.Errorf("an unchanged inbox and team tabs ran %d statements:\n%s", len(sql), strings.Join(sql, "\n"))
	}
	// Without the request's version (a search, a caller that wrote) the
	// page is read.
	sql = stmts.Run(func(ctx context.Context) {
		if _, err := f.svc.Inbox(ctx, f.hr.Identity(), 1, ""); err != nil {
			t.Fatal(err)
		}
	})
	if len(sql) == 0 {
		t.Error("an inbox without the request's version was served from memory")
	}
}
