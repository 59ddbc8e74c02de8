package db

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// ErrKeyMismatch is CheckKey's answer when the database's data was sealed
// with another encryption key than the one given.
var ErrKeyMismatch = errors.New("the encryption key is not the one this database's data was sealed with")

// keyCheck is the one row of key_check (migration 0013).
type keyCheck struct {
	bun.BaseModel `bun:"table:key_check"`
	ID            int64 `bun:",pk"`
	KeyID         string
	CheckValue    []byte
	CreatedAt     time.Time
}

// HasKeyCheck reports whether the database holds the check value of an
// encryption key: some data was sealed with a key, and a new one would not
// open it.
func (d *DB) HasKeyCheck(ctx context.Context) (bool, error) {
	ok, err := d.NewSelect().Model((*keyCheck)(nil)).Where("id = 1").Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("read key check: %w", err)
	}
	return ok, nil
}

// CheckKey compares the check value of the encryption key in use (keyID
// and check, from vault.Vault.KeyCheck) with the one stored, and stores
// it when there is none yet: on the first start, and on the first start
// of a database from before the check, whose sealed data the caller has
// opened with the key first (holdsSealed in package main). It returns ErrKeyMismatch when they differ. Instances
// starting at once store one value; the others compare against it.
func (d *DB) CheckKey(ctx context.Context, keyID string, check []byte, now time.Time) error {
	return d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row := &keyCheck{ID: 1, KeyID: keyID, CheckValue: check, CreatedAt: now.UTC()}
		if _, err := tx.NewInsert().Model(row).On("CONFLICT (id) DO NOTHING").Exec(ctx); err != nil {
			return fmt.Errorf("store key check: %w", err)
		}
		var stored keyCheck
		if err := tx.NewSelect().Model(&stored).Where("id = 1").Scan(ctx); err != nil {
			return fmt.Errorf("read key check: %w", err)
		}
		if subtle.ConstantTimeCompare(stored.CheckValue, check) != 1 {
			return fmt.Errorf("%w (it was key %s, this is key %s)", ErrKeyMismatch, stored.KeyID, keyID)
		}
		return nil
	})
}
