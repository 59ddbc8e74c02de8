package messaging_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/notify"
)

// TestNoticeDueByServiceClock: the notices of a new message (mail to
// each person, push to a subscribed browser) are stamped with the
// service's clock, not the machine's: created with the message, due
// NotifyDelay after it, as a worker driven by the same clock sees them.
// The clock stands far from the wall clock, so a stamp taken from the
// machine would put them due at another time.
func TestNoticeDueByServiceClock(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		const delay = 10 * time.Minute
		f.svc.NotifyDelay = delay
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		f.active(t, "piet@example.nl", false, "Piet", "", "Pietersen")
		f.subscribe(t, jan, "https://push.example.test/jan")
		f.clk.Add(time.Hour)
		at := f.clk.Now()
		if _, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email, "piet@example.nl"}, Subject: "Verzuim", Body: "Hoe gaat het?"}); err != nil {
			t.Fatal(err)
		}
		var rows []db.OutboxItem
		if err := d.NewSelect().Model(&rows).Where("channel IN (?, ?)", db.ChannelMail, db.ChannelPush).Order("id").Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if len(rows) != 3 {
			t.Fatalf("%d notice rows, want 3 (two mails, one push)", len(rows))
		}
		for _, r := range rows {
			if !r.CreatedAt.Equal(at) || !r.NextAttemptAt.Equal(at.Add(delay)) {
				t.Errorf("%s row to %s: created %v, due %v; want created %v, due %v", r.Channel, r.Recipient,
					r.CreatedAt.UTC(), r.NextAttemptAt.UTC(), at, at.Add(delay))
			}
		}
		run := func(now time.Time) {
			t.Helper()
			w := notify.NewWorker(d, f.v, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), notify.WorkerOptions{
				Now: func() time.Time { return now },
				NoticeWanted: func(ctx context.Context, n notify.Notice) (bool, error) {
					return messaging.NoticeWanted(ctx, d, n)
				},
			})
			if _, err := w.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
		}
		sent := func() (n int) {
			t.Helper()
			if err := d.NewSelect().Model(&rows).Where("channel IN (?, ?)", db.ChannelMail, db.ChannelPush).Order("id").Scan(ctx); err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				if r.Status == db.OutboxSent {
					n++
				}
			}
			return n
		}
		run(at.Add(delay - time.Second))
		run(at.Add(delay - time.Second)) // a pass after the lanes came up
		if n := sent(); n != 0 {
			t.Fatalf("a second before the delay: %d notices sent, want 0", n)
		}
		run(at.Add(delay + time.Second))
		if n := sent(); n != 3 {
			t.Fatalf("a second after the delay: %d notices sent, want 3", n)
		}
	})
}
