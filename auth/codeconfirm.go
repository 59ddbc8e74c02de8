package auth

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"dialoog/db"
)

// AttemptCode counts an attempt at a code of the account and one from ip
// before the code is checked, under the same allowance as the codes of a
// login; it refuses the attempt (TooMany) when either is over it. Other
// packages that confirm a step with a code (signing) use it, so that their
// codes cannot be guessed around the login's limits.
func (a *Accounts) AttemptCode(ctx context.Context, userID int64, ip string) error {
	return a.attempt(ctx, userID, "code", ip)
}

// CodeSucceeded forgets the account's counted code attempts after a
// correct code.
func (a *Accounts) CodeSucceeded(ctx context.Context, userID int64) { a.succeeded(ctx, userID) }

// UseAppCodeTx checks a code of the user's verified authenticator app and
// uses it in tx: a code works once (its time step is stored), here as at a
// login. A wrong or replayed code is a field error on "code".
func (a *Accounts) UseAppCodeTx(ctx context.Context, tx bun.Tx, userID int64, code string) error {
	f, step, err := a.checkTOTP(ctx, tx, userID, code)
	if err != nil {
		return err
	}
	res, err := tx.NewUpdate().Model((*db.SecondFactor)(nil)).Set("totp_last_step = ?", step).Set("last_used_at = ?", a.Now().UTC()).
		Where("id = ? AND totp_last_step < ?", f.ID, step).Exec(ctx)
	if err != nil {
		return fmt.Errorf("mark app used: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errWrongCode
	}
	return nil
}
