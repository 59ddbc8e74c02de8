package db_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestTeamRowsBumpWhomTheTriggersDid, on both engines: a join's and a
// leave's changes of one user's rows through a team, run in db.TeamRows,
// give a new inbox version to the same users as the rows' own triggers
// give without it (SQLite: the same changes, rolled back), and to no one
// else: everyone in the conversations of the rows added, moved into or
// out of the team and removed, and the user. A row of someone else that
// changes meanwhile keeps its trigger. On SQLite each user's version is
// written at most twice, and the hold is given back.
func TestTeamRowsBumpWhomTheTriggersDid(t *testing.T) {
	dbtest.ForEachEngine(t, testTeamRowsBumpWhomTheTriggersDid)
}

func testTeamRowsBumpWhomTheTriggersDid(t *testing.T, d *db.DB) {
	hf := newHoldFixture(t, d, []string{"hr", "m1", "jo", "ext1", "ext2", "ext3", "lone", "other", "ext4"}, []string{"hr", "m1", "jo"})
	ctx, now, exec, org, users, team := hf.ctx, hf.now, hf.exec, hf.org, hf.users, hf.team
	type row struct {
		user    string
		viaTeam bool
	}
	thread := func(ofTeam bool, rows ...row) int64 {
		th := &db.Thread{OrgID: org.ID, Subject: "Gesprek", CreatedAt: now, LastMessageAt: now}
		if ofTeam {
			th.TeamID = &team.ID
		}
		exec(d.NewInsert().Model(th).Exec(ctx))
		for _, r := range rows {
			var via *int64
			if r.viaTeam {
				via = &team.ID
			}
			exec(d.NewRaw("INSERT INTO participants (thread_id, user_id, added_at, via_team_id) VALUES (?, ?, ?, ?)", th.ID, users[r.user].ID, now, via).Exec(ctx))
		}
		return th.ID
	}
	// jo took part in x1 in person before joining; y and z are no team's.
	x1 := thread(true, row{"hr", true}, row{"m1", true}, row{"ext1", false}, row{"jo", false})
	x2 := thread(true, row{"hr", true}, row{"m1", true}, row{"ext2", false})
	y := thread(false, row{"hr", false}, row{"ext3", false})
	thread(false, row{"other", false}, row{"ext4", false})

	jo := users["jo"].ID
	steps := []struct {
		name    string
		change  []string // statements, with ?0 jo, ?1 the team, ?2 x1, ?3 x2, ?4 y, ?5 lone, ?6 now
		changed []string
	}{
		{"join", []string{
			"UPDATE participants SET via_team_id = ?1 WHERE user_id = ?0 AND thread_id = ?2",
			"INSERT INTO participants (thread_id, user_id, added_at, via_team_id) VALUES (?3, ?0, ?6, ?1)",
			"INSERT INTO participants (thread_id, user_id, added_at) VALUES (?4, ?5, ?6)",
		}, []string{"ext1", "ext2", "ext3", "hr", "jo", "lone", "m1"}},
		{"leave", []string{
			"UPDATE participants SET via_team_id = NULL WHERE user_id = ?0 AND via_team_id = ?1 AND thread_id = ?2",
			"DELETE FROM participants WHERE user_id = ?0 AND via_team_id = ?1",
			"DELETE FROM participants WHERE thread_id = ?4 AND user_id = ?5",
		}, []string{"ext1", "ext2", "ext3", "hr", "jo", "lone", "m1"}},
	}
	for _, step := range steps {
		run := func(ctx context.Context, tx bun.Tx) error {
			for _, q := range step.change {
				if _, err := tx.NewRaw(q, jo, team.ID, x1, x2, y, users["lone"].ID, now).Exec(ctx); err != nil {
					return err
				}
			}
			return nil
		}
		hf.compare(t, d, step.name, "TeamRows", "inbox_version_holds", step.changed,
			func(ctx context.Context, tx bun.Tx) error { return run(ctx, tx) },
			func(ctx context.Context, tx bun.Tx) error {
				return db.TeamRows(ctx, tx, jo, team.ID, func() error { return run(ctx, tx) })
			})
	}
}

