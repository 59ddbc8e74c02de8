package messaging_test

import (
	"context"
	"fmt"
	"testing"

	"dialoog/db/dbtest"
	"dialoog/messaging/messagingtest"
)

// BenchmarkContactsBigBox measures the compose form's address suggestions
// (Contacts, 100 of them) for a box of 20,000 conversations beside one of
// 200, the baseline in the same run, on both engines.
//
//	go test -run '^$' -bench ContactsBigBox ./messaging/
func BenchmarkContactsBigBox(b *testing.B) {
	for _, engine := range dbtest.Engines {
		b.Run(engine, func(b *testing.B) {
			d := dbtest.MustOpen(b, engine)
			ctx := context.Background()
			f := setup(b, d)
			var baseline float64
			for _, n := range []int{200, 20000} {
				u := f.active(b, fmt.Sprintf("box%d@osaw.nl", n), true, "Case", "", "Manager")
				if _, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: u, Threads: n, Others: max(1, n/10)}); err != nil {
					b.Fatal(err)
				}
				dbtest.Statistics(b, d)
				b.Run(fmt.Sprintf("conversations=%d", n), func(b *testing.B) {
					for b.Loop() {
						if _, err := f.svc.Contacts(ctx, u.Identity(), 100); err != nil {
							b.Fatal(err)
						}
					}
					per := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
					if baseline == 0 {
						baseline = per
					} else {
						b.ReportMetric(per/baseline, "x-baseline")
					}
				})
			}
		})
	}
}
