package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
)

// The daily cleanup (messaging.Service.RunDaily) removes what the login
// rules no longer need. Each function deletes in batches of CleanupBatch
// rows, each batch a statement of its own, and returns how many rows it
// deleted; running it twice, or on two instances at once, deletes nothing
// twice. Each batch reads a range of an index of what it deletes (the
// throttles' aside, see PurgeThrottles), in no order: under a sort by id
// SQLite walks the whole table in id order instead, and PostgreSQL may,
// which reads every row on the nights, most of them, when little is left
// to delete.

// CleanupBatch is how many rows one statement of the cleanup deletes.
const CleanupBatch = 1000

// InvitationKept is how long an invitation that was never used is kept.
const InvitationKept = 30 * 24 * time.Hour

// endedKept is how long a session is kept after it ended or expired: a
// day, so that the live sweep (which closes the live connections of
// sessions that ended) has long seen it.
const endedKept = 24 * time.Hour

// throttleKept is how long after its window started a throttle row is
// kept once no wait runs: far beyond the longest window (an hour), so that
// a removed row counts exactly as a window that passed.
const throttleKept = 24 * time.Hour

// DeleteBatches runs a DELETE of at most CleanupBatch rows (a statement
// with a LIMIT placeholder last) until it deletes fewer; the other
// packages' parts of the daily cleanup use it too.
func DeleteBatches(ctx context.Context, idb bun.IDB, what, query string, args ...any) (int, error) {
	total := 0
	args = append(args, CleanupBatch)
	for {
		res, err := idb.NewRaw(query, args...).Exec(ctx)
		if err != nil {
			return total, fmt.Errorf("delete %s: %w", what, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("delete %s: %w", what, err)
		}
		total += int(n)
		if n < CleanupBatch {
			return total, nil
		}
	}
}

// PurgeInvitations deletes the sign-up links that were never used and were
// created before cutoff (now - InvitationKept): the link itself expired
// long ago. The newest one of a person who is still invited stays: it
// records which organisation invited them, which "stuur mij een nieuwe
// link" needs (the person takes part in a conversation, else the cleanup
// deleted them before).
func PurgeInvitations(ctx context.Context, idb bun.IDB, cutoff time.Time) (int, error) {
	return DeleteBatches(ctx, idb, "old invitations", `DELETE FROM invitations WHERE id IN (
  SELECT i.id FROM invitations AS i JOIN users AS u ON u.id = i.user_id
  WHERE i.used_at IS NULL AND i.created_at < ?
    AND (u.status <> ? OR EXISTS (SELECT 1 FROM invitations AS newer WHERE newer.user_id = i.user_id AND newer.id > i.id))
  LIMIT ?)`, cutoff.UTC(), db.StatusInvited)
}

// PurgeSessions deletes sessions that ended, or expired (idle or absolute),
// more than a day before now.
//
// They are found through sessions_expires_idx: a session's absolute expiry
// is set once, SessionAbsolute after it began, and a session ends, and is
// last seen, after it began; so every session that ended or went idle
// before a time has its absolute expiry less than SessionAbsolute after
// that time. The range reads what is deleted and the sessions begun 24 to
// 36 hours ago that were still in use a day ago, not the sessions of the
// day; last_seen_at, which every session moves every minute, needs no
// index of its own. (A session that breaks the bound, were its expiry
// ever set later, still goes a day after its absolute expiry.)
func PurgeSessions(ctx context.Context, idb bun.IDB, now time.Time) (int, error) {
	before := now.UTC().Add(-endedKept)
	return DeleteBatches(ctx, idb, "ended sessions", `DELETE FROM sessions WHERE id IN (
  SELECT id FROM sessions WHERE expires_at < ? AND (ended_at < ? OR expires_at < ? OR last_seen_at < ?) LIMIT ?)`,
		before.Add(SessionAbsolute), before, before, before.Add(-SessionIdle))
}

// PurgeSSOLogins deletes the single sign-on logins (state, nonce, PKCE
// verifier) that expired more than a day before now, used or not.
func PurgeSSOLogins(ctx context.Context, idb bun.IDB, now time.Time) (int, error) {
	return DeleteBatches(ctx, idb, "expired sso logins", `DELETE FROM sso_logins WHERE id IN (
  SELECT id FROM sso_logins WHERE expires_at < ? LIMIT ?)`, now.UTC().Add(-endedKept))
}

// PurgeThrottles deletes throttle rows whose window passed long ago and
// whose wait (if any) is over: removing one changes no decision. It reads
// the table whole: the table holds the keys of the last day or two, most
// of which a night deletes, and every attempt a throttle counts sets
// window_start (on SQLite a write of an index on it, changed or not).
func PurgeThrottles(ctx context.Context, idb bun.IDB, now time.Time) (int, error) {
	now = now.UTC()
	return DeleteBatches(ctx, idb, "expired throttles", `DELETE FROM throttles WHERE key IN (
  SELECT key FROM throttles WHERE window_start < ? AND (blocked_until IS NULL OR blocked_until < ?) LIMIT ?)`,
		now.Add(-throttleKept), now)
}

// PurgeCodes deletes the one-time codes (and the numbers they were texted
// to) that expired more than a day before now, used or not: the caps that
// count texts look back a day at most.
func PurgeCodes(ctx context.Context, idb bun.IDB, now time.Time) (int, error) {
	return DeleteBatches(ctx, idb, "expired codes", `DELETE FROM one_time_codes WHERE id IN (
  SELECT id FROM one_time_codes WHERE expires_at < ? LIMIT ?)`, now.UTC().Add(-endedKept))
}
