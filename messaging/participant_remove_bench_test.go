package messaging_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/messaging/messagingtest"
)

// BenchmarkRemoveParticipant is "Deelnemer verwijderen" of someone added
// by mistake, in the two sizes it can grow with, each beside a small one
// in the same run ("x-baseline"):
//
//   - "messages": a mistyped address added with the earlier messages to a
//     conversation of 2,000 messages, beside one of 20 (their read states
//     go with them, as when they remove it themselves);
//
//   - "box": a colleague whose own box holds 20,000 conversations, added
//     to a new conversation without its history, beside a box of 200 (the
//     check that they read nothing of it should cost the conversation,
//     not their box).
//
//     go test -run '^$' -bench 'RemoveParticipant' -benchtime 10x ./messaging/
func BenchmarkRemoveParticipant(b *testing.B) {
	for _, engine := range dbtest.Engines {
		b.Run(engine, func(b *testing.B) {
			d := dbtest.MustOpen(b, engine)
			ctx := context.Background()
			f := setup(b, d)
			jan := f.active(b, "jan@example.nl", false, "Jan", "", "Jansen")
			added := 0
			// remove adds someone to tid as in and times their removal.
			remove := func(b *testing.B, tid int64, in func() messaging.AddInput) {
				b.StopTimer()
				// Past the hour's allowance of new addresses.
				f.clk.Add(time.Hour)
				added++
				add := in()
				if err := f.svc.AddParticipant(ctx, f.hr.Identity(), tid, add); err != nil {
					b.Fatal(err)
				}
				u := f.user(b, add.Email)
				b.StartTimer()
				if err := f.svc.RemoveParticipant(ctx, f.hr.Identity(), tid, u.ID); err != nil {
					b.Fatal(err)
				}
			}
			besideSmall(b, "messages", 20, 2000, func(b *testing.B, n int) float64 {
				tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Lang", Body: "Begin"})
				if err != nil {
					b.Fatal(err)
				}
				if err := messagingtest.LongThread(ctx, d, f.v, tid, f.hr.ID, jan.ID, n-1, f.clk.Now()); err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					remove(b, tid, func() messaging.AddInput {
						return messaging.AddInput{Email: fmt.Sprintf("typo%d@example.nl", added), History: messaging.WithHistory}
					})
				}
				return float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			})
			besideSmall(b, "box", 200, 20000, func(b *testing.B, threads int) float64 {
				colleague, _ := f.caseManager(b, threads, threads, 2, f.clk.Now())
				if err := d.Optimize(ctx); err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					b.StopTimer()
					tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verzuim", Body: "Hallo"})
					if err != nil {
						b.Fatal(err)
					}
					remove(b, tid, func() messaging.AddInput {
						return messaging.AddInput{Email: colleague.Email, History: messaging.FromNowOn}
					})
				}
				return float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			})
		})
	}
}
