package db_test

import (
	"context"
	"database/sql"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestInboxVersionTriggersSearch: what a change's inbox versions read
// goes through indexes, so that it grows with what the change concerns,
// not with the installation (see the README's "Unchanged pages from
// memory").
//
// On SQLite, the statement of every inbox_version_* trigger (migration
// 0037, 0051), as the database holds it, with its NEW and OLD values
// bound:
//   - no plan line reads a whole table or index. Before, saving a team's
//     name or flags read every participant row of the installation (no
//     index led with via_team_id), holding SQLite's one writer: 720 ms
//     with 1,000 team conversations of 60 members;
//   - no plan joins participant rows to the other rows of their
//     conversation unless the first side is one person's (by user_id, one
//     row per conversation): the team's rows in a conversation are all its
//     members, so the join read each conversation members × members times.
//
// On PostgreSQL, the queries of the functions that notify the listeners
// of a person's, a team's and an organisation's change (migration 0041)
// read no whole table or index either.
func TestInboxVersionTriggersSearch(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		if d.Postgres() {
			notifyQueriesSearch(t, d)
			return
		}
		triggersSearch(t, d)
	})
}

// newOrOld is a trigger's reference to the changed row.
var newOrOld = regexp.MustCompile(`\b(NEW|OLD)\.\w+`)

func triggersSearch(t *testing.T, d *db.DB) {
	var triggers []struct {
		Name string `bun:"name"`
		SQL  string `bun:"sql"`
	}
	noErr(t, d.NewRaw("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'inbox_version_%' ORDER BY name").Scan(context.Background(), &triggers))
	if len(triggers) < 10 {
		t.Fatalf("only %d inbox version triggers found", len(triggers))
	}
	// The equality a plan line searches by: "(thread_id=?)".
	searchedBy := regexp.MustCompile(`\(([^()]*)\)$`)
	for _, tr := range triggers {
		t.Run(tr.Name, func(t *testing.T) {
			_, body, ok := strings.Cut(tr.SQL, "\nBEGIN")
			if !ok {
				t.Fatalf("no body in %s", tr.SQL)
			}
			body = strings.TrimSuffix(strings.TrimSpace(body), "END")
			body = strings.TrimSuffix(strings.TrimSpace(body), ";")
			if strings.Contains(body, ";") {
				t.Fatalf("more than one statement in %s: extend the test", tr.Name)
			}
			body = newOrOld.ReplaceAllString(body, "1")
			dbtest.TableScans(t, d, []string{body})
			// The reads of participants under each step of the plan, in
			// the plan's order (a join's outer side first).
			reads := map[string][]string{}
			for _, path := range dbtest.PlanPaths(t, d, body) {
				line := path[len(path)-1]
				if (strings.HasPrefix(line, "SEARCH ") || strings.HasPrefix(line, "SCAN ")) &&
					(strings.Contains(line, " INDEX participants_") || strings.Contains(line, " INDEX sqlite_autoindex_participants_")) {
					parent := strings.Join(path[:len(path)-1], " > ")
					reads[parent] = append(reads[parent], line)
				}
			}
			for parent, lines := range reads {
				if len(lines) < 2 {
					continue
				}
				if m := searchedBy.FindStringSubmatch(lines[0]); m == nil || !strings.HasPrefix(m[1], "user_id=") {
					t.Errorf("joins participants to participants from %q (not one person's rows) under %q:\n%s", lines[0], parent, body)
				}
			}
		})
	}
}

// notifyArrays are the queries of a notifying function: ARRAY(SELECT ...).
var notifyArrays = regexp.MustCompile(`ARRAY\((SELECT [^()]*)\)`)

func notifyQueriesSearch(t *testing.T, d *db.DB) {
	for _, fn := range []string{"inbox_user_changed", "inbox_team_changed", "inbox_org_changed"} {
		t.Run(fn, func(t *testing.T) {
			var src string
			noErr(t, d.NewRaw("SELECT prosrc FROM pg_proc WHERE proname = ? AND pronamespace = current_schema()::regnamespace", fn).Scan(context.Background(), &src))
			queries := notifyArrays.FindAllStringSubmatch(src, -1)
			if len(queries) == 0 {
				t.Fatalf("no queries found in %s:\n%s", fn, src)
			}
			for _, q := range queries {
				dbtest.TableScans(t, d, []string{newOrOld.ReplaceAllString(q[1], "1")})
			}
		})
	}
}

