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

// ActivityPageSize is how many events one page of "Beveiligingsactiviteit"
// shows.
const ActivityPageSize = 25

// ActivityEvent is one of a person's own audit events as they see it.
type ActivityEvent struct {
	Kind string
	// Factor is the factor or secret the event is about (password, sms,
	// totp, recovery), when it names one.
	Factor string
	// Place is the IP address, shortened (see ShortIP).
	Place string
	At    time.Time
}

// Activity returns page (from 1) of the user's own audit events, newest
// first, and whether an older page exists: logins (with the factor, success
// or failure), password and factor changes, recovery codes, exports and
// sessions ended, as the rest of auth and messaging record them.
func (a *Accounts) Activity(ctx context.Context, userID int64, page int) ([]ActivityEvent, bool, error) {
	if page < 1 {
		page = 1
	}
	var rows []db.AuditEvent
	if err := a.activitySelect(&rows, userID, page).Scan(ctx); err != nil {
		return nil, false, fmt.Errorf("security activity: %w", err)
	}
	more := len(rows) > ActivityPageSize
	if more {
		rows = rows[:ActivityPageSize]
	}
	out := make([]ActivityEvent, len(rows))
	for i, r := range rows {
		out[i] = ActivityEvent{Kind: r.Kind, Factor: factorOf(r.Detail), Place: ShortIP(OwnIP(&r)), At: r.CreatedAt}
	}
	return out, more, nil
}

// activitySelect selects page of the user's own audit events, one more
// than a page: a range of audit_events_user_idx.
func (a *Accounts) activitySelect(rows *[]db.AuditEvent, userID int64, page int) *bun.SelectQuery {
	return a.DB.NewSelect().Model(rows).Where("user_id = ?", userID).
		OrderExpr("created_at DESC, id DESC").Limit(ActivityPageSize + 1).Offset(int64((page - 1) * ActivityPageSize))
}

// OwnIP is the IP address of an audit event as the person it is about may
// see it (their security activity, their export): the address they acted
// from. An event someone else caused on their account (an administrator's
// helpdesk reset, invitation or block) was recorded with that other
// person's address, which is not theirs to see: "".
func OwnIP(ev *db.AuditEvent) string {
	if ev.ActorID != nil && (ev.UserID == nil || *ev.ActorID != *ev.UserID) {
		return ""
	}
	return ev.IP
}

// factorOf picks the factor an audit detail names, if any; the rest of a
// detail is for administrators.
func factorOf(detail string) string {
	for _, f := range []string{"password", db.FactorSMS, db.FactorTOTP, "recovery", FactorPasskey, ConfirmSSO} {
		if detail == f || strings.HasPrefix(detail, f+" ") {
			return f
		}
	}
	return ""
}

// ShortIP shows where a request came from without pinpointing it: an IPv4
// address as its /24 ("203.0.113.x"), an IPv6 address as its /48.
func ShortIP(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	addr = addr.Unmap()
	if addr.Is4() {
		b := addr.As4()
		return fmt.Sprintf("%d.%d.%d.x", b[0], b[1], b[2])
	}
	p, err := addr.Prefix(48)
	if err != nil {
		return ""
	}
	return p.String()
}
