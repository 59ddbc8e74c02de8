package messaging_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/i18n"
	"dialoog/messaging"
	"dialoog/messaging/messagingtest"
)

// BenchmarkStopManyConversations: a case manager with 2,000 conversations
// stops with Dialoog, beside one with 20, the baseline, in the same run
// ("x-baseline" is the large box's time over the small one's: what 100
// times the conversations costs). The other people keep half of the
// conversations (the stop only takes the case manager out of them); the
// other half they removed already, so the stop deletes them.
//
//	go test -run '^$' -bench 'StopManyConversations' -benchtime 5x ./messaging/
func BenchmarkStopManyConversations(b *testing.B) {
	for _, engine := range dbtest.Engines {
		b.Run(engine, func(b *testing.B) {
			d := dbtest.MustOpen(b, engine)
			ctx := context.Background()
			f := setup(b, d)
			n := 0
			stop := func(b *testing.B, threads int) float64 {
				for b.Loop() {
					b.StopTimer()
					n++
					u, _ := f.caseManager(b, n, threads, 2, time.Time{})
					// Every second conversation the other person removed
					// (as "Verwijder gesprek" leaves it: out of their box,
					// their counts recounted).
					if _, err := d.ExecContext(ctx, `UPDATE message_states SET removed_at = ? WHERE user_id <> ?
  AND message_id IN (SELECT m.id FROM messages AS m JOIN participants AS p ON p.thread_id = m.thread_id WHERE p.user_id = ? AND m.thread_id % 2 = 0)`,
						f.clk.Now(), u.ID, u.ID); err != nil {
						b.Fatal(err)
					}
					if _, err := d.ExecContext(ctx, `UPDATE participants SET unread_count = 0, box_count = 0 WHERE user_id <> ? AND thread_id % 2 = 0
  AND thread_id IN (SELECT p.thread_id FROM participants AS p WHERE p.user_id = ?)`, u.ID, u.ID); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					if err := f.svc.StopService(ctx, u.Identity()); err != nil {
						b.Fatal(err)
					}
				}
				return float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			}
			besideSmall(b, "conversations", 20, 2000, stop)
		})
	}
}

// BenchmarkRetentionManyConversations: the nightly run deletes 2,000
// conversations (of three messages each) that are older than the
// organisation keeps them, beside a night with 20, the baseline, in the
// same run ("x-baseline": what 100 times the conversations costs). The
// first night after an organisation turns retention on deletes what
// years left.
//
//	go test -run '^$' -bench 'RetentionManyConversations' -benchtime 5x ./messaging/
func BenchmarkRetentionManyConversations(b *testing.B) {
	for _, engine := range dbtest.Engines {
		b.Run(engine, func(b *testing.B) {
			d := dbtest.MustOpen(b, engine)
			ctx := context.Background()
			f := setup(b, d)
			if _, err := d.NewUpdate().Model((*db.User)(nil)).Set("is_admin = ?", true).Where("id = ?", f.hr.ID).Exec(ctx); err != nil {
				b.Fatal(err)
			}
			f.hr.IsAdmin = true
			if err := f.svc.SetRetention(ctx, f.hr.Identity(), messaging.RetentionInput{Conversations: "12"}); err != nil {
				b.Fatal(err)
			}
			// The first run only schedules the nightly ones.
			if _, err := f.svc.RunDaily(ctx); err != nil {
				b.Fatal(err)
			}
			night := time.Date(2026, 3, 1, 3, 0, 0, 0, i18n.Zone)
			n := 0
			run := func(b *testing.B, threads int) float64 {
				for b.Loop() {
					b.StopTimer()
					n++
					night = night.AddDate(0, 0, 1)
					f.caseManager(b, n, threads, 3, night.AddDate(-2, 0, 0))
					f.clk.Set(night)
					b.StartTimer()
					if _, err := f.svc.RunDaily(ctx); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					if st, _ := f.svc.Retention(ctx, f.hr.Identity()); st.Last.Conversations != threads {
						b.Fatalf("the night deleted %+v, want %d conversations", st.Last, threads)
					}
					b.StartTimer()
				}
				return float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			}
			besideSmall(b, "conversations", 20, 2000, run)
		})
	}
}

// besideSmall runs op (which returns its time per operation) at the small
// size, the baseline, and at the large one, as sub-benchmarks named what=n;
// the large one reports its time over the small one's ("x-baseline").
func besideSmall(b *testing.B, what string, small, large int, op func(b *testing.B, n int) float64) {
	var baseline float64
	b.Run(fmt.Sprintf("%s=%d", what, small), func(b *testing.B) { baseline = op(b, small) })
	b.Run(fmt.Sprintf("%s=%d", what, large), func(b *testing.B) {
		if per := op(b, large); baseline > 0 {
			b.ReportMetric(per/baseline, "x-baseline")
		}
	})
}

// BenchmarkRemoveFromBigBox: a case manager removes one conversation (of
// two messages, which the other person keeps) from a box of 20,000
// conversations, beside a box of 200, the baseline, in the same run
// ("x-baseline"). Removing a conversation should cost the conversation,
// not the box.
//
//	go test -run '^$' -bench 'RemoveFromBigBox' -benchtime 20x ./messaging/
func BenchmarkRemoveFromBigBox(b *testing.B) {
	for _, engine := range dbtest.Engines {
		b.Run(engine, func(b *testing.B) {
			d := dbtest.MustOpen(b, engine)
			ctx := context.Background()
			f := setup(b, d)
			besideSmall(b, "conversations", 200, 20000, func(b *testing.B, threads int) float64 {
				u, seeded := f.caseManager(b, threads, threads, 2, time.Time{})
				if err := d.Optimize(ctx); err != nil {
					b.Fatal(err)
				}
				i := 0
				for b.Loop() {
					if err := f.svc.RemoveThreadFromBox(ctx, u.Identity(), seeded.Threads[i%threads]); err != nil {
						b.Fatal(err)
					}
					i++
				}
				return float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			})
		})
	}
}

// caseManager stores case manager number n (an internal user) with a box
// of threads conversations of messages each (from start; zero: Seed's
// default), with a tenth as many other people and every third
// conversation unread.
func (f *fx) caseManager(b *testing.B, n, threads, messages int, start time.Time) (*db.User, *messagingtest.Seeded) {
	b.Helper()
	u := f.active(b, fmt.Sprintf("cm%d@osaw.nl", n), true, "Hanna", "", "Helder")
	seeded, err := messagingtest.Seed(context.Background(), f.d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: u, Threads: threads,
		Messages: messages, Others: max(1, threads/10), UnreadEvery: 3, Start: start})
	if err != nil {
		b.Fatal(err)
	}
	return u, seeded
}
