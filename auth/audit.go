package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
)

// AuditEntry is one security-relevant event.
type AuditEntry struct {
	UserID  *int64
	ActorID *int64
	Kind    string
	Detail  string
	IP      string
	Now     time.Time
	// OrgID names the organisation of an admin action (see
	// db.AuditEvent.OrgID).
	OrgID *int64
}

// Audit records an event in the caller's transaction.
func Audit(ctx context.Context, idb bun.IDB, e AuditEntry) error {
	if _, err := auditInsert(idb, e).Exec(ctx); err != nil {
		return fmt.Errorf("audit %s: %w", e.Kind, err)
	}
	return nil
}

// auditInsert is the statement that records e.
func auditInsert(idb bun.IDB, e AuditEntry) *bun.InsertQuery {
	ev := &db.AuditEvent{UserID: e.UserID, ActorID: e.ActorID, Kind: e.Kind, Detail: e.Detail, IP: e.IP, CreatedAt: e.Now.UTC(), OrgID: e.OrgID}
	q := idb.NewInsert().Model(ev)
	if e.OrgID == nil {
		// Also writes to a schema before migration 0019 (tests that
		// migrate step by step).
		q = q.ExcludeColumn("org_id")
	}
	return q
}
