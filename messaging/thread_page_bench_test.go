package messaging_test

import (
	"context"
	"fmt"
	"testing"

	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/messaging/messagingtest"
)

// BenchmarkOpenLongConversation measures Thread (what the page of a
// conversation loads: the conversation, its people and its messages as
// the reader sees them) for a conversation of 2,000 messages beside ones
// of 20 and of 200 (a page: ThreadPageSize), on both engines.
//
//	go test -run '^$' -bench OpenLongConversation ./messaging/
func BenchmarkOpenLongConversation(b *testing.B) {
	for _, engine := range dbtest.Engines {
		b.Run(engine, func(b *testing.B) {
			d := dbtest.MustOpen(b, engine)
			ctx := context.Background()
			f := setup(b, d)
			jan := f.active(b, "jan@example.nl", false, "Jan", "", "Jansen")
			for _, n := range []int{20, 200, 2000} {
				tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: fmt.Sprint("Gesprek ", n), Body: "Begin"})
				if err != nil {
					b.Fatal(err)
				}
				if err := messagingtest.LongThread(ctx, d, f.v, tid, jan.ID, f.hr.ID, n-1, f.clk.Now()); err != nil {
					b.Fatal(err)
				}
				b.Run(fmt.Sprintf("messages=%d", n), func(b *testing.B) {
					for b.Loop() {
						if _, err := f.svc.Thread(ctx, jan.Identity(), tid); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
