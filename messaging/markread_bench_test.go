package messaging_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"dialoog/db/dbtest"
	"dialoog/messaging/messagingtest"
)

// BenchmarkMarkReadBigBox: opening a conversation marks what it shows
// read (MarkReadUpTo), here with nothing left unread, as on every return
// to a conversation; the case manager's box holds 50 or 5,000
// conversations of four messages, and the one opened has 4 or 2,004. Beside it, as the baseline, a read of
// the participant row by its key. What MarkRead costs must not grow with
// the box: it looks for the unread messages, and those that came with a
// team's history (message_states.history), of the one conversation.
func BenchmarkMarkReadBigBox(b *testing.B) {
	for _, engine := range dbtest.Engines {
		for _, n := range []int{50, 5000} {
			for _, long := range []int{0, 2000} {
				b.Run(fmt.Sprintf("%s/threads=%d/messages=%d", engine, n, 4+long), func(b *testing.B) { benchMarkRead(b, engine, n, long) })
			}
		}
	}
}

func benchMarkRead(b *testing.B, engine string, n, long int) {
	d := dbtest.MustOpen(b, engine)
	ctx := context.Background()
	f := setup(b, d)
	seeded, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: f.hr, Threads: n, Messages: 4, Others: max(1, n/10)})
	if err != nil {
		b.Fatal(err)
	}
	tid := seeded.Threads[len(seeded.Threads)/2]
	if long > 0 {
		other := seeded.Others[(len(seeded.Threads)/2)%len(seeded.Others)]
		if err := messagingtest.LongThread(ctx, d, f.v, tid, f.hr.ID, other.ID, long, time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)); err != nil {
			b.Fatal(err)
		}
	}
	dbtest.Statistics(b, d)
	var baseline float64
	b.Run("participant-row", func(b *testing.B) {
		for b.Loop() {
			var id int64
			if err := d.NewRaw("SELECT id FROM participants WHERE thread_id = ? AND user_id = ?", tid, f.hr.ID).Scan(ctx, &id); err != nil {
				b.Fatal(err)
			}
		}
		baseline = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("mark-read", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.svc.MarkRead(ctx, f.hr.Identity(), tid); err != nil {
				b.Fatal(err)
			}
		}
		if baseline > 0 {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/baseline, "x-baseline")
		}
	})
}
