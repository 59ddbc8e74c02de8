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

// auditScan is a plan line that reads every audit row.
var auditScan = regexp.MustCompile(`^SCAN (ae|x|audit_events)( |$)|^Seq Scan on audit_events$`)

// TestAuditLogPlans checks with EXPLAIN, on both engines and with and
// without planner statistics, that a page of Beheer's audit log, searched
// by person and days or not, reads an organisation's rows through indexes
// among 6,000 rows of two organisations and of people outside both.
func TestAuditLogPlans(t *testing.T) {
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
		var users []int64
		for i := 0; i < 60; i++ {
			u := &db.User{Email: fmt.Sprintf("u%02d@example.nl", i), Kind: db.KindExternal, Status: db.StatusActive, Language: "nl",
				Gender: "unknown", CreatedAt: now, UpdatedAt: now}
			if i < 40 {
				u.Kind, u.OrgID = db.KindInternal, &orgs[i%2]
			}
			if _, err := d.NewInsert().Model(u).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			users = append(users, u.ID)
		}
		evs := make([]db.AuditEvent, 6000)
		for i := range evs {
			u := users[i%len(users)]
			evs[i] = db.AuditEvent{UserID: &u, ActorID: &u, Kind: "login.ok", CreatedAt: now.Add(time.Duration(i) * time.Minute)}
			if i%10 == 0 {
				evs[i].OrgID = &orgs[i%2]
			}
		}
		if _, err := d.NewInsert().Model(&evs).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		a := &auth.Admin{Accounts: &auth.Accounts{DB: d}}
		queries := map[string]auth.AuditQuery{
			"page 1":          {},
			"page 1 by days":  {From: "2026-03-03", To: "2026-03-04"},
			"person":          {Person: "u07@"},
			"person and days": {Person: "u07@", From: "2026-03-03"},
		}
		check := func(t *testing.T) {
			for name, q := range queries {
				sql := a.AuditSQL(orgs[0], q)
				plan := dbtest.Plan(t, d, sql)
				if testing.Verbose() {
					t.Logf("%s:\n  %s", name, strings.Join(plan, "\n  "))
				}
				for _, line := range plan {
					if auditScan.MatchString(line) {
						t.Errorf("%s reads every audit row: %q in\n%s\n%s", name, line, strings.Join(plan, "\n"), sql)
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