// TestHoldConversationsBumpWhomTheTriggersDid, on both engines: a new
// conversation's rows added, and the assignments of several
// conversations cleared, in db.HoldConversations, give a new inbox
// version to the same users as the triggers give without it (SQLite: the
// same changes, rolled back), and to no one else: everyone in the held
// conversations; a row that leaves a held conversation, and a change of
// another conversation meanwhile, keep their triggers. On SQLite each
// user's version is written at most twice, however many rows were added
// or conversations changed, and the hold is given back.
func TestHoldConversationsBumpWhomTheTriggersDid(t *testing.T) {
	dbtest.ForEachEngine(t, testHoldConversationsBumpWhomTheTriggersDid)
}

func testHoldConversationsBumpWhomTheTriggersDid(t *testing.T, d *db.DB) {
	hf := newHoldFixture(t, d, []string{"hr", "m1", "m2", "ext1", "ext2", "ext3", "ext4", "other", "lone"}, []string{"hr", "m1", "m2"})
	ctx, now, exec, org, users, team := hf.ctx, hf.now, hf.exec, hf.org, hf.users, hf.team
	thread := func(tx bun.IDB, assignee string, people ...string) int64 {
		th := &db.Thread{OrgID: org.ID, Subject: "Gesprek", CreatedAt: now, LastMessageAt: now}
		if assignee != "" {
			th.TeamID, th.AssignedTo = &team.ID, &users[assignee].ID
		}
		exec(tx.NewInsert().Model(th).Exec(ctx))
		for _, p := range people {
			exec(tx.NewRaw("INSERT INTO participants (thread_id, user_id, added_at) VALUES (?, ?, ?)", th.ID, users[p].ID, now).Exec(ctx))
		}
		if assignee != "" {
			exec(tx.NewRaw("INSERT INTO participants (thread_id, user_id, added_at, via_team_id) SELECT ?, tm.user_id, ?, tm.team_id FROM team_members AS tm WHERE tm.team_id = ?",
				th.ID, now, team.ID).Exec(ctx))
		}
		return th.ID
	}
	// a and b are assigned to m1, c to hr; d is no team's.
	a := thread(d, "m1", "ext1")
	thread(d, "m1", "ext2")
	thread(d, "hr", "ext3")
	dd := thread(d, "", "other", "lone")

	steps := []struct {
		name string
		// hold returns the query of the held conversations and its
		// arguments, after what comes before the hold.
		hold    func(tx bun.Tx) (string, []any)
		change  []string // statements, with ?0 the new conversation, ?1 the team, ?2 m1, ?3 ext4, ?4 a, ?5 ext1, ?6 d, ?7 lone, ?8 now
		changed []string
	}{
		{"new conversation", func(tx bun.Tx) (string, []any) {
			th := &db.Thread{OrgID: org.ID, Subject: "Nieuw", CreatedAt: now, LastMessageAt: now, TeamID: &team.ID}
			exec(tx.NewInsert().Model(th).Exec(ctx))
			return "SELECT ?", []any{th.ID}
		}, []string{
			"INSERT INTO participants (thread_id, user_id, added_at, via_team_id) SELECT ?0, tm.user_id, ?8, tm.team_id FROM team_members AS tm WHERE tm.team_id = ?1",
			"INSERT INTO participants (thread_id, user_id, added_at) VALUES (?0, ?3, ?8), (?0, ?5, ?8)",
			"UPDATE threads SET subject = 'Nieuw onderwerp' WHERE id = ?0",
			"DELETE FROM participants WHERE thread_id = ?6 AND user_id = ?7",
		}, []string{"ext1", "ext4", "hr", "lone", "m1", "m2", "other"}},
		{"unassign", func(tx bun.Tx) (string, []any) {
			return "SELECT t.id FROM threads AS t WHERE t.team_id = ? AND t.assigned_to = ?", []any{team.ID, users["m1"].ID}
		}, []string{
			"UPDATE threads SET assigned_to = NULL WHERE team_id = ?1 AND assigned_to = ?2",
			"DELETE FROM participants WHERE thread_id = ?4 AND user_id = ?5",
			"UPDATE threads SET subject = 'Ander onderwerp' WHERE id = ?6",
		}, []string{"ext1", "ext2", "hr", "m1", "m2", "other"}},
	}
	for _, step := range steps {
		run := func(ctx context.Context, tx bun.Tx, args []any) error {
			var id any
			if len(args) == 1 {
				id = args[0]
			}
			for _, q := range step.change {
				if _, err := tx.NewRaw(q, id, team.ID, users["m1"].ID, users["ext4"].ID, a, users["ext1"].ID, dd, users["lone"].ID, now).Exec(ctx); err != nil {
					return err
				}
			}
			return nil
		}
		hf.compare(t, d, step.name, "HoldConversations", "inbox_version_thread_holds", step.changed,
			func(ctx context.Context, tx bun.Tx) error {
				_, args := step.hold(tx)
				return run(ctx, tx, args)
			},
			func(ctx context.Context, tx bun.Tx) error {
				q, args := step.hold(tx)
				return db.HoldConversations(ctx, tx, q, args, func() error { return run(ctx, tx, args) })
			})
	}
}

