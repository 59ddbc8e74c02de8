package signing_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging/messagingtest"
)

// signingScan is a plan line that reads every request, signer or code, or
// every read state of the viewer (to look up the few of the requests).
var signingScan = regexp.MustCompile(`^SCAN (signing_request|signing_requests|signing_signer|signing_signers|one_time_code|one_time_codes|ms)( |$)|^Seq Scan on (signing_requests|signing_signers|one_time_codes|message_states)$|using message_states_user_idx`)

// TestCardsPlans checks with EXPLAIN, on both engines and with and without
// planner statistics, that a conversation's signing cards read its own
// requests, their signers and the viewer's last code through indexes,
// among 3,000 requests of 600 conversations and 4,000 messages in the
// viewer's box. (Requests are listed per
// conversation only; nothing lists every request of a person or an
// organisation.)
func TestCardsPlans(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		// Jan's box holds 2,000 other conversations: the read states the
		// cards' rule looks at.
		if _, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: f.jan, Threads: 2000, Messages: 2, Others: 50}); err != nil {
			t.Fatal(err)
		}
		ths := make([]db.Thread, 600)
		for i := range ths {
			ths[i] = db.Thread{OrgID: f.org.ID, Subject: "s", CreatedAt: f.clk.Now(), LastMessageAt: f.clk.Now()}
		}
		if _, err := d.NewInsert().Model(&ths).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		var threads []int64
		for _, th := range ths {
			threads = append(threads, th.ID)
		}
		// In batches of multi-row INSERTs (the packages' row types are
		// unexported).
		var ids []int64
		for i := 0; i < 3000; i += 500 {
			var vals []string
			var args []any
			for j := i; j < i+500; j++ {
				vals = append(vals, "(?, ?, 'Hanna', ?, '00', 1, FALSE, 'open', ?, ?)")
				args = append(args, threads[j%len(threads)], f.org.ID, []byte("x"), f.clk.Now(), f.clk.Now())
			}
			var got []int64
			err := d.NewRaw(`INSERT INTO signing_requests (thread_id, org_id, requester_name, name_sealed, sha256, pages, in_order, status, created_at, updated_at)
VALUES `+strings.Join(vals, ", ")+" RETURNING id", args...).Scan(ctx, &got)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, got...)
		}
		for i := 0; i < len(ids); i += 250 {
			var vals []string
			var args []any
			for _, id := range ids[i:min(i+250, len(ids))] {
				vals = append(vals, "(?, ?, 0, 'waiting')", "(?, ?, 1, 'waiting')")
				args = append(args, id, f.jan.ID, id, f.kees.ID)
			}
			if _, err := d.NewRaw("INSERT INTO signing_signers (request_id, user_id, position, status) VALUES "+strings.Join(vals, ", "), args...).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		check := func(t *testing.T) {
			for _, sql := range f.svc.CardsSQL(threads[3], f.jan.ID, ids[3:10]) {
				plan := dbtest.Plan(t, d, sql)
				if testing.Verbose() {
					t.Logf("%s\n  %s", sql, strings.Join(plan, "\n  "))
				}
				for _, line := range plan {
					if signingScan.MatchString(line) {
						t.Errorf("reads every row: %q in\n%s\n%s", line, strings.Join(plan, "\n"), sql)
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
