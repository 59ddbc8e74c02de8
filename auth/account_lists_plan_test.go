package auth_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
)

// sessionScan is a plan line that reads every session.
var sessionScan = regexp.MustCompile(`^SCAN (session|sessions)( |$)|^Seq Scan on sessions$`)

// TestAccountListsPlans checks with EXPLAIN, on both engines and with and
// without planner statistics, that the account page's lists read one
// person's rows through indexes, among 6,000 audit rows and 3,000
// sessions of 60 people. A page of the security activity reads the
// person's newest rows in order under its LIMIT (on PostgreSQL at most an
// Incremental Sort of rows of the same time, as audit_events_user_idx
// ends at created_at). The valid sessions are a person's few (ended and
// expired ones are purged): read through sessions_user_idx and sorted.
func TestAccountListsPlans(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		seedAudit(t, d)
		var users []int64
		if err := d.NewSelect().Table("users").Column("id").Order("id").Scan(ctx, &users); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC)
		sessions := make([]db.Session, 3000)
		for i := range sessions {
			at := now.Add(-time.Duration(i) * time.Hour)
			sessions[i] = db.Session{TokenHash: []byte(fmt.Sprintf("token-%d", i)), UserID: users[i%len(users)], CreatedAt: at, LastSeenAt: at,
				ExpiresAt: at.Add(30 * 24 * time.Hour)}
			if i%10 != 0 {
				sessions[i].EndedAt = bun.NullTime{Time: at}
			}
		}
		if _, err := d.NewInsert().Model(&sessions).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		a := &auth.Accounts{DB: d}
		check := func(t *testing.T) {
			for _, page := range []int{1, 4} {
				sql := a.ActivitySQL(users[7], page)
				paths := dbtest.PlanPaths(t, d, sql)
				var plan []string
				for _, p := range paths {
					plan = append(plan, strings.Repeat("  ", len(p)-1)+p[len(p)-1])
				}
				if testing.Verbose() {
					t.Logf("activity page %d:\n%s", page, strings.Join(plan, "\n"))
				}
				for _, p := range paths {
					line := p[len(p)-1]
					if line == "USE TEMP B-TREE FOR ORDER BY" || strings.HasPrefix(line, "SCAN ") || strings.HasPrefix(line, "Seq Scan") ||
						strings.Contains(line, " on audit_events") && !limitedRead(withoutIncrementalSort(p)) {
						t.Errorf("activity page %d reads or sorts the person's every row: %q in\n%s\n%s", page, line, strings.Join(plan, "\n"), sql)
					}
				}
			}
			sql := a.LiveSessionsSQL(users[7])
			plan := dbtest.Plan(t, d, sql)
			if testing.Verbose() {
				t.Logf("sessions:\n  %s", strings.Join(plan, "\n  "))
			}
			for _, line := range plan {
				if sessionScan.MatchString(line) {
					t.Errorf("the sessions read every session: %q in\n%s\n%s", line, strings.Join(plan, "\n"), sql)
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

// withoutIncrementalSort is a plan path without its Incremental Sort
// nodes, which sort only rows of one time as an index gives them.
func withoutIncrementalSort(path []string) []string {
	var out []string
	for _, n := range path {
		if n != "Incremental Sort" {
			out = append(out, n)
		}
	}
	return out
}
