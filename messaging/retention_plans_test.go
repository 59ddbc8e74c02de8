package messaging_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging/messagingtest"
)

// retentionScan is a plan line that reads every conversation, every
// signing request or every case.
var retentionScan = regexp.MustCompile(`^SCAN (t|sr|c|threads|signing_requests|cases)( |$)|^Seq Scan on (threads|signing_requests|cases)$`)

// TestRetentionPlans checks with EXPLAIN, on both engines and with and
// without planner statistics, that retention's list of the conversations
// it deletes next reads the organisation's old conversations through
// threads_org_activity_idx and looks up their signing requests (which keep
// a conversation while under way) through signing_requests_thread_idx,
// among 3,000 conversations of which 1,500 hold requests; and that its
// list of the closed cases it deletes next reads the organisation's old
// closed cases through cases_org_closed_idx, their conversations through
// threads_case_idx and their requests (which keep a case while under way)
// through signing_requests_thread_idx, among 600 cases holding one
// conversation in five.
func TestRetentionPlans(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		seeded, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: f.hr, Threads: 3000, Messages: 1, Others: 50})
		if err != nil {
			t.Fatal(err)
		}
		statuses := []string{"open", "agreed", "sealed", "declined", "expired", "lapsed"}
		start := time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC)
		for i := 0; i < len(seeded.Threads); i += 1000 {
			var vals []string
			var args []any
			for j := i; j < i+1000; j += 2 {
				st := statuses[j/2%len(statuses)]
				var closed any
				if st != "open" && st != "agreed" {
					closed = start.Add(time.Duration(j) * time.Minute)
				}
				vals = append(vals, "(?, ?, 'Hanna', ?, '00', 1, FALSE, ?, ?, ?, ?)")
				args = append(args, seeded.Threads[j], f.org.ID, []byte("x"), st, start, start, closed)
			}
			if _, err := d.NewRaw(`INSERT INTO signing_requests (thread_id, org_id, requester_name, name_sealed, sha256, pages, in_order, status, created_at, updated_at, closed_at)
VALUES `+strings.Join(vals, ", "), args...).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		// 600 cases, a third open, a third closed before the cutoff and a
		// third after it, each holding one conversation in five.
		for i := 0; i < 600; i += 200 {
			var vals []string
			var args []any
			for j := i; j < i+200; j++ {
				status, closed := "open", any(nil)
				if j%3 > 0 {
					status, closed = "closed", start.Add(time.Duration(j*5)*time.Minute)
				}
				vals = append(vals, "(?, ?, ?, ?, ?)")
				args = append(args, f.org.ID, fmt.Sprintf("P-%d", j), status, start, closed)
			}
			if _, err := d.NewRaw(`INSERT INTO cases (org_id, reference, status, created_at, closed_at) VALUES `+strings.Join(vals, ", "), args...).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		var cases []int64
		if err := d.NewSelect().Table("cases").Column("id").Where("org_id = ?", f.org.ID).Order("id").Scan(ctx, &cases); err != nil {
			t.Fatal(err)
		}
		for i, id := range cases {
			if _, err := d.NewUpdate().Table("threads").Set("case_id = ?", id).Where("id = ?", seeded.Threads[i*5]).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		cutoff := start.Add(1500 * time.Minute)
		check := func(t *testing.T, sql string, indexes ...string) {
			plan := dbtest.Plan(t, d, sql)
			if testing.Verbose() {
				t.Logf("%s\n  %s", sql, strings.Join(plan, "\n  "))
			}
			for _, line := range plan {
				if retentionScan.MatchString(line) {
					t.Errorf("reads every row: %q in\n%s\n%s", line, strings.Join(plan, "\n"), sql)
				}
			}
			for _, idx := range indexes {
				if !strings.Contains(strings.Join(plan, "\n"), idx) {
					t.Errorf("%s is not used:\n%s\n%s", idx, strings.Join(plan, "\n"), sql)
				}
			}
		}
		checkBoth := func(t *testing.T) {
			t.Run("conversations", func(t *testing.T) {
				check(t, f.svc.RetentionSQL(f.org.ID, cutoff), "threads_org_activity_idx", "signing_requests_thread_idx")
			})
			t.Run("cases", func(t *testing.T) {
				check(t, f.svc.CaseRetentionSQL(f.org.ID, cutoff), "cases_org_closed_idx", "threads_case_idx", "signing_requests_thread_idx")
			})
		}
		t.Run("without statistics", checkBoth)
		if _, err := d.ExecContext(ctx, "ANALYZE"); err != nil {
			t.Fatal(err)
		}
		t.Run("with statistics", checkBoth)
	})
}
