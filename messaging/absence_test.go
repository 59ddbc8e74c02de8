package messaging_test

import (
	"context"
	"testing"
	"time"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// An absence period is a range of Dutch dates: it starts and ends at
// midnight in Europe/Amsterdam (winter and summer time), not at midnight
// UTC, and answers once per conversation in the period.
func TestAbsenceFollowsLocalMidnight(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
		setAway := func(from, until string) {
			t.Helper()
			t0, _ := time.Parse("2006-01-02", from)
			t1, _ := time.Parse("2006-01-02", until)
			if _, err := d.NewUpdate().Model((*db.User)(nil)).Set("away_enabled = ?", true).
				Set("away_sealed = ?", auth.SealAway(f.v, jan.ID, "Ik ben afwezig")).Set("away_changed_at = ?", f.clk.Now().Add(-30*24*time.Hour)).
				Set("away_from = ?", t0).Set("away_until = ?", t1).Where("id = ?", jan.ID).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		// answered composes a new conversation to Jan at the instant at
		// and says whether his absence reply came.
		answered := func(at string) bool {
			t.Helper()
			now, err := time.Parse(time.RFC3339, at)
			if err != nil {
				t.Fatal(err)
			}
			f.clk.mu.Lock()
			f.clk.t = now
			f.clk.mu.Unlock()
			tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Vraag " + at, Body: "?"})
			if err != nil {
				t.Fatal(err)
			}
			v, _ := f.svc.Thread(ctx, f.hr.Identity(), tid)
			return len(v.Messages) == 2 && v.Messages[1].AutoReply
		}
		setAway("2026-03-10", "2026-03-12") // winter time, UTC+1
		for at, want := range map[string]bool{
			"2026-03-09T22:59:00Z": false, // 23:59 on the 9th
			"2026-03-09T23:00:00Z": true,  // 00:00 on the 10th
			"2026-03-12T22:59:00Z": true,  // 23:59 on the 12th
			"2026-03-12T23:00:00Z": false, // 00:00 on the 13th
		} {
			if got := answered(at); got != want {
				t.Errorf("winter %s: absence reply %v, want %v", at, got, want)
			}
		}
		setAway("2026-04-01", "2026-04-01") // summer time, UTC+2
		for at, want := range map[string]bool{
			"2026-03-31T21:59:00Z": false,
			"2026-03-31T22:00:00Z": true,
			"2026-04-01T21:59:00Z": true,
			"2026-04-01T22:00:00Z": false,
		} {
			if got := answered(at); got != want {
				t.Errorf("summer %s: absence reply %v, want %v", at, got, want)
			}
		}
	})
}
