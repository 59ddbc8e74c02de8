package messaging_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"dialoog/db/dbtest"
	"dialoog/messaging/messagingtest"
)

// BenchmarkMessageInBox: the check that a message route's message is in
// the user's box of that conversation (before "Verwijderen" and after it),
// in a conversation of 4 and of 2,004 messages, beside the lookup of the
// user's participant row in it.
func BenchmarkMessageInBox(b *testing.B) {
	for _, engine := range dbtest.Engines {
		for _, long := range []int{0, 2000} {
			b.Run(fmt.Sprintf("%s/messages=%d", engine, 4+long), func(b *testing.B) {
				d := dbtest.MustOpen(b, engine)
				ctx := context.Background()
				f := setup(b, d)
				seeded, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: f.hr, Threads: 50, Messages: 4, Others: 5})
				if err != nil {
					b.Fatal(err)
				}
				tid := seeded.Threads[len(seeded.Threads)/2]
				if long > 0 {
					if err := messagingtest.LongThread(ctx, d, f.v, tid, f.hr.ID, seeded.Others[0].ID, long, time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)); err != nil {
						b.Fatal(err)
					}
				}
				var first int64
				if err := d.NewRaw("SELECT MIN(id) FROM messages WHERE thread_id = ?", tid).Scan(ctx, &first); err != nil {
					b.Fatal(err)
				}
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
				b.Run("in-box", func(b *testing.B) {
					for b.Loop() {
						in, err := f.svc.MessageInBox(ctx, f.hr.Identity(), tid, first)
						if err != nil || !in {
							b.Fatalf("%v %v", in, err)
						}
					}
					if baseline > 0 {
						b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/baseline, "x-baseline")
					}
				})
			})
		}
	}
}
