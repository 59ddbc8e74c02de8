package messaging_test

import (
	"context"
	"testing"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging/messagingtest"
)

// TestStopManyConversationsStatements: a stop costs a fixed number of
// statements per chunk of the box, not a few per conversation. A person in
// 300 conversations stops: in 100 the other person removed everything
// already (the stop deletes them), in 50 only the newest message (the
// stop deletes it, and the conversation's time goes back to the one
// before), the rest stay for the others as they are. Before, every
// conversation was recounted for the person (three statements each, just
// before their rows went with the account) and every emptied one was
// looked at on its own (four or five): about 1,500 statements, each a
// round trip on PostgreSQL, with SQLite's single writer held.
func TestStopManyConversationsStatements(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		u := f.active(t, "stef@example.nl", true, "Stef", "", "Stopper")
		seeded, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: u, Threads: 300, Messages: 2, Others: 30, UnreadEvery: 3})
		if err != nil {
			t.Fatal(err)
		}
		other := func(i int) *db.User { return seeded.Others[i%len(seeded.Others)] }
		for i, tid := range seeded.Threads[:100] {
			if err := f.svc.RemoveThreadFromBox(ctx, other(i).Identity(), tid); err != nil {
				t.Fatal(err)
			}
		}
		for i, tid := range seeded.Threads[100:150] {
			if err := f.svc.RemoveFromBox(ctx, other(100+i).Identity(), f.newest(t, tid)); err != nil {
				t.Fatal(err)
			}
		}
		countersAgree(t, d, "the others' removals")

		stmts := dbtest.CountStatements(d).Run(func(ctx context.Context) {
			if err := f.svc.StopService(ctx, u.Identity()); err != nil {
				t.Fatal(err)
			}
		})
		if len(stmts) > 60 {
			t.Errorf("stopping with 300 conversations ran %d statements", len(stmts))
		}
		countersAgree(t, d, "the stop")
		for i, tid := range seeded.Threads {
			if exists := f.threadExists(t, tid); exists != (i >= 100) {
				t.Fatalf("conversation %d exists: %v", i, exists)
			}
		}
		// Every conversation left has the time of its newest message, and
		// nobody's box shows a later one.
		var wrong []int64
		if err := d.NewRaw(`SELECT t.id FROM threads AS t WHERE t.last_message_at <> (SELECT MAX(m.created_at) FROM messages AS m WHERE m.thread_id = t.id)
UNION SELECT p.thread_id FROM participants AS p WHERE p.last_activity_at > (SELECT MAX(m.created_at) FROM messages AS m WHERE m.thread_id = p.thread_id)`).
			Scan(ctx, &wrong); err != nil && !db.ErrNoRows(err) {
			t.Fatal(err)
		}
		if len(wrong) > 0 {
			t.Errorf("conversations with a later time than their newest message: %v", wrong)
		}
		if n := f.count(t, "messages", "thread_id IN (?)", bun.In(seeded.Threads[100:150])); n != 50 {
			t.Errorf("%d messages left in the conversations whose newest the other removed, want 50", n)
		}
	})
}

// newest returns the id of the newest message of thread tid.
func (f *fx) newest(t *testing.T, tid int64) int64 {
	t.Helper()
	var id int64
	if err := f.d.NewSelect().Model((*db.Message)(nil)).Column("id").Where("thread_id = ?", tid).Order("id DESC").Limit(1).Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}
