package auth

import (
	"context"
	"fmt"
	"slices"
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

// auditChunk is how many events AuditMany records in one statement.
const auditChunk = 500

// AuditMany records the events es in the caller's transaction, in one
// statement a chunk of auditChunk, as Audit does one by one (in their
// order): a change that audits each of many rows (the invitations of a
// conversation for new addresses, every request a closed case or a
// stopped account lapses).
func AuditMany(ctx context.Context, idb bun.IDB, es []AuditEntry) error {
	for chunk := range slices.Chunk(es, auditChunk) {
		evs := make([]db.AuditEvent, len(chunk))
		withOrg := false
		for i, e := range chunk {
			evs[i] = db.AuditEvent{UserID: e.UserID, ActorID: e.ActorID, Kind: e.Kind, Detail: e.Detail, IP: e.IP, CreatedAt: e.Now.UTC(), OrgID: e.OrgID}
			withOrg = withOrg || e.OrgID != nil
		}
		q := idb.NewInsert().Model(&evs)
		if !withOrg {
			// As auditInsert: also writes to a schema before migration 0019.
			q = q.ExcludeColumn("org_id")
		}
		if _, err := q.Exec(ctx); err != nil {
			return fmt.Errorf("audit %s: %w", chunk[0].Kind, err)
		}
	}
	return nil
}
