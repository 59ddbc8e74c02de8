package auth

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/vault"
)

// OpenNewestTOTPSecret opens the newest linked authenticator app's sealed
// secret with v; found is false when there is none. A start on a database
// that has no stored key check yet (one from before migration 0013) asks
// it before the key in use is stored as the one the data was sealed with
// (db.CheckKey). Only linked apps: one being linked is sealed for its
// session (totpSetupAD), and was sealed under totpAD by every version.
func OpenNewestTOTPSecret(ctx context.Context, idb bun.IDB, v *vault.Vault) (found bool, err error) {
	var f db.SecondFactor
	err = idb.NewSelect().Model(&f).Column("id", "user_id", "totp_secret").
		Where("kind = ? AND verified_at IS NOT NULL AND totp_secret IS NOT NULL", db.FactorTOTP).
		OrderExpr("id DESC").Limit(1).Scan(ctx)
	if db.ErrNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load a sealed TOTP secret: %w", err)
	}
	if _, err := v.Open(f.TOTPSecret, totpAD(f.UserID)); err != nil {
		return true, fmt.Errorf("open the TOTP secret of factor %d: %w", f.ID, err)
	}
	return true, nil
}