// TestInboxVersionTriggersBumpWhoSees, on both engines: a team's name,
// medical flag and display, a person's name and address, and an
// organisation's name give a new inbox version to exactly the users that
// migration 0037 named for them (its statements are below, as queries),
// and a change of nothing the inbox shows (a value set to what it was, a
// team's creation time) to no one. The fixture holds what each part of
// those statements is for: members of a team without its conversations,
// outsiders in its conversations, a team member's own conversations, an
// assignee, another team and another organisation, and one row through
// the team in a conversation that is not the team's (no code writes one
// today), so that the triggers cannot lean on threads.team_id instead of
// the rows through the team.
func TestInboxVersionTriggersBumpWhoSees(t *testing.T) {
	dbtest.ForEachEngine(t, testInboxVersionTriggersBumpWhoSees)
}

func testInboxVersionTriggersBumpWhoSees(t *testing.T, d *db.DB) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	exec := func(_ sql.Result, err error) {
		t.Helper()
		noErr(t, err)
	}
	orgA := &db.Organisation{Name: "OSAW", CreatedAt: now}
	orgB := &db.Organisation{Name: "Arbo Noord", CreatedAt: now}
	exec(d.NewInsert().Model(orgA).Exec(ctx))
	exec(d.NewInsert().Model(orgB).Exec(ctx))
	users := map[string]*db.User{}
	var all []int64
	for _, name := range []string{"hr", "m1", "m2", "idle", "u1", "ext1", "ext2", "ext3", "b1", "stray", "lone"} {
		u := &db.User{Email: name + "@example.nl", Kind: db.KindExternal, Status: db.StatusActive, Language: "nl", Gender: "unknown",
			FirstName: name, LastName: "Test", CreatedAt: now, UpdatedAt: now}
		switch name {
		case "hr", "m1", "m2", "idle", "u1", "stray":
			u.OrgID, u.Kind = &orgA.ID, db.KindInternal
		case "b1":
			u.OrgID, u.Kind = &orgB.ID, db.KindInternal
		}
		exec(d.NewInsert().Model(u).Exec(ctx))
		users[name] = u
		all = append(all, u.ID)
	}
	teamT := &db.Team{OrgID: orgA.ID, Name: "Verzuim", ShowPerson: true, CreatedAt: now}
	teamU := &db.Team{OrgID: orgA.ID, Name: "Re-integratie", ShowPerson: true, CreatedAt: now}
	exec(d.NewInsert().Model(teamT).Exec(ctx))
	exec(d.NewInsert().Model(teamU).Exec(ctx))
	for team, members := range map[*db.Team][]string{teamT: {"hr", "m1", "m2", "idle"}, teamU: {"u1"}} {
		for _, m := range members {
			exec(d.NewInsert().Model(&db.TeamMember{TeamID: team.ID, UserID: users[m].ID, AddedAt: now}).Exec(ctx))
		}
	}
	type row struct {
		user string
		via  *db.Team
	}
	thread := func(org *db.Organisation, team *db.Team, assignee string, rows ...row) {
		th := &db.Thread{OrgID: org.ID, Subject: "Gesprek", CreatedAt: now, LastMessageAt: now}
		if team != nil {
			th.TeamID = &team.ID
		}
		if assignee != "" {
			th.AssignedTo = &users[assignee].ID
		}
		exec(d.NewInsert().Model(th).Exec(ctx))
		for _, r := range rows {
			var via *int64
			if r.via != nil {
				via = &r.via.ID
			}
			exec(d.NewRaw("INSERT INTO participants (thread_id, user_id, added_at, via_team_id) VALUES (?, ?, ?, ?)", th.ID, users[r.user].ID, now, via).Exec(ctx))
		}
	}
	// idle is a member of T who left its conversations before they were
	// written (no rows), ext3 writes with hr personally.
	thread(orgA, teamT, "", row{"hr", teamT}, row{"m1", teamT}, row{"ext1", nil})
	thread(orgA, teamT, "m2", row{"hr", teamT}, row{"m2", teamT}, row{"ext2", nil})
	thread(orgA, nil, "", row{"hr", nil}, row{"ext3", nil})
	thread(orgA, teamU, "", row{"u1", teamU}, row{"ext1", nil})
	thread(orgB, nil, "", row{"b1", nil}, row{"ext2", nil})
	thread(orgA, nil, "", row{"stray", teamT}, row{"lone", nil})

	versions := func() map[int64]int64 { t.Helper(); return inboxVersions(t, d, d, all) }
	// Migration 0037's statements, as queries of whom they gave a new version.
	const (
		teamSees = `SELECT m.user_id FROM team_members AS m WHERE m.team_id = ?0
UNION SELECT o.user_id FROM participants AS p JOIN participants AS o ON o.thread_id = p.thread_id WHERE p.via_team_id = ?0`
		nameSees = `SELECT id FROM users WHERE id = ?0
UNION SELECT o.user_id FROM participants AS me JOIN participants AS o ON o.thread_id = me.thread_id WHERE me.user_id = ?0
UNION SELECT o.user_id FROM threads AS t JOIN participants AS o ON o.thread_id = t.id WHERE t.assigned_to = ?0`
		orgSees = `SELECT DISTINCT p.user_id FROM threads AS t JOIN participants AS p ON p.thread_id = t.id WHERE t.org_id = ?0`
	)
	names := map[int64]string{}
	for name, u := range users {
		names[u.ID] = name
	}
	nameOf := func(ids []int64) []string {
		var out []string
		for _, id := range ids {
			out = append(out, names[id])
		}
		slices.Sort(out)
		return out
	}
	steps := []struct {
		name   string
		change string
		args   []any
		sees   string // 0037's query of who sees it, "" for no one
		of     int64
		must   []string // a check of the fixture: among those who see it
	}{
		{"rename a team", "UPDATE teams SET name = 'Verzuimteam' WHERE id = ?", []any{teamT.ID}, teamSees, teamT.ID, []string{"idle", "ext1", "ext2", "stray", "lone"}},
		{"a team's medical flag", "UPDATE teams SET medical = ? WHERE id = ?", []any{true, teamT.ID}, teamSees, teamT.ID, []string{"idle", "ext1"}},
		{"a team's display", "UPDATE teams SET show_person = ? WHERE id = ?", []any{false, teamT.ID}, teamSees, teamT.ID, []string{"idle", "ext2"}},
		{"the other team's name", "UPDATE teams SET name = 'Re-integratieteam' WHERE id = ?", []any{teamU.ID}, teamSees, teamU.ID, []string{"u1", "ext1"}},
		{"a team's name as it was", "UPDATE teams SET name = name, medical = medical, show_person = show_person WHERE id = ?", []any{teamT.ID}, "", 0, nil},
		{"a team's creation time", "UPDATE teams SET created_at = ? WHERE id = ?", []any{now.Add(time.Hour), teamT.ID}, "", 0, nil},
		{"rename a member", "UPDATE users SET first_name = 'Mia' WHERE id = ?", []any{users["m1"].ID}, nameSees, users["m1"].ID, []string{"hr", "ext1"}},
		{"rename an assignee", "UPDATE users SET last_name = 'Jansen' WHERE id = ?", []any{users["m2"].ID}, nameSees, users["m2"].ID, []string{"hr", "ext2"}},
		{"an outsider's address", "UPDATE users SET email = 'ext1@example.com' WHERE id = ?", []any{users["ext1"].ID}, nameSees, users["ext1"].ID, []string{"u1", "m1"}},
		{"rename a case manager", "UPDATE users SET initials = 'H.' WHERE id = ?", []any{users["hr"].ID}, nameSees, users["hr"].ID, []string{"ext3", "m2"}},
		{"a name as it was", "UPDATE users SET first_name = first_name WHERE id = ?", []any{users["hr"].ID}, "", 0, nil},
		{"rename an organisation", "UPDATE organisations SET name = 'OSAW Arbo' WHERE id = ?", []any{orgA.ID}, orgSees, orgA.ID, []string{"ext2", "stray"}},
		{"rename the other organisation", "UPDATE organisations SET name = 'Arbo Zuid' WHERE id = ?", []any{orgB.ID}, orgSees, orgB.ID, []string{"b1", "ext2"}},
	}
	for _, step := range steps {
		var want []int64
		if step.sees != "" {
			noErr(t, d.NewRaw(step.sees, step.of).Scan(ctx, &want))
		}
		for _, m := range step.must {
			if !slices.Contains(want, users[m].ID) {
				t.Fatalf("%s: the fixture does not hold what it is for: %s does not see it", step.name, m)
			}
		}
		before := versions()
		exec(d.ExecContext(ctx, step.change, step.args...))
		after := versions()
		var got []int64
		for _, id := range all {
			if after[id] != before[id] {
				got = append(got, id)
			}
		}
		if g, w := nameOf(got), nameOf(want); !slices.Equal(g, w) {
			t.Errorf("%s: new inbox versions for %v, want %v", step.name, g, w)
		}
	}
}

// inboxVersions is the inbox version of each user, read in idb on SQLite
// (so also inside a transaction) and after a sync of the notifications on
// PostgreSQL, where the version lives in memory (of users all).
func inboxVersions(t *testing.T, d *db.DB, idb bun.IDB, all []int64) map[int64]int64 {
	t.Helper()
	ctx := context.Background()
	out := map[int64]int64{}
	if d.Postgres() {
		noErr(t, d.InboxSync(ctx))
		for _, id := range all {
			v, ok := d.InboxVersion(id)
			if !ok {
				t.Fatal("no inbox version after a sync")
			}
			out[id] = v
		}
		return out
	}
	var rows []struct {
		ID      int64 `bun:"id"`
		Version int64 `bun:"inbox_version"`
	}
	noErr(t, idb.NewRaw("SELECT id, inbox_version FROM users").Scan(ctx, &rows))
	for _, r := range rows {
		out[r.ID] = r.Version
	}
	return out
}
