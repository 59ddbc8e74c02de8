package auth

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/uptrace/bun"

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
	return l.AllowIn(ctx, l.DB, key, limit, window)
}

// AllowIn is Allow in the caller's transaction: the event is counted only
// if the transaction commits, and concurrent transactions counting the same
// key wait for each other.
func (l *Limiter) AllowIn(ctx context.Context, idb bun.IDB, key string, limit int, window time.Duration) (bool, time.Duration, error) {
	within, wait, err := l.AllowManyIn(ctx, idb, key, 1, limit, window)
	return within == 1, wait, err
}

// AllowManyIn is n AllowIn for key in a row, in one statement: it counts
// n events and returns how many of them, the first ones, are within
// limit (n when all are; when fewer, also how long until the window
// ends). As with AllowIn, the events are counted only if the transaction
// commits: a caller that refuses the whole of them when some are over the
// limit rolls the count back with the rest.
func (l *Limiter) AllowManyIn(ctx context.Context, idb bun.IDB, key string, n, limit int, window time.Duration) (int, time.Duration, error) {
	if n <= 0 {
		return 0, 0, nil
	}
	count, start, err := l.bump(ctx, idb, key, n, window)
	if err != nil {
		return 0, 0, err
	}
	// Before these n, the window held count-n events: the k-th of them is
	// event count-n+k, within the limit while that is at most limit.
	within := min(max(limit-(count-n), 0), n)
	if within == n {
		return n, 0, nil
	}
	return within, start.Add(window).Sub(l.Now()), nil
}

// write runs fn, a write of a throttle, in its turn among the database's
// writers (db.DB.Write) when idb is the database itself; in a transaction
// it has its turn already.
func (l *Limiter) write(ctx context.Context, idb bun.IDB, fn func(ctx context.Context) error) error {
	if _, ok := idb.(*db.DB); ok {
		return l.DB.Write(ctx, fn)
	}
	return fn(ctx)
}

// bump counts n events for key in a fixed window that starts anew once it
// has passed, in one statement so that concurrent requests count right.
func (l *Limiter) bump(ctx context.Context, idb bun.IDB, key string, n int, window time.Duration) (int, time.Time, error) {
	now := l.Now().UTC()
	cutoff := now.Add(-window)
	var row struct {
		Count       int
		WindowStart time.Time
	}
	err := l.write(ctx, idb, func(ctx context.Context) error {
		return idb.NewRaw(`INSERT INTO throttles (key, count, window_start) VALUES (?, ?, ?)
ON CONFLICT (key) DO UPDATE SET
  count = CASE WHEN throttles.window_start <= ? THEN ? ELSE throttles.count + ? END,
  window_start = CASE WHEN throttles.window_start <= ? THEN ? ELSE throttles.window_start END
RETURNING count, window_start`, key, n, now, cutoff, n, n, cutoff, now).Scan(ctx, &row)
	})
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

// Attempt counts one attempt at a secret for key BEFORE the secret is
// checked, and reports how long the caller must wait when the attempt is
// not within the allowance (the secret must then not be checked at all).
// The count, the decision and the wait the attempt causes if it fails are
// one statement, so that parallel attempts are counted one after another:
// of N attempts at once, at most the allowance is evaluated. A success
// calls Reset.
//
// The allowance: four failures are free; from the fifth attempt on each
// one starts a wait that doubles (1 s, 2 s, 4 s ... capped at five
// minutes), and an hour holds at most 100 attempts.
func (l *Limiter) Attempt(ctx context.Context, key string) (time.Duration, error) {
	now := l.Now().UTC()
	cutoff := now.Add(-failureWindow)
	var waits strings.Builder
	args := []any{key, now, now, cutoff, maxFailures, now, cutoff, maxFailures, now, cutoff, now, now, cutoff, maxFailures, freeFailures + 1}
	for n := freeFailures + 1; failureWait(n) < maxFailureWait; n++ {
		waits.WriteString("\n  WHEN throttles.count + 1 = ? THEN ?")
		args = append(args, n, now.Add(failureWait(n)))
	}
	args = append(args, now.Add(maxFailureWait))
	// In the SET clause every column reference is the row before the
	// attempt. "Blocked" is a wait still running; "expired" a window that
	// has passed (the attempt starts a new one); "full" 100 attempts in
	// the window.
	query := `INSERT INTO throttles (key, count, window_start, blocked_until, allowed) VALUES (?, 1, ?, NULL, 1)
ON CONFLICT (key) DO UPDATE SET
  allowed = CASE WHEN throttles.blocked_until > ? THEN 0 WHEN throttles.window_start <= ? THEN 1
    WHEN throttles.count >= ? THEN 0 ELSE 1 END,
  count = CASE WHEN throttles.blocked_until > ? THEN throttles.count WHEN throttles.window_start <= ? THEN 1
    WHEN throttles.count >= ? THEN throttles.count ELSE throttles.count + 1 END,
  window_start = CASE WHEN throttles.blocked_until > ? THEN throttles.window_start WHEN throttles.window_start <= ? THEN ?
    ELSE throttles.window_start END,
  blocked_until = CASE WHEN throttles.blocked_until > ? THEN throttles.blocked_until WHEN throttles.window_start <= ? THEN NULL
    WHEN throttles.count >= ? THEN throttles.blocked_until
    WHEN throttles.count + 1 < ? THEN NULL` + waits.String() + `
    ELSE ? END
RETURNING count, window_start, blocked_until, allowed`
	var row db.Throttle
	if err := l.DB.Write(ctx, func(ctx context.Context) error { return l.DB.NewRaw(query, args...).Scan(ctx, &row) }); err != nil {
		return 0, fmt.Errorf("throttle %s: %w", key, err)
	}
	if row.Allowed == 1 {
		return 0, nil
	}
	wait := row.BlockedUntil.Sub(now)
	if row.Count >= maxFailures {
		wait = max(wait, row.WindowStart.Add(failureWindow).Sub(now))
	}
	return max(wait, time.Second), nil
}

// Over reports how long key must wait when it already counts limit events
// in its current window (counted by Allow), without counting one.
func (l *Limiter) Over(ctx context.Context, key string, limit int, window time.Duration) (time.Duration, error) {
	var t db.Throttle
	err := l.DB.NewSelect().Model(&t).Where("key = ?", key).Scan(ctx)
	if db.ErrNoRows(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("throttle %s: %w", key, err)
	}
	end := t.WindowStart.Add(window)
	if now := l.Now(); t.Count >= limit && now.Before(end) {
		return end.Sub(now), nil
	}
	return 0, nil
}

// Blocked reports how long key must wait before its next attempt. With
// Fail it is the older pattern of checking first and counting after the
// secret was checked; Attempt counts before and holds under parallel
// requests.
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
	count, start, err := l.bump(ctx, l.DB, key, 1, failureWindow)
	if err != nil {
		return 0, err
	}
	now := l.Now().UTC()
	wait := failureWait(count)
	if count >= maxFailures {
		wait = max(wait, start.Add(failureWindow).Sub(now))
	}
	if wait > 0 {
		if err := l.DB.Write(ctx, func(ctx context.Context) error {
			_, err := l.DB.NewUpdate().Model((*db.Throttle)(nil)).Set("blocked_until = ?", now.Add(wait)).Where("key = ?", key).Exec(ctx)
			return err
		}); err != nil {
			return 0, fmt.Errorf("throttle %s: %w", key, err)
		}
	}
	return wait, nil
}

