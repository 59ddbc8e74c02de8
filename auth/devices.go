package auth

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mileusna/useragent"
	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/db"
)

// SessionInfo is one of a person's live sessions as "Sessies" shows it.
type SessionInfo struct {
	ID      int64
	Browser string // "Firefox 128", "" when the user agent says nothing
	System  string // "Windows 10", "Android 14"
	Mobile  bool
	Place   string // the IP address shortened (ShortIP)
	Started time.Time
	Active  time.Time // last request
	// Current is the session of the request; Pending one that passed the
	// password but not (yet) the second step.
	Current, Pending bool
}

// LiveSessions lists the person's sessions that are still valid, the
// current one first, then by last activity.
func (a *Accounts) LiveSessions(ctx context.Context, cur *Current) ([]SessionInfo, error) {
	now := a.Now().UTC()
	var rows []db.Session
	if err := a.liveSessionsSelect(&rows, cur.User.ID, now).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	out := make([]SessionInfo, 0, len(rows))
	for _, r := range rows {
		ua := useragent.Parse(r.UserAgent)
		info := SessionInfo{ID: r.ID, Browser: strings.TrimSpace(ua.Name + " " + majorVersion(ua.Version)),
			System: strings.TrimSpace(ua.OS + " " + majorVersion(ua.OSVersion)), Mobile: ua.Mobile || ua.Tablet,
			Place: ShortIP(r.IP), Started: r.CreatedAt, Active: r.LastSeenAt,
			Current: cur.Session != nil && r.ID == cur.Session.ID, Pending: r.SecondFactorAt.IsZero()}
		if info.Current {
			out = append([]SessionInfo{info}, out...)
		} else {
			out = append(out, info)
		}
	}
	return out, nil
}

// liveSessionsSelect selects the user's valid sessions: a range of
// sessions_user_idx (a person has a few).
func (a *Accounts) liveSessionsSelect(rows *[]db.Session, userID int64, now time.Time) *bun.SelectQuery {
	return a.DB.NewSelect().Model(rows).
		Where("user_id = ? AND ended_at IS NULL AND expires_at > ? AND last_seen_at > ?", userID, now, now.Add(-SessionIdle)).
		OrderExpr("last_seen_at DESC, id DESC")
}

// majorVersion keeps "128" of "128.0.6613.84": enough to recognise a
// browser without fingerprinting it.
func majorVersion(v string) string {
	major, _, _ := strings.Cut(v, ".")
	return major
}

// EndSession ends one of the person's other sessions and returns its id,
// for the live layer to close its sockets. Another person's session, the
// current one (that is logging out) and unknown ids are NotFound.
func (a *Accounts) EndSession(ctx context.Context, cur *Current, sessionID int64, ip string) (int64, error) {
	if cur.Session == nil || sessionID == cur.Session.ID {
		return 0, apperr.New(apperr.NotFound, "error.not_found")
	}
	err := a.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := a.Now().UTC()
		res, err := tx.NewUpdate().Model((*db.Session)(nil)).Set("ended_at = ?", now).
			Where("id = ? AND user_id = ? AND ended_at IS NULL", sessionID, cur.User.ID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		return Audit(ctx, tx, AuditEntry{UserID: &cur.User.ID, Kind: "session.ended", IP: ip, Now: now})
	})
	if err != nil {
		return 0, fmt.Errorf("end session %d: %w", sessionID, err)
	}
	return sessionID, nil
}

// EndOtherSessions ends every session of the person but the current one
// and returns their ids, for the live layer to close their sockets.
func (a *Accounts) EndOtherSessions(ctx context.Context, cur *Current, ip string) ([]int64, error) {
	if cur.Session == nil {
		return nil, apperr.New(apperr.Unauthorized, "session.expired")
	}
	var ids []int64
	err := a.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := a.Now().UTC()
		if err := tx.NewSelect().Model((*db.Session)(nil)).Column("id").
			Where("user_id = ? AND id <> ? AND ended_at IS NULL", cur.User.ID, cur.Session.ID).Scan(ctx, &ids); err != nil {
			return fmt.Errorf("load other sessions: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		if _, err := tx.NewUpdate().Model((*db.Session)(nil)).Set("ended_at = ?", now).
			Where("id IN (?) AND ended_at IS NULL", bun.In(ids)).Exec(ctx); err != nil {
			return fmt.Errorf("end other sessions: %w", err)
		}
		return Audit(ctx, tx, AuditEntry{UserID: &cur.User.ID, Kind: "session.ended", Detail: fmt.Sprintf("%d others", len(ids)), IP: ip, Now: now})
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}
