package messaging_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging/messagingtest"
)

// retentionScan is a plan line that reads every conversation or every
// signing request.
var retentionScan = regexp.MustCompile(`^SCAN (t|sr|threads|signing_requests)( |$)|^Seq Scan on (threads|signing_requests)$`)

// TestRetentionPlans checks with EXPLAIN, on both engines and with and
// without planner statistics, that retention's list of the conversations
// it deletes next reads the organisation's old conversations through
// threads_org_activity_idx and looks up their signing requests (which keep
// a conversation while under way) through signing_requests_thread_idx,
// among 3,000 conversations of which 1,500 hold requests.
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
		cutoff := start.Add(1500 * time.Minute)
		check := func(t *testing.T) {
			sql := f.svc.RetentionSQL(f.org.ID, cutoff)
			plan := dbtest.Plan(t, d, sql)
			if testing.Verbose() {
				t.Logf("%s\n  %s", sql, strings.Join(plan, "\n  "))
			}
			for _, line := range plan {
				if retentionScan.MatchString(line) {
					t.Errorf("reads every row: %q in\n%s\n%s", line, strings.Join(plan, "\n"), sql)
				}
			}
			if !strings.Contains(strings.Join(plan, "\n"), "signing_requests_thread_idx") {
				t.Errorf("the requests are not looked up by conversation:\n%s", strings.Join(plan, "\n"))
			}
		}
		t.Run("without statistics", check)
		if _, err := d.ExecContext(ctx, "ANALYZE"); err != nil {
			t.Fatal(err)
		}
		t.Run("with statistics", check)
	})
}