// Reset forgets the failures of key after a success.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	if err := l.DB.Write(ctx, func(ctx context.Context) error {
		_, err := l.resetDelete(l.DB, key).Exec(ctx)
		return err
	}); err != nil {
		return fmt.Errorf("throttle reset %s: %w", key, err)
	}
	return nil
}

// resetDelete is the statement of Reset (the login runs it in its
// ExecAtomic).
func (l *Limiter) resetDelete(idb bun.IDB, key string) *bun.DeleteQuery {
	return idb.NewDelete().Model((*db.Throttle)(nil)).Where("key = ?", key)
}

// IPKey is the key of a per-address limit named prefix for the address ip.
// An IPv6 address counts by its /64: that is the network one subscriber
// (a home, a phone, a server) gets and picks any address from, so
// stepping through one's own addresses gets no more than one address
// does. An IPv4 address, or an IPv4 address mapped into IPv6, counts as
// itself; anything else as it is written.
func IPKey(prefix, ip string) string {
	if a, err := netip.ParseAddr(ip); err == nil {
		if a = a.Unmap().WithZone(""); a.Is6() {
			if p, err := a.Prefix(64); err == nil {
				ip = p.String()
			}
		} else {
			ip = a.String()
		}
	}
	return prefix + ":ip:" + ip
}

// ForgetThrottles deletes, in the caller's transaction, the throttle rows
// of one person, as part of deleting their account: those keyed by their
// mail address (password attempts and new-link requests, a plain hash of
// it that a list of addresses finds again) and by their account (codes,
// "confirm it is you", setup texts). No decision about anyone else changes:
// a guess at an address without an account gets nowhere. The rows of IP
// addresses and browsers stay, shared by others, until PurgeThrottles.
// By their keys, one statement.
func ForgetThrottles(ctx context.Context, idb bun.IDB, userID int64, email string) error {
	keys := []string{passwordKey(email), newLinkKey(email), userKey(userID), reauthKey(userID), smsUserKey(userID)}
	if _, err := idb.NewDelete().Model((*db.Throttle)(nil)).Where("key IN (?)", bun.In(keys)).Exec(ctx); err != nil {
		return fmt.Errorf("forget throttles: %w", err)
	}
	return nil
}
