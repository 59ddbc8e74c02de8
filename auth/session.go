package auth

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/db"
	"dialoog/usertext"
)

// Session lifetimes (DESIGN, security baseline).
const (
	SessionIdle     = 30 * time.Minute
	SessionAbsolute = 12 * time.Hour
	touchEvery      = time.Minute
)

// Sessions creates, finds and ends server-side sessions.
type Sessions struct {
	DB  *db.DB
	Now func() time.Time

	touches touches
}

// touches are the sessions this process refreshed (see keepAlive) in the
// last touchEvery, by id, with the time of it.
type touches struct {
	mu    sync.Mutex
	at    map[int64]time.Time
	prune int // the size at which old entries are dropped next
}

// claim reports whether the session id is to be refreshed now, and if so
// records it: not when this process refreshed it, or began to, less than a
// touchEvery ago. Entries older than that are dropped as the map grows, each
// time it has doubled since (so that many sessions active at once cost a
// scan now and then, not one per claim).
func (t *touches) claim(id int64, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if at, ok := t.at[id]; ok && now.Sub(at) < touchEvery && !now.Before(at) {
		return false
	}
	if t.at == nil {
		t.at = map[int64]time.Time{}
	}
	if len(t.at) >= max(t.prune, 1024) {
		for k, at := range t.at {
			if now.Sub(at) >= touchEvery || now.Before(at) {
				delete(t.at, k)
			}
		}
		t.prune = 2 * len(t.at)
	}
	t.at[id] = now
	return true
}

// release forgets a claim whose refresh failed, so the next request tries.
func (t *touches) release(id int64) {
	t.mu.Lock()
	delete(t.at, id)
	t.mu.Unlock()
}

// Create stores a new session for userID in the caller's transaction and
// returns its token; only the token's hash is stored.
func (s *Sessions) Create(ctx context.Context, idb bun.IDB, userID int64, ip, userAgent string) (string, error) {
	token, q := s.insert(idb, userID, ip, userAgent)
	if _, err := q.Exec(ctx); err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return token, nil
}

// insert is the statement that stores a new session, and its token.
func (s *Sessions) insert(idb bun.IDB, userID int64, ip, userAgent string) (string, *bun.InsertQuery) {
	token, hash := NewToken()
	now := s.Now().UTC()
	userAgent = cleanUserAgent(userAgent)
	sess := &db.Session{TokenHash: hash, UserID: userID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(SessionAbsolute), IP: ip, UserAgent: userAgent}
	return token, idb.NewInsert().Model(sess)
}

// Lookup returns the live session of token, refreshing its idle timer.
func (s *Sessions) Lookup(ctx context.Context, token string) (*db.Session, error) {
	if !ValidToken(token) {
		return nil, apperr.New(apperr.Unauthorized, "session.expired")
	}
	var sess db.Session
	err := s.DB.NewSelect().Model(&sess).Where("token_hash = ?", HashToken(token)).Scan(ctx)
	if db.ErrNoRows(err) {
		return nil, apperr.New(apperr.Unauthorized, "session.expired")
	}
	if err != nil {
		return nil, fmt.Errorf("load session: %w", err)
	}
	if err := s.keepAlive(ctx, &sess); err != nil {
		return nil, err
	}
	return &sess, nil
}

// KeepAlive extends the idle timer of the session with id sessionID for
// activity that makes no request: the person is typing in a page whose
// live connection belongs to the session. It is keepAlive's rule and
// write: a session that ended, is past its absolute end or already sat idle
// for SessionIdle is not revived (apperr.Unauthorized, nothing written),
// and the timer moves at most once a touchEvery. The absolute end stays
// where it is. It returns the session's end after it (SessionEnd), which
// the live connection keeps (see LiveEnds).
func (s *Sessions) KeepAlive(ctx context.Context, sessionID int64) (time.Time, error) {
	var sess db.Session
	err := s.DB.NewSelect().Model(&sess).Column("id", "user_id", "last_seen_at", "expires_at", "ended_at").
		Where("id = ?", sessionID).Scan(ctx)
	if db.ErrNoRows(err) {
		return time.Time{}, apperr.New(apperr.Unauthorized, "session.expired")
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("load session %d: %w", sessionID, err)
	}
	if err := s.keepAlive(ctx, &sess); err != nil {
		return time.Time{}, err
	}
	return SessionEnd(&sess), nil
}

