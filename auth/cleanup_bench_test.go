package auth_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
)

// BenchmarkNightlyPurge measures the nightly purge of sessions and
// one-time codes that have 1,000 rows each to delete, beside 2,000 (the
// baseline in the same run) and 100,000 rows of each still in use, begun
// over the last day, on both engines. An iteration deletes in a
// transaction and rolls it back, so that every one finds the same rows.
//
//	go test -run '^$' -bench NightlyPurge ./auth/
func BenchmarkNightlyPurge(b *testing.B) {
	for _, engine := range dbtest.Engines {
		b.Run(engine, func(b *testing.B) {
			d := dbtest.MustOpen(b, engine)
			ctx := context.Background()
			now := time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC)
			u := &db.User{Email: "p@example.nl", Kind: db.KindExternal, Status: db.StatusActive, Language: "nl", Gender: "unknown",
				FirstName: "Voor", LastName: "Naam", CreatedAt: now, UpdatedAt: now}
			if _, err := d.NewInsert().Model(u).Exec(ctx); err != nil {
				b.Fatal(err)
			}
			// rows adds n sessions and codes begun from since on, evenly
			// until until.
			rows := func(n int, since, until time.Time) {
				step := until.Sub(since) / time.Duration(n)
				sessions := make([]db.Session, n)
				codes := make([]db.OneTimeCode, n)
				for i := range n {
					at := since.Add(time.Duration(i) * step)
					sessions[i] = db.Session{TokenHash: fmt.Appendf(nil, "%s-%d-%d", since, n, i), UserID: u.ID, CreatedAt: at,
						LastSeenAt: at, ExpiresAt: at.Add(auth.SessionAbsolute)}
					codes[i] = db.OneTimeCode{UserID: u.ID, Purpose: auth.PurposePasswordReset, CodeHash: []byte("x"), SentAt: at,
						ExpiresAt: at.Add(10 * time.Minute)}
				}
				for batch := range slices.Chunk(sessions, 2000) {
					if _, err := d.NewInsert().Model(&batch).Exec(ctx); err != nil {
						b.Fatal(err)
					}
				}
				for batch := range slices.Chunk(codes, 2000) {
					if _, err := d.NewInsert().Model(&batch).Exec(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
			// The rows to delete: begun two to three days ago, last seen then.
			rows(1000, now.Add(-72*time.Hour), now.Add(-48*time.Hour))
			total := 0
			for _, n := range []int{2000, 100000} {
				rows(n-total, now.Add(-24*time.Hour), now)
				total = n
				dbtest.Statistics(b, d)
				b.Run(fmt.Sprintf("in-use=%d", n), func(b *testing.B) {
					for b.Loop() {
						tx, err := d.BeginTx(ctx, nil)
						if err != nil {
							b.Fatal(err)
						}
						s, err := auth.PurgeSessions(ctx, tx, now)
						if err != nil {
							b.Fatal(err)
						}
						c, err := auth.PurgeCodes(ctx, tx, now)
						if err != nil {
							b.Fatal(err)
						}
						if err := tx.Rollback(); err != nil {
							b.Fatal(err)
						}
						if s != 1000 || c != 1000 {
							b.Fatalf("deleted %d sessions and %d codes, want 1,000 each", s, c)
						}
					}
				})
			}
		})
	}
}
