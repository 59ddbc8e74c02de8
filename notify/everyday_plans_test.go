package notify

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// failingMailer refuses every mail, as a mail server that is down.
type failingMailer struct{}

func (failingMailer) Name() string { return "smtp" }
func (failingMailer) Send(context.Context, string, Mail) error {
	return errors.New("connection refused")
}

// TestEverydayWorkerPlans checks with EXPLAIN, on both engines, that no
// statement of the outbox worker's round reads the whole outbox, which
// keeps every row ever sent, beside 6,000 sent and failed rows: queueing,
// a round that delivers the due rows of both lanes, a round whose mail
// fails (to be tried again), and the queue statistics.
func TestEverydayWorkerPlans(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		v := testVault(t, 41)
		o := NewOutbox(v)
		clk := newClock()
		old := make([]db.OutboxItem, 6000)
		for i := range old {
			at := clk.Now().Add(-time.Duration(i) * time.Minute)
			old[i] = db.OutboxItem{IdempotencyKey: fmt.Sprintf("old-%d", i), Channel: db.ChannelMail, Recipient: fmt.Sprintf("p%d@example.org", i),
				Status: db.OutboxSent, Attempts: 1, NextAttemptAt: at, Transport: "smtp", CreatedAt: at}
			if i%2 == 1 {
				old[i].Channel, old[i].Recipient = db.ChannelSMS, fmt.Sprintf("+316%08d", i)
			}
			if i%10 == 0 {
				old[i].Status = db.OutboxFailed
			}
		}
		for i := 0; i < len(old); i += 1000 {
			part := old[i : i+1000]
			if _, err := d.NewInsert().Model(&part).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		stmts := dbtest.CountStatements(d)
		dbtest.ForStatistics(t, d, func(t *testing.T, _ string) {
			op := func(what string, fn func(ctx context.Context) error) {
				t.Helper()
				clk.Advance(time.Hour)
				stmts.ExplainOp(t, d, what, fn)
			}
			op("queue", func(ctx context.Context) error {
				for i := range 3 {
					if _, err := o.QueueMail(ctx, d, Mail{To: fmt.Sprintf("nieuw%d@example.org", i), Subject: "Hallo", Text: "Tekst"}); err != nil {
						return err
					}
					if _, err := o.QueueSMS(ctx, d, SMS{To: fmt.Sprintf("+3161111111%d", i), Body: "Code 123456"}); err != nil {
						return err
					}
				}
				return nil
			})
			op("a round that delivers", func(ctx context.Context) error {
				w := NewWorker(d, v, nil, nil, nil, WorkerOptions{Now: clk.Now})
				n, err := w.RunOnce(ctx)
				if err == nil && n < 6 {
					err = fmt.Errorf("delivered %d, want 6 or more", n)
				}
				return err
			})
			if _, err := o.QueueMail(ctx, d, Mail{To: "later@example.org", Subject: "Hallo", Text: "Tekst"}); err != nil {
				t.Fatal(err)
			}
			op("a round that fails", func(ctx context.Context) error {
				w := NewWorker(d, v, failingMailer{}, nil, nil, WorkerOptions{Now: clk.Now})
				_, err := w.RunOnce(ctx)
				return err
			})
			op("statistics", func(ctx context.Context) error {
				w := NewWorker(d, v, nil, nil, nil, WorkerOptions{Now: clk.Now})
				_, err := w.Stats(ctx)
				return err
			})
		})
	})
}