// LiveEnds returns, for those of sessionIDs that are live now, when each
// ends unless it is used again (SessionEnd); sessions that ended, lapsed
// or are gone are left out. It is how a live connection that is past the
// end its session had when it last knew learns whether another tab kept
// the session alive meanwhile, before a push (realtime.RelayOptions
// .SessionEnds). One query; reading is no activity.
func (s *Sessions) LiveEnds(ctx context.Context, sessionIDs []int64) (map[int64]time.Time, error) {
	if len(sessionIDs) == 0 {
		return nil, nil
	}
	var rows []db.Session
	err := s.DB.NewSelect().Model(&rows).Column("id", "last_seen_at", "expires_at", "ended_at").
		Where("id IN (?)", bun.In(sessionIDs)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("load sessions of live connections: %w", err)
	}
	now := s.Now()
	ends := make(map[int64]time.Time, len(rows))
	for i := range rows {
		if left(&rows[i], now) > 0 {
			ends[rows[i].ID] = SessionEnd(&rows[i])
		}
	}
	return ends, nil
}

// Remaining is how long the session of token has left before it ends: its
// idle end or its absolute end, whichever comes first; zero for a session
// that ended, lapsed or does not exist. ended tells which of these a
// session with nothing left is: true when it was ended (logout,
// "afmelden", a password change or reset, a blocked account) or is not
// known at all, false when it lapsed (idle, or at its absolute end), so
// that a page can say why it was logged out. Asking is no activity:
// nothing is written, so a page may ask before it warns that its session
// is about to end.
func (s *Sessions) Remaining(ctx context.Context, token string) (remaining time.Duration, ended bool, err error) {
	if !ValidToken(token) {
		return 0, true, nil
	}
	var sess db.Session
	err = s.DB.NewSelect().Model(&sess).Column("last_seen_at", "expires_at", "ended_at").
		Where("token_hash = ?", HashToken(token)).Scan(ctx)
	if db.ErrNoRows(err) {
		return 0, true, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("load session: %w", err)
	}
	return left(&sess, s.Now()), !sess.EndedAt.IsZero(), nil
}

// left is what remains of a session at now (see Remaining): nothing once
// it ended, sat idle for SessionIdle or reached its absolute end.
func left(sess *db.Session, now time.Time) time.Duration {
	end := SessionEnd(sess)
	if end.IsZero() {
		return 0
	}
	return max(end.Sub(now), 0)
}

// SessionEnd is when sess ends unless it is used again: its idle end
// (SessionIdle after it was last seen) or its absolute end, whichever
// comes first; the zero time for a session that was ended.
func SessionEnd(sess *db.Session) time.Time {
	if !sess.EndedAt.IsZero() {
		return time.Time{}
	}
	end := sess.LastSeenAt.Add(SessionIdle)
	if sess.ExpiresAt.Before(end) {
		end = sess.ExpiresAt
	}
	return end
}

