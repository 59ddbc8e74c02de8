package auth

import (
	"context"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestAllowManyIn: n events counted at once are within the limit as far
// as n AllowIn in a row would be: the first ones up to what the window
// has left, the rest over it; a window that has passed starts anew.
func TestAllowManyIn(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		l := &Limiter{DB: d, Now: func() time.Time { return now }}
		step := func(n, want int, wantWait bool) {
			t.Helper()
			within, wait, err := l.AllowManyIn(ctx, d, "many", n, 5, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if within != want || (wait > 0) != wantWait {
				t.Fatalf("%d events: %d within, wait %s; want %d within, a wait %v", n, within, wait, want, wantWait)
			}
		}
		step(0, 0, false)
		step(3, 3, false)
		step(2, 2, false)
		step(2, 0, true) // 7 of 5
		now = now.Add(time.Hour)
		step(7, 5, true) // a new window: the first five
		now = now.Add(time.Hour)
		step(1, 1, false)
		if ok, _, err := l.AllowIn(ctx, d, "many", 5, time.Hour); err != nil || !ok {
			t.Fatalf("AllowIn after one of five: %v, %v", ok, err)
		}
	})
}
