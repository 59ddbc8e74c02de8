package messaging_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"dialoog/db/dbtest"
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
