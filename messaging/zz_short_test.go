package messaging_test

import (
	"context"
	"testing"
	"time"

	"dialoog/db/dbtest"
	"dialoog/messaging/messagingtest"
)

func TestZZShortSearch(t *testing.T) {
	for _, engine := range dbtest.Engines {
		d := dbtest.MustOpen(t, engine)
		ctx := context.Background()
		f := setup(t, d)
		for _, n := range []int{500, 20000} {
			u := f.active(t, "groot"+string(rune('a'+n%7))+"@osaw.nl", true, "Case", "", "Manager")
			if _, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: u, Threads: n, Messages: 1, Others: max(1, n/10)}); err != nil {
				t.Fatal(err)
			}
			dbtest.Statistics(t, d)
			for _, q := range []string{"qx", "q", "ge", "w"} {
				start := time.Now()
				for range 5 {
					if _, err := f.svc.Inbox(ctx, u.Identity(), 1, q); err != nil {
						t.Fatal(err)
					}
				}
				t.Logf("%s box %d %q: %v", engine, n, q, time.Since(start)/5)
			}
		}
	}
}
