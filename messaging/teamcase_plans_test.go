package messaging_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/messaging/messagingtest"
)

// teamCaseScan is a plan line that reads a whole table of conversations,
// participants, teams, memberships, users, cases or files.
var teamCaseScan = regexp.MustCompile(`^SCAN (t|m|p|op|th|tm|me|mm|mt|u|users|c|cc|cu|a|ms|threads|participants|teams|team_members|cases|attachments|messages)( |$)|^Seq Scan on (threads|participants|teams|team_members|users|cases|attachments|messages|message_states)$`)

// TestTeamAndCasePagePlans checks with EXPLAIN, on both engines and with
// and without planner statistics, that what an internal user sees of teams
// and cases besides the boxes themselves (TestInboxPlans) reads through
// indexes at volume: the team tabs with their unread counts, a team's
// members, Beheer's members of the teams, and a case page's conversations,
// people and files, among 3,000 conversations, 2,000 team members and
// 1,000 cases.
func TestTeamAndCasePagePlans(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		seeded, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: f.hr, Threads: 3000, Messages: 2, Others: 300, UnreadEvery: 7})
		if err != nil {
			t.Fatal(err)
		}
		var teams []int64
		for i := range 20 {
			tm, err := f.svc.CreateTeam(ctx, f.org.ID, fmt.Sprintf("Team %02d", i), i%2 == 0, true)
			if err != nil {
				t.Fatal(err)
			}
			teams = append(teams, tm.ID)
		}
		// 2,000 internal colleagues, each in one team; hr in every team.
		users := f.colleagues(t, 2000)
		members := make([]db.TeamMember, 0, len(users)+len(teams))
		for i := range users {
			members = append(members, db.TeamMember{TeamID: teams[i%len(teams)], UserID: users[i].ID, AddedAt: f.clk.Now()})
		}
		for _, id := range teams {
			members = append(members, db.TeamMember{TeamID: id, UserID: f.hr.ID, AddedAt: f.clk.Now()})
		}
		if _, err := d.NewInsert().Model(&members).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		// Half of hr's conversations are team conversations.
		for i, th := range seeded.Threads {
			if i%2 == 1 {
				continue
			}
			team := teams[i%len(teams)]
			if _, err := d.NewRaw("UPDATE threads SET team_id = ? WHERE id = ?", team, th).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := d.NewRaw("UPDATE participants SET via_team_id = ? WHERE thread_id = ? AND user_id = ?", team, th, f.hr.ID).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		// 1,000 cases, three conversations each.
		var subjects []int64
		for _, u := range seeded.Others {
			subjects = append(subjects, u.ID)
		}
		cases := make([]db.Case, 1000)
		for i := range cases {
			cases[i] = db.Case{OrgID: f.org.ID, SubjectID: &subjects[i%len(subjects)], Reference: fmt.Sprintf("C-%04d", i), Status: db.CaseOpen, CreatedAt: f.clk.Now()}
		}
		if _, err := d.NewInsert().Model(&cases).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for i, th := range seeded.Threads {
			if _, err := d.NewRaw("UPDATE threads SET case_id = ? WHERE id = ?", cases[i%len(cases)].ID, th).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		caseID := cases[7].ID
		threads, targs, people, files, fargs := f.svc.CasePageSQL(f.hr.ID, caseID)
		tabsSQL, tabsArgs := f.svc.MyTeamsSQL(f.hr.ID)
		_, colArgs := f.svc.MyTeamsSQL(users[3].ID)
		orgMembers, oargs := f.svc.OrgTeamMembersSQL(teams[0], teams[1])
		queries := map[string]struct {
			sql  string
			args []any
		}{
			"team tabs":             {tabsSQL, tabsArgs},
			"team tabs (colleague)": {tabsSQL, colArgs},
			"team members":          {f.svc.TeamMembersSQL(teams[3], f.hr.ID), nil},
			"beheer team members":   {orgMembers, oargs},
			"case conversations":    {threads, targs},
			"case people":           {people, nil},
			"case files":            {files, fargs},
		}
		check := func(t *testing.T) {
			for name, q := range queries {
				plan := dbtest.Plan(t, d, q.sql, q.args...)
				if testing.Verbose() {
					t.Logf("%s:\n  %s", name, strings.Join(plan, "\n  "))
				}
				for _, line := range plan {
					if teamCaseScan.MatchString(line) {
						t.Errorf("%s reads a whole table: %q in\n%s\n%s", name, line, strings.Join(plan, "\n"), q.sql)
					}
				}
			}
		}
		t.Run("without statistics", check)
		if _, err := d.ExecContext(ctx, "ANALYZE"); err != nil {
			t.Fatal(err)
		}
		t.Run("with statistics", check)

		// And the team tabs count what the boxes hold.
		tabs, err := f.svc.MyTeams(ctx, f.hr.Identity())
		if err != nil || len(tabs) != len(teams) {
			t.Fatalf("%d team tabs (%v)", len(tabs), err)
		}
	})
}

