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

// BenchmarkStopWithSigningRequests: a person stops with Dialoog whose box
// of 1,000 messages (200 conversations of five) nobody else keeps any
// more, in an installation whose 5,000 other conversations hold no
// signing request, or one each. Each deleted message asks whether a request still
// needs it and lets the database clear the requests that point at it, so
// without an index on those columns every message costs a scan of all
// requests. "x-baseline" is the stop's time beside the same stop with no
// requests at all: what the requests add.
func BenchmarkStopWithSigningRequests(b *testing.B) {
	for _, engine := range dbtest.Engines {
		b.Run(engine, func(b *testing.B) { benchStopWithRequests(b, engine) })
	}
}

func benchStopWithRequests(b *testing.B, engine string) {
	d := dbtest.MustOpen(b, engine)
	ctx := context.Background()
	f := setup(b, d)
	// The other conversations, each with one message, which later gets a
	// request.
	if _, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: f.hr, Threads: 5000, Messages: 1}); err != nil {
		b.Fatal(err)
	}
	n := 0
	stop := func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			n++
			u := f.active(b, fmt.Sprintf("stopt%d@example.nl", n), false, "Stef", "", "Stopper")
			if _, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: u, Threads: 200, Messages: 5,
				Start: time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Hour)}); err != nil {
				b.Fatal(err)
			}
			// Nobody else keeps the box's messages: the stop deletes them.
			if _, err := d.ExecContext(ctx, `UPDATE message_states SET removed_at = ? WHERE user_id <> ?
  AND message_id IN (SELECT m.id FROM messages AS m JOIN participants AS p ON p.thread_id = m.thread_id WHERE p.user_id = ?)`,
				f.clk.Now(), u.ID, u.ID); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if err := f.svc.StopService(ctx, u.Identity()); err != nil {
				b.Fatal(err)
			}
		}
	}
	var baseline float64
	b.Run("requests=0", func(b *testing.B) {
		stop(b)
		baseline = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	now := f.clk.Now()
	if _, err := d.ExecContext(ctx, `INSERT INTO signing_requests (thread_id, org_id, message_id, requester_name, name_sealed, sha256, pages, in_order, status, created_at, updated_at)
SELECT m.thread_id, ?, m.id, 'Hanna de Vries', ?, 'x', 1, FALSE, 'open', ?, ? FROM messages AS m
WHERE m.thread_id IN (SELECT p.thread_id FROM participants AS p WHERE p.user_id = ?)`, f.org.ID, []byte{1}, now, now, f.hr.ID); err != nil {
		b.Fatal(err)
	}
	if count, err := d.NewSelect().Table("signing_requests").Count(ctx); err != nil || count != 5000 {
		b.Fatalf("%d signing requests (%v)", count, err)
	}
	if err := d.Optimize(ctx); err != nil {
		b.Fatal(err)
	}
	b.Run("requests=5000", func(b *testing.B) {
		stop(b)
		if baseline > 0 {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/baseline, "x-baseline")
		}
	})
}

// BenchmarkStopBesideALargeInstallation is a person stopping with Dialoog
// (a box of five conversations of two messages, which the others keep) in
// an installation of 2,000 messages, the baseline, and of 200,000, beside
// it in the same run ("x-baseline"). The deletion of the account makes
// the database find every row that refers to the person (the foreign keys
// to users, ON DELETE SET NULL or CASCADE): a stop should cost what the
// person's own rows cost, not what the installation holds. The same goes
// for every invitation that expires unused (retention deletes those
// accounts in the same way).
//
//	go test -run '^$' -bench 'StopBesideALargeInstallation' -benchtime 20x ./messaging/
func BenchmarkStopBesideALargeInstallation(b *testing.B) {
	for _, engine := range dbtest.Engines {
		b.Run(engine, func(b *testing.B) { benchStopBesideLarge(b, engine) })
	}
}

func benchStopBesideLarge(b *testing.B, engine string) {
	d := dbtest.MustOpen(b, engine)
	ctx := context.Background()
	f := setup(b, d)
	// The installation: case managers' boxes.
	grow := func(owner string, threads int) {
		b.Helper()
		hr := f.active(b, owner, true, "Hanna", "", "Helder")
		if _, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: hr, Threads: threads, Messages: 2, Others: max(1, threads/10)}); err != nil {
			b.Fatal(err)
		}
		dbtest.Statistics(b, d)
		// The seeding's write-ahead log into the file, or the first stop
		// after it (which empties the log) would copy it.
		if err := d.Checkpoint(ctx); err != nil {
			b.Fatal(err)
		}
	}
	n := 0
	stop := func(b *testing.B) float64 {
		for b.Loop() {
			b.StopTimer()
			n++
			u := f.active(b, fmt.Sprintf("stopper%d@example.nl", n), false, "Stef", "", "Stopper")
			if _, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: u, Threads: 5, Messages: 2,
				Start: time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Hour)}); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if err := f.svc.StopService(ctx, u.Identity()); err != nil {
				b.Fatal(err)
			}
		}
		return float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	}
	grow("cm1@osaw.nl", 1000)
	var baseline float64
	b.Run("messages=2000", func(b *testing.B) { baseline = stop(b) })
	grow("cm2@osaw.nl", 99000)
	b.Run("messages=200000", func(b *testing.B) {
		if per := stop(b); baseline > 0 {
			b.ReportMetric(per/baseline, "x-baseline")
		}
	})
}

// BenchmarkRemoveLongConversation: a conversation of 2,000 messages leaves
// its last box ("Verwijder gesprek" by the last person who has it: every
// message goes, with its read states, and the conversation), beside the
// same for a conversation of 20 messages, the baseline, in the same run.
// "x-baseline" is the long conversation's time over the short one's: what
// 100 times the messages costs. Retention deletes conversations the same
// way.
//
//	go test -run '^$' -bench 'RemoveLongConversation' -benchtime 10x ./messaging/
func BenchmarkRemoveLongConversation(b *testing.B) {
	for _, engine := range dbtest.Engines {
		b.Run(engine, func(b *testing.B) {
			d := dbtest.MustOpen(b, engine)
			ctx := context.Background()
			f := setup(b, d)
			jan := f.active(b, "jan@example.nl", false, "Jan", "", "Jansen")
			remove := func(b *testing.B, n int) float64 {
				for b.Loop() {
					b.StopTimer()
					tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Lang", Body: "Begin"})
					if err != nil {
						b.Fatal(err)
					}
					if err := messagingtest.LongThread(ctx, d, f.v, tid, f.hr.ID, jan.ID, n-1, f.clk.Now()); err != nil {
						b.Fatal(err)
					}
					if err := f.svc.RemoveThreadFromBox(ctx, jan.Identity(), tid); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					if err := f.svc.RemoveThreadFromBox(ctx, f.hr.Identity(), tid); err != nil {
						b.Fatal(err)
					}
				}
				return float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			}
			besideSmall(b, "messages", 20, 2000, remove)
		})
	}
}