// holdFixture is what the hold tests start from: an organisation, a user
// for each of people (internal: the team's members and "other"; the
// others external), and the team "Verzuim" of members.
type holdFixture struct {
	ctx   context.Context
	now   time.Time
	exec  func(sql.Result, error)
	org   *db.Organisation
	users map[string]*db.User
	names map[int64]string
	all   []int64
	team  *db.Team
}

func newHoldFixture(t *testing.T, d *db.DB, people, members []string) *holdFixture {
	t.Helper()
	f := &holdFixture{ctx: context.Background(), now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC),
		users: map[string]*db.User{}, names: map[int64]string{}}
	f.exec = func(_ sql.Result, err error) {
		t.Helper()
		noErr(t, err)
	}
	ctx, now := f.ctx, f.now
	f.org = &db.Organisation{Name: "OSAW", CreatedAt: now}
	f.exec(d.NewInsert().Model(f.org).Exec(ctx))
	for _, name := range people {
		u := &db.User{Email: name + "@example.nl", Kind: db.KindExternal, Status: db.StatusActive, Language: "nl", Gender: "unknown",
			FirstName: name, LastName: "Test", CreatedAt: now, UpdatedAt: now}
		if name == "other" || slices.Contains(members, name) {
			u.OrgID, u.Kind = &f.org.ID, db.KindInternal
		}
		f.exec(d.NewInsert().Model(u).Exec(ctx))
		f.users[name], f.names[u.ID] = u, name
		f.all = append(f.all, u.ID)
	}
	f.team = &db.Team{OrgID: f.org.ID, Name: "Verzuim", ShowPerson: true, CreatedAt: now}
	f.exec(d.NewInsert().Model(f.team).Exec(ctx))
	for _, m := range members {
		f.exec(d.NewInsert().Model(&db.TeamMember{TeamID: f.team.ID, UserID: f.users[m].ID, AddedAt: now}).Exec(ctx))
	}
	return f
}

// moved names the users whose version differs between before and after,
// sorted.
func (f *holdFixture) moved(before, after map[int64]int64) []string {
	var out []string
	for _, id := range f.all {
		if after[id] != before[id] {
			out = append(out, f.names[id])
		}
	}
	slices.Sort(out)
	return out
}

// compare runs a step's change twice: plainly, with the triggers alone
// (SQLite only, rolled back), and then through the hold (held, a
// transaction that calls the hold function named how); both must give
// new inbox versions to exactly the users changed. On SQLite the held run
// writes each user's version at most twice and leaves holdTable empty.
func (f *holdFixture) compare(t *testing.T, d *db.DB, step, how, holdTable string, changed []string, plain, held func(context.Context, bun.Tx) error) {
	t.Helper()
	ctx := f.ctx
	versions := func(idb bun.IDB) map[int64]int64 { t.Helper(); return inboxVersions(t, d, idb, f.all) }
	if !d.Postgres() {
		rollback := errors.New("rollback")
		err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			before := versions(tx)
			noErr(t, plain(ctx, tx))
			if got := f.moved(before, versions(tx)); !slices.Equal(got, changed) {
				t.Errorf("%s, the triggers alone: new inbox versions for %v, want %v", step, got, changed)
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatal(err)
		}
	}
	before := versions(d)
	noErr(t, d.Tx(ctx, held))
	after := versions(d)
	if got := f.moved(before, after); !slices.Equal(got, changed) {
		t.Errorf("%s, in %s: new inbox versions for %v, want %v", step, how, got, changed)
	}
	if d.Postgres() {
		return
	}
	for _, id := range f.all {
		if after[id]-before[id] > 2 {
			t.Errorf("%s: the inbox version of %s was written %d times", step, f.names[id], after[id]-before[id])
		}
	}
	left, err := d.NewSelect().Table(holdTable).Count(ctx)
	noErr(t, err)
	if left != 0 {
		t.Errorf("%s: a hold was left", step)
	}
}
