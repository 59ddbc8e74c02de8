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

// TestRemovalReadsNoText: taking a conversation out of a box, and a stop,
// read only the ids of the messages they remove, never their text: a stop
// of a large box read every message body of it (14,000 in a box of 5,000
// conversations), and a removal every body of a long conversation, only
// to use their ids.
func TestRemovalReadsNoText(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		owner := f.active(t, "weg@example.nl", false, "Wim", "", "Weg")
		seeded, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: owner, Threads: 20, Messages: 3, Others: 2})
		if err != nil {
			t.Fatal(err)
		}
		stmts := dbtest.CountStatements(d)
		for _, o := range []struct {
			what string
			op   func(ctx context.Context) error
		}{
			{"remove a conversation", func(ctx context.Context) error {
				return f.svc.RemoveThreadFromBox(ctx, owner.Identity(), seeded.Threads[0])
			}},
			{"stop", func(ctx context.Context) error { return f.svc.StopService(ctx, owner.Identity()) }},
		} {
			var opErr error
			sqls := stmts.Run(func(ctx context.Context) { opErr = o.op(ctx) })
			if opErr != nil {
				t.Fatalf("%s: %v", o.what, opErr)
			}
			for _, sql := range sqls {
				if strings.Contains(sql, `"message"."body"`) {
					t.Errorf("%s reads the text of messages:\n%.300s", o.what, sql)
				}
			}
		}
	})
}
