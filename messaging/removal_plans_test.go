package messaging_test

import (
	"context"
	"strings"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/messaging/messagingtest"
)

// TestRemovalReadsNoWholeBox: removing a message or a conversation from a
// box, and deleting a message for everyone, cost the conversation, not the
// box of each person in it. Each statement they run is explained on both
// engines, and none may look up read states by person alone (the index
// message_states_user_idx, which holds a person's whole box). Before, each
// removal recounted the person's counters of the conversation through that
// index: removing one conversation from a box of 20,000 took 13 ms on
// SQLite and 79 ms on PostgreSQL, against 0.9 and 5.3 ms in a box of 200
// (BenchmarkRemoveFromBigBox).
func TestRemovalReadsNoWholeBox(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		seeded, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: f.hr, Threads: 300, Messages: 2, Others: 30, UnreadEvery: 3})
		if err != nil {
			t.Fatal(err)
		}
		jan := seeded.Others[0]
		stmts := dbtest.CountStatements(d)
		fresh, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Nieuw", Body: "Nog niet gelezen"})
		if err != nil {
			t.Fatal(err)
		}
		ops := []struct {
			what string
			op   func(ctx context.Context) error
		}{
			{"remove a message", func(ctx context.Context) error {
				return f.svc.RemoveFromBox(ctx, f.hr.Identity(), f.newest(t, seeded.Threads[3]))
			}},
			{"remove a conversation", func(ctx context.Context) error {
				return f.svc.RemoveThreadFromBox(ctx, f.hr.Identity(), seeded.Threads[6])
			}},
			{"delete for everyone", func(ctx context.Context) error {
				return f.svc.DeleteForEveryone(ctx, f.hr.Identity(), f.newest(t, fresh))
			}},
		}
		for _, o := range ops {
			var opErr error
			sqls := stmts.Run(func(ctx context.Context) { opErr = o.op(ctx) })
			if opErr != nil {
				t.Fatalf("%s: %v", o.what, opErr)
			}
			for _, sql := range sqls {
				if !strings.Contains(sql, "message_states") {
					continue
				}
				for _, line := range dbtest.Plan(t, d, sql) {
					if strings.Contains(line, "message_states_user_idx") {
						t.Errorf("%s: reads a person's whole box: %q in\n%s", o.what, line, sql)
					}
				}
			}
			countersAgree(t, d, o.what)
		}
	})
}
