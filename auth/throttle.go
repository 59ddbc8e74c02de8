package auth

import (
	"context"
	"fmt"
	"time"

	"dialoog/db"
)

// Limiter counts events per key in fixed windows stored in the database, so
// that limits hold across restarts and across instances.
type Limiter struct {
	DB  *db.DB
	Now func() time.Time
}

// Allow records one event for key and reports whether it is within limit
// events per window; when not, it also returns how long until the window
// ends.
func (l *Limiter) Allow(ctx context.Context, key string, limit int, window time.Duration) (bool, time.Duration, error) {
	count, start, err := l.bump(ctx, key, window)
	if err != nil {
		return false, 0, err
	}
	if count <= limit {
		return true, 0, nil
	}
	return false, start.Add(window).Sub(l.Now()), nil
}

// bump counts one event for key in a fixed window that starts anew once it
// has passed, in one statement so that concurrent requests count right.
func (l *Limiter) bump(ctx context.Context, key string, window time.Duration) (int, time.Time, error) {
	now := l.Now().UTC()
	cutoff := now.Add(-window)
	var row struct {
		Count       int
		WindowStart time.Time
	}
	err := l.DB.NewRaw(`INSERT INTO throttles (key, count, window_start) VALUES (?, 1, ?)
ON CONFLICT (key) DO UPDATE SET
  count = CASE WHEN throttles.window_start <= ? THEN 1 ELSE throttles.count + 1 END,
  window_start = CASE WHEN throttles.window_start <= ? THEN ? ELSE throttles.window_start END
RETURNING count, window_start`, key, now, cutoff, cutoff, now).Scan(ctx, &row)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("throttle %s: %w", key, err)
	}
	return row.Count, row.WindowStart, nil
}

// Per-account limits on failed secrets (DESIGN): after a few failures every
// further failure doubles the wait, capped so that nobody can lock another
// person out for long, and never more than 100 failures an hour.
const (
	freeFailures   = 4
	maxFailureWait = 5 * time.Minute
	failureWindow  = time.Hour
	maxFailures    = 100
)

// failureWait is the wait after n failures in the window.
func failureWait(n int) time.Duration {
	if n <= freeFailures {
		return 0
	}
	d := time.Second << min(n-freeFailures-1, 20)
	return min(d, maxFailureWait)
}

// Blocked reports how long key must wait before its next attempt.
func (l *Limiter) Blocked(ctx context.Context, key string) (time.Duration, error) {
	var t db.Throttle
	err := l.DB.NewSelect().Model(&t).Where("key = ?", key).Scan(ctx)
	if db.ErrNoRows(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("throttle %s: %w", key, err)
	}
	if t.BlockedUntil.IsZero() {
		return 0, nil
	}
	if wait := t.BlockedUntil.Sub(l.Now()); wait > 0 {
		return wait, nil
	}
	return 0, nil
}

// Fail records a failed attempt for key and returns the wait it causes.
func (l *Limiter) Fail(ctx context.Context, key string) (time.Duration, error) {
	count, start, err := l.bump(ctx, key, failureWindow)
	if err != nil {
		return 0, err
	}
	now := l.Now().UTC()
	wait := failureWait(count)
	if count >= maxFailures {
		wait = max(wait, start.Add(failureWindow).Sub(now))
	}
	if wait > 0 {
		if _, err := l.DB.NewUpdate().Model((*db.Throttle)(nil)).Set("blocked_until = ?", now.Add(wait)).Where("key = ?", key).Exec(ctx); err != nil {
			return 0, fmt.Errorf("throttle %s: %w", key, err)
		}
	}
	return wait, nil
}

// Reset forgets the failures of key after a success.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	if _, err := l.DB.NewDelete().Model((*db.Throttle)(nil)).Where("key = ?", key).Exec(ctx); err != nil {
		return fmt.Errorf("throttle reset %s: %w", key, err)
	}
	return nil
}
