package auth_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
)

// usersScan is a plan line that reads every user, participant or
// invitation of the installation.
var usersScan = regexp.MustCompile(`^SCAN (u|users|p|participants|i|invitations)( |$)|^Seq Scan on (users|participants|invitations)$`)

// TestAdminUsersPlans checks with EXPLAIN, on both engines and with and
// without planner statistics, that a page of Beheer's user list reads the
// organisation's people through indexes, not every user of the
// installation with a look at their conversations each.
func TestAdminUsersPlans(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		var orgs []int64
		for _, name := range []string{"OSAW", "Ander"} {
			o := &db.Organisation{Name: name, CreatedAt: now}
			if _, err := d.NewInsert().Model(o).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			orgs = append(orgs, o.ID)
		}
		users := make([]db.User, 3000)
		for i := range users {
			users[i] = db.User{Email: fmt.Sprintf("u%04d@example.nl", i), Kind: db.KindExternal, Status: db.StatusActive,
				Language: "nl", Gender: "unknown", CreatedAt: now, UpdatedAt: now}
			if i%10 == 0 {
				users[i].Kind, users[i].OrgID = db.KindInternal, &orgs[i%20/10]
			}
		}
		if _, err := d.NewInsert().Model(&users).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(users); i += 10 {
			th := &db.Thread{OrgID: orgs[i%20/10], Subject: "s", CreatedAt: now, LastMessageAt: now}
			if _, err := d.NewInsert().Model(th).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			for _, u := range []int64{users[i-1].ID, users[i].ID} {
				if _, err := d.NewInsert().Model(&db.Participant{ThreadID: th.ID, UserID: u, AddedAt: now}).Exec(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		a := &auth.Admin{Accounts: &auth.Accounts{DB: d}}
		check := func(t *testing.T) {
			for _, q := range []string{"", "u01"} {
				sql := a.UsersSQL(orgs[0], q)
				plan := dbtest.Plan(t, d, sql)
				if testing.Verbose() {
					t.Logf("%q:\n  %s", q, strings.Join(plan, "\n  "))
				}
				for _, line := range plan {
					if usersScan.MatchString(line) {
						t.Errorf("query %q reads every row: %q in\n%s\n%s", q, line, strings.Join(plan, "\n"), sql)
					}
				}
			}
		}
		t.Run("without statistics", check)
		if _, err := d.ExecContext(ctx, "ANALYZE"); err != nil {
			t.Fatal(err)
		}
		t.Run("with statistics", check)
	})
}
