package messaging_test

import (
	"context"
	"fmt"
	"testing"

	"dialoog/db/dbtest"
	"dialoog/messaging/messagingtest"
)

// BenchmarkSearchBigBox measures a page of search results in a box of 500
// and one of 20,000 conversations, on both engines: a rare word (no
// match), a subject that matches one conversation, a word that matches
// every subject, and a text too short for the indexes that matches
// nothing ("short": walk and auto go the same way there). "walk" is the
// search as it was (every page walks the box in its order and tests each
// conversation), the baseline in the same run; "auto" chooses, reading
// the matches when they are few (searchPlanFor).
//
//	go test -run '^$' -bench SearchBigBox ./messaging/
func BenchmarkSearchBigBox(b *testing.B) {
	for _, engine := range dbtest.Engines {
		b.Run(engine, func(b *testing.B) {
			d := dbtest.MustOpen(b, engine)
			ctx := context.Background()
			f := setup(b, d)
			for _, box := range []struct {
				owner   string
				threads int
			}{{"klein@osaw.nl", 500}, {"groot@osaw.nl", 20000}} {
				u := f.active(b, box.owner, true, "Case", "", "Manager")
				if _, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: u, Threads: box.threads, Messages: 1, Others: max(1, box.threads/10)}); err != nil {
					b.Fatal(err)
				}
				dbtest.Statistics(b, d)
				for _, q := range []struct{ name, text string }{{"rare", "zqxj"}, {"one", "gesprek 000123"}, {"every", "gesprek"}, {"short", "qx"}} {
					for _, how := range []string{"walk", "auto"} {
						b.Run(fmt.Sprintf("box=%d/%s/%s", box.threads, q.name, how), func(b *testing.B) {
							if how == "walk" {
								f.svc.SearchBy("walk")
								defer f.svc.SearchBy("")
							}
							for b.Loop() {
								if _, err := f.svc.Inbox(ctx, u.Identity(), 1, q.text); err != nil {
									b.Fatal(err)
								}
							}
						})
					}
				}
			}
		})
	}
}
