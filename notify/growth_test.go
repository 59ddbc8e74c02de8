package notify

import (
	"context"
	"fmt"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestWorkerStatementsGrowth measures, on both engines, what a round of
// the outbox worker runs for 10 and for 100 due mails.
func TestWorkerStatementsGrowth(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		v := testVault(t, 41)
		o := NewOutbox(v)
		clk := newClock()
		hook := dbtest.CountStatements(d)
		hook.CheckGrowth(t, "worker round", 10, 100, func(t *testing.T, n int) func(ctx context.Context) error {
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
