package messaging_test

import (
	"context"
	"fmt"
	"testing"

	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/messaging/messagingtest"
)

// BenchmarkRenameUser: a person saves their name (as every new person does
// once, on Deelnemerinstellingen), on SQLite, where migration 0037's
// triggers give everyone who sees the name a new inbox version, and on
// PostgreSQL, where migration 0040's notify them; beside an UPDATE of the
// same row that no trigger watches (last_seen_at). "rename": the person
// takes part in one conversation while the database holds 50 or 5,000
// others, so what grows with them is what the rename reads of other
// people's boxes. "rename-owner": the case manager whose box holds them
// all renames, so everyone in every conversation of the box is told.
func BenchmarkRenameUser(b *testing.B) {
	for _, engine := range dbtest.Engines {
		for _, n := range []int{50, 5000} {
			b.Run(fmt.Sprintf("%s/threads=%d", engine, n), func(b *testing.B) { benchRenameUser(b, engine, n) })
		}
	}
}

func benchRenameUser(b *testing.B, engine string, n int) {
	d := dbtest.MustOpen(b, engine)
	ctx := context.Background()
	f := setup(b, d)
	if _, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: f.hr, Threads: n, Messages: 1, Others: max(1, n/10)}); err != nil {
		b.Fatal(err)
	}
	emp := f.active(b, "nieuw@example.nl", false, "Nina", "", "Nieuw")
	if _, err := d.NewRaw("UPDATE threads SET assigned_to = ? WHERE id = (SELECT MIN(id) FROM threads)", f.boss.ID).Exec(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := f.svc.Compose(ctx, f.boss.Identity(), messaging.ComposeInput{To: []string{emp.Email}, Subject: "Welkom", Body: "Hallo"}); err != nil {
		b.Fatal(err)
	}
	dbtest.Statistics(b, d)
	var baseline float64
	b.Run("untracked-update", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := d.ExecContext(ctx, "UPDATE users SET last_seen_at = ? WHERE id = ?", f.clk.Now().Add(-1), emp.ID); err != nil {
				b.Fatal(err)
			}
		}
		baseline = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	rename := func(userID int64) func(b *testing.B) {
		return func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if _, err := d.ExecContext(ctx, "UPDATE users SET last_name = ? WHERE id = ?", fmt.Sprintf("Nieuw%d", i), userID); err != nil {
					b.Fatal(err)
				}
			}
			if baseline > 0 {
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/baseline, "x-baseline")
			}
		}
	}
	b.Run("rename", rename(emp.ID))
	b.Run("rename-owner", rename(f.hr.ID))
}
