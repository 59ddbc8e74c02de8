package messaging

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/vault"
)

// OpenNewestBody opens the newest sealed message body with v; found is
// false when no message holds one. A start on a database that has no
// stored key check yet (one from before migration 0013) asks it before
// the key in use is stored as the one the data was sealed with
// (db.CheckKey): a wrong key must stop the start, not be written down as
// the right one.
func OpenNewestBody(ctx context.Context, idb bun.IDB, v *vault.Vault) (found bool, err error) {
	var m db.Message
	err = idb.NewSelect().Model(&m).Column("id", "thread_id", "body").Where("body IS NOT NULL").
		OrderExpr("id DESC").Limit(1).Scan(ctx)
	if db.ErrNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load a sealed message body: %w", err)
	}
	if _, err := v.Open(m.Body, bodyAD(m.ThreadID)); err != nil {
		return true, fmt.Errorf("open the body of message %d: %w", m.ID, err)
	}
	return true, nil
}