// Extend restarts the idle timer of the live session with id sessionID now
// and returns what the session then has left: the person said they are
// still there ("Ingelogd blijven" when warned that the session is about to
// end). Unlike keepAlive it writes whenever asked; a session that ended or
// lapsed is not revived (apperr.Unauthorized), and the absolute end stays.
func (s *Sessions) Extend(ctx context.Context, sessionID int64) (time.Duration, error) {
	now := s.Now().UTC()
	var sess db.Session
	err := s.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		err := tx.NewUpdate().Model(&sess).Set("last_seen_at = ?", now).
			Where("id = ? AND ended_at IS NULL AND expires_at > ? AND last_seen_at > ?", sessionID, now, now.Add(-SessionIdle)).
			Returning("user_id, last_seen_at, expires_at").Scan(ctx)
		if db.ErrNoRows(err) {
			return apperr.New(apperr.Unauthorized, "session.expired")
		}
		if err != nil {
			return fmt.Errorf("extend session %d: %w", sessionID, err)
		}
		// The user's "laatst gezien" moves with the session, as in keepAlive.
		if _, err := tx.NewUpdate().Model((*db.User)(nil)).Set("last_seen_at = ?", now).Where("id = ?", sess.UserID).Exec(ctx); err != nil {
			return fmt.Errorf("extend session %d: user: %w", sessionID, err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return left(&sess, now), nil
}

// keepAlive refuses a session that ended, expired or sat idle, and
// refreshes its idle timer (and the user's "laatst gezien") at most once a
// touchEvery. The requests of a session that arrive together when the
// timer is due all read it as due; one of them refreshes it, the others go
// on without writing: on this instance because the first one claimed it,
// on others because the write changes nothing that is less than a
// touchEvery old. (Each writing would queue every one of them behind the
// one before, on the session's row or SQLite's writer.)
func (s *Sessions) keepAlive(ctx context.Context, sess *db.Session) error {
	now := s.Now().UTC()
	if left(sess, now) == 0 {
		return apperr.New(apperr.Unauthorized, "session.expired")
	}
	if now.Sub(sess.LastSeenAt) >= touchEvery && s.touches.claim(sess.ID, now) {
		// The session's idle timer and the user's "laatst gezien" for the
		// people they write with: one transaction (one round trip on
		// PostgreSQL; on SQLite in its turn among the writers).
		due := now.Add(-touchEvery)
		if err := s.DB.ExecAtomic(ctx,
			s.DB.NewUpdate().Model((*db.Session)(nil)).Set("last_seen_at = ?", now).Where("id = ? AND last_seen_at <= ?", sess.ID, due),
			s.DB.NewUpdate().Model((*db.User)(nil)).Set("last_seen_at = ?", now).
				Where("id = ? AND (last_seen_at IS NULL OR last_seen_at <= ?)", sess.UserID, due)); err != nil {
			s.touches.release(sess.ID)
			return fmt.Errorf("touch session: %w", err)
		}
		sess.LastSeenAt = now
	}
	return nil
}

// End ends the session of token, if any.
func (s *Sessions) End(ctx context.Context, token string) error {
	if !ValidToken(token) {
		return nil
	}
	_, err := s.DB.NewUpdate().Model((*db.Session)(nil)).Set("ended_at = ?", s.Now().UTC()).
		Where("token_hash = ? AND ended_at IS NULL", HashToken(token)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// Rotate gives the session a new token (a new id at every stage change and
// login, against session fixation), optionally marking the second factor as
// passed, and returns the new token.
func (s *Sessions) Rotate(ctx context.Context, idb bun.IDB, sessionID int64, secondFactor bool) (string, error) {
	token, hash := NewToken()
	now := s.Now().UTC()
	q := idb.NewUpdate().Model((*db.Session)(nil)).Set("token_hash = ?", hash).Set("last_seen_at = ?", now).Where("id = ? AND ended_at IS NULL", sessionID)
	if secondFactor {
		q = q.Set("second_factor_at = ?", now)
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return "", fmt.Errorf("rotate session: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return "", apperr.New(apperr.Unauthorized, "session.expired")
	}
	return token, nil
}

// EndOthers ends every session of userID except keepID (0 ends all), after
// a password or factor change, and returns the ids of the sessions it
// ended, whose live connections must close.
func (s *Sessions) EndOthers(ctx context.Context, idb bun.IDB, userID, keepID int64) ([]int64, error) {
	var ids []int64
	if err := idb.NewUpdate().Model((*db.Session)(nil)).Set("ended_at = ?", s.Now().UTC()).
		Where("user_id = ? AND id <> ? AND ended_at IS NULL", userID, keepID).Returning("id").Scan(ctx, &ids); err != nil && !db.ErrNoRows(err) {
		return nil, fmt.Errorf("end other sessions: %w", err)
	}
	return ids, nil
}

// maxUserAgent bounds a stored User-Agent, in bytes.
const maxUserAgent = 300

// cleanUserAgent is the User-Agent as stored with a session and shown in
// the user's list of sessions: one clean line (usertext.CleanLine: valid
// UTF-8, no control or bidirectional formatting characters), cut to
// maxUserAgent bytes without splitting a character.
func cleanUserAgent(s string) string { return usertext.LineWithin(s, maxUserAgent) }

// Lapsed returns the user of the session of token when that session is no
// longer live only because it sat idle for SessionIdle or reached its
// absolute end, at most a day ago (endedKept: until the cleanup deletes
// it), after a complete login (its second factor passed), and its user may
// still use Dialoog (not disabled, the first visit done). It is how a
// message typed while the session lapsed is kept for the person (see
// messaging.Service.KeepText). A session that was ended (logging out,
// "afmelden overal", a password change, an admin), an unknown token, a
// live session and anything older answer apperr.Unauthorized. It reads
// only: the session stays over.
func (s *Sessions) Lapsed(ctx context.Context, token string) (int64, error) {
	none := apperr.New(apperr.Unauthorized, "session.expired")
	if !ValidToken(token) {
		return 0, none
	}
	now := s.Now().UTC()
	since := now.Add(-endedKept)
	var userID int64
	err := s.DB.NewSelect().TableExpr("sessions AS s").Column("s.user_id").
		Join("JOIN users AS u ON u.id = s.user_id").
		Where("s.token_hash = ?", HashToken(token)).
		Where("s.ended_at IS NULL").Where("s.second_factor_at IS NOT NULL").
		Where("(s.expires_at <= ? OR s.last_seen_at <= ?)", now, now.Add(-SessionIdle)).
		Where("s.expires_at > ?", since).Where("s.last_seen_at > ?", since.Add(-SessionIdle)).
		Where("u.status <> ?", db.StatusDisabled).Where(stageDoneExpr).Scan(ctx, &userID)
	if db.ErrNoRows(err) {
		return 0, none
	}
	if err != nil {
		return 0, fmt.Errorf("lapsed session: %w", err)
	}
	return userID, nil
}
