package signing

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/db"
)

// Request statuses.
const (
	StatusOpen     = db.RequestOpen
	StatusAgreed   = db.RequestAgreed // every signer agreed; the sealed PDF is not added yet
	StatusSealed   = "sealed"
	StatusDeclined = "declined"
	StatusExpired  = "expired"
	// StatusLapsed: a signer it waited for stopped with Dialoog (Leave)
	// or lost access to its conversation (LeaveTeam), so it can never be
	// completed.
	StatusLapsed = "lapsed"
)

// Signer statuses.
const (
	SignerWaiting  = "waiting"
	SignerAgreed   = "agreed"
	SignerDeclined = "declined"
	SignerExpired  = "expired"
	// SignerLeft: stopped with Dialoog before deciding; SignerRemoved:
	// left the team through which they took part in the conversation
	// before deciding; SignerLapsed: still waiting when the request lapsed
	// because of either.
	SignerLeft    = "left"
	SignerRemoved = "removed"
	SignerLapsed  = "lapsed"
)

// requestRow is a signing request (migration 0029).
type requestRow struct {
	bun.BaseModel   `bun:"table:signing_requests"`
	ID              int64 `bun:",pk,autoincrement"`
	ThreadID        int64 `bun:",notnull"`
	OrgID           int64 `bun:",notnull"`
	MessageID       *int64
	AttachmentID    *int64
	RequestedBy     *int64
	RequesterName   string `bun:",notnull"`
	NameSealed      []byte `bun:",notnull"`
	SHA256          string `bun:"sha256,notnull"`
	Pages           int    `bun:",notnull"`
	InOrder         bool   `bun:",notnull"`
	Deadline        bun.NullTime
	Status          string `bun:",notnull"`
	CreatedAt       time.Time
	UpdatedAt       time.Time
	RemindedAt      bun.NullTime
	ClosedAt        bun.NullTime
	SealedMessageID *int64
}

// signerRow is one signer of a request.
type signerRow struct {
	bun.BaseModel  `bun:"table:signing_signers"`
	ID             int64 `bun:",pk,autoincrement"`
	RequestID      int64 `bun:",notnull"`
	UserID         *int64
	Position       int    `bun:",notnull"`
	Status         string `bun:",notnull"`
	DecidedAt      bun.NullTime
	ReasonSealed   []byte
	EvidenceSealed []byte
}

var errNotFound = apperr.New(apperr.NotFound, "error.not_found")

// pastDeadline reports whether r is open with a deadline that has passed
// at now: the request ends at the end of its last day in Dutch time
// (ParseDeadline), whether or not RunDue has marked it expired yet.
func (r *requestRow) pastDeadline(now time.Time) bool {
	return r.Status == StatusOpen && !r.Deadline.IsZero() && !now.Before(r.Deadline.Time)
}

// lockRequest loads a request in tx and marks it changed, which on
// PostgreSQL holds the row until the commit: two signers agreeing at once
// are counted one after the other, so the last one sees the others'
// agreements. SQLite serialises writing transactions anyway. A request's
// row comes before its conversation's (Finish writes into the
// conversation after it): messaging's changes that lock conversations and
// then touch requests lock those requests first (see the lock order above
// messaging's threadToWrite).
func lockRequest(ctx context.Context, tx bun.Tx, id int64, now time.Time) (*requestRow, error) {
	if _, err := tx.NewUpdate().Model((*requestRow)(nil)).Set("updated_at = ?", now).Where("id = ?", id).Exec(ctx); err != nil {
		return nil, fmt.Errorf("lock signing request %d: %w", id, err)
	}
	var r requestRow
	err := tx.NewSelect().Model(&r).Where("id = ?", id).Scan(ctx)
	if db.ErrNoRows(err) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load signing request %d: %w", id, err)
	}
	return &r, nil
}

func loadRequest(ctx context.Context, idb bun.IDB, id int64) (*requestRow, error) {
	var r requestRow
	err := idb.NewSelect().Model(&r).Where("id = ?", id).Scan(ctx)
	if db.ErrNoRows(err) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load signing request %d: %w", id, err)
	}
	return &r, nil
}

func loadSigners(ctx context.Context, idb bun.IDB, requestIDs ...int64) ([]signerRow, error) {
	if len(requestIDs) == 0 {
		return nil, nil
	}
	var out []signerRow
	if err := idb.NewSelect().Model(&out).Where("request_id IN (?)", bun.In(requestIDs)).Order("request_id", "position").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load signers: %w", err)
	}
	return out, nil
}

// current is the signer whose turn it is in an ordered request: the first
// one still waiting; nil when none waits.
func current(signers []signerRow) *signerRow {
	for i := range signers {
		if signers[i].Status == SignerWaiting {
			return &signers[i]
		}
	}
	return nil
}