// TestOrgTeamsReadsNoMembers: Beheer's list of teams (the teams page, and
// the team choice of every page of the user list) reads the teams and how
// many members each has, through indexes, without loading and sorting
// every member of every team: among 20 teams of 100 members, no statement
// it runs reads a user or sorts.
func TestOrgTeamsReadsNoMembers(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		var teams []int64
		for i := range 20 {
			tm, err := f.svc.CreateTeam(ctx, f.org.ID, fmt.Sprintf("Team %02d", 19-i), false, true)
			if err != nil {
				t.Fatal(err)
			}
			teams = append(teams, tm.ID)
		}
		users := f.colleagues(t, 2000)
		members := make([]db.TeamMember, 0, len(users))
		for i := range users {
			if i%len(teams) != 0 || i < 1000 { // the first team made (Team 19) has 50
				members = append(members, db.TeamMember{TeamID: teams[i%len(teams)], UserID: users[i].ID, AddedAt: f.clk.Now()})
			}
		}
		if _, err := d.NewInsert().Model(&members).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := d.ExecContext(ctx, "ANALYZE"); err != nil {
			t.Fatal(err)
		}
		f.hr.IsAdmin = true
		cur := &auth.Current{User: f.hr.Identity()}
		stmts := dbtest.CountStatements(d)
		var got []messaging.AdminTeam
		sqls := stmts.Run(func(ctx context.Context) {
			var err error
			if got, err = f.svc.OrgTeams(ctx, cur); err != nil {
				t.Fatal(err)
			}
		})
		var names []string
		for _, tm := range got {
			names = append(names, fmt.Sprintf("%s:%d", tm.Name, tm.MemberCount))
		}
		if len(got) != len(teams) || names[0] != "Team 00:100" || names[19] != "Team 19:50" {
			t.Fatalf("teams: %v", names)
		}
		for _, sql := range sqls {
			plan := dbtest.Plan(t, d, sql)
			if testing.Verbose() {
				t.Logf("%s\n  %s", sql, strings.Join(plan, "\n  "))
			}
			for _, line := range plan {
				if teamCaseScan.MatchString(line) || strings.Contains(line, "TEMP B-TREE") || line == "Sort" ||
					strings.HasPrefix(line, "SEARCH u ") || strings.HasSuffix(line, " on users") || strings.Contains(line, " on users using") {
					t.Errorf("the teams read every member: %q in\n%s\n%s", line, strings.Join(plan, "\n"), sql)
				}
			}
		}
	})
}

// colleagues stores n internal colleagues of the organisation at once.
func (f *fx) colleagues(t *testing.T, n int) []db.User {
	t.Helper()
	users := make([]db.User, n)
	for i := range users {
		now := f.clk.Now()
		users[i] = db.User{Email: fmt.Sprintf("collega%04d@osaw.nl", i), Kind: db.KindInternal, OrgID: &f.org.ID, Status: db.StatusActive,
			Language: "nl", Gender: "unknown", FirstName: "Col", LastName: fmt.Sprintf("Lega%04d", i), CreatedAt: now, UpdatedAt: now}
	}
	if _, err := f.d.NewInsert().Model(&users).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	return users
}
