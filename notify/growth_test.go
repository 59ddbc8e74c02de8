package notify

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestWorkerStatementsGrowth measures, on both engines, what a round of
// the outbox worker runs for 10 and for 100 due mails (dbtest.KnownGrowth:
// it grows, a few statements a row).
func TestWorkerStatementsGrowth(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		v := testVault(t, 41)
		o := NewOutbox(v)
		clk := newClock()
		hook := dbtest.CountStatements(d)
		hook.KnownGrowth(t, "worker round", "a row is claimed as a slot frees (a transaction for one or two rows), checked (the disabled account, the notice) and recorded on its own",
			10, 100, func(t *testing.T, n int) func(ctx context.Context) error {
				for i := range n {
					if _, err := o.QueueMail(ctx, d, Mail{To: fmt.Sprintf("r%d-%d@example.org", n, i), Subject: "Hallo", Text: "Tekst"}); err != nil {
						t.Fatal(err)
					}
				}
				clk.Advance(time.Hour)
				return func(ctx context.Context) error {
					w := NewWorker(d, v, nil, nil, nil, WorkerOptions{Now: clk.Now})
					got, err := w.RunOnce(ctx)
					if err == nil && got != n {
						err = fmt.Errorf("delivered %d, want %d", got, n)
					}
					return err
				}
			})
	})
}

// TestQueueMailsSkipsDisabled: QueueMails queues every mail in one
// statement but, as QueueMail, none to a disabled account's address
// (whatever its case), on both engines.
func TestQueueMailsSkipsDisabled(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		v := testVault(t, 41)
		o := NewOutbox(v)
		now := time.Now()
		u := &db.User{Email: "weg@example.org", Kind: db.KindExternal, Status: db.StatusDisabled, Language: "nl", Gender: "unknown", CreatedAt: now, UpdatedAt: now}
		if _, err := d.NewInsert().Model(u).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		ms := []Mail{{To: "een@example.org", Subject: "A", Text: "a"}, {To: "Weg <WEG@example.org>", Subject: "B", Text: "b"}, {To: "twee@example.org", Subject: "C", Text: "c"}}
		hook := dbtest.CountStatements(d)
		var n int
		var err error
		stmts := hook.Run(func(ctx context.Context) { n, err = o.QueueMails(ctx, d, ms) })
		if err != nil || n != 2 {
			t.Fatalf("queued %d (%v), want 2", n, err)
		}
		if len(stmts) != 2 {
			t.Errorf("%d statements, want 2:\n%s", len(stmts), strings.Join(stmts, "\n"))
		}
		for _, to := range []string{"een@example.org", "twee@example.org"} {
			if m, err := LatestDevMailTo(ctx, d, v, to); err != nil || m == nil {
				t.Errorf("no mail to %s: %v", to, err)
			}
		}
		var left int64
		if left, err = d.NewSelect().Model((*db.OutboxItem)(nil)).Where("lower(recipient) = ?", "weg@example.org").Count(ctx); err != nil || left != 0 {
			t.Errorf("%d mails to the disabled address (%v)", left, err)
		}
	})
}
