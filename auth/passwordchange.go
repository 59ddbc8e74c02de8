package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/db"
)

// ChangePassword is "Wachtwoord wijzigen" after the first visit. The
// current password is the re-authentication: it is checked like "confirm
// it is you" (throttled per IP and account, audited, and on success it
// counts as the session's confirmation). The new password follows the
// rules of the first visit. Every other session of the user ends (their
// sockets close on every instance), the change is audited and mailed, and
// this session gets a new token, which it returns.
//
// Mistakes are reported together as apperr.Fields at "current_password",
// "password" and "confirm"; a wait is a *WaitError.
func (a *Accounts) ChangePassword(ctx context.Context, cur *Current, currentPW, pw, confirm, ip string) (string, error) {
	if cur.NeedsSecondFactor || cur.Stage != StageDone {
		return "", apperr.New(apperr.Conflict, "stage.wrong")
	}
	if !cur.HasPassword {
		// Logged in through the organisation, whose password it is: a
		// Dialoog password beside it would outlive the organisation's
		// control of the account.
		return "", apperr.New(apperr.Conflict, "password_change.elsewhere")
	}
	var errs apperr.Fields
	if currentPW == "" {
		errs = append(errs, apperr.Field("current_password", "password_change.current_required"))
	}
	if err := RulesFor(cur.User).Check(pw); err != nil {
		if fe, ok := apperr.As(err); ok {
			errs = append(errs, fe)
		} else {
			return "", err
		}
	} else if pw != confirm {
		errs = append(errs, apperr.Field("confirm", "password.mismatch"))
	}
	if len(errs) > 0 {
		return "", errs
	}
	// The rules pass before the current password is tried, so that a
	// mistake in the new one costs no attempt.
	if err := a.confirm(ctx, cur, ConfirmPassword, currentPW, "current_password", ip); err != nil {
		return "", err
	}
	hash, err := HashPassword(ctx, pw)
	if err != nil {
		return "", err
	}
	var token string
	var ended []int64
	err = a.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := a.Now().UTC()
		res, err := tx.NewUpdate().Model((*db.User)(nil)).Set("password_hash = ?", hash).Set("password_changed_at = ?", now).
			Set("updated_at = ?", now).Where("id = ?", cur.User.ID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("store password: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.Unauthorized, "session.expired")
		}
		// A reset link mailed before would undo the change.
		if err := retireResetLinks(ctx, tx, cur.User.ID, now); err != nil {
			return err
		}
		if ended, err = a.securityChange(ctx, tx, cur, "password.changed", SecurityPasswordChanged, "", ip, now); err != nil {
			return err
		}
		token, err = a.Sessions.Rotate(ctx, tx, cur.Session.ID, true)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("change password: %w", err)
	}
	a.afterFactorAdded(ctx, ended)
	a.sessionRenewed(ctx, cur.Session.ID)
	return token, nil
}

// retireResetLinks makes the user's open password-reset links unusable.
func retireResetLinks(ctx context.Context, tx bun.Tx, userID int64, now time.Time) error {
	if _, err := tx.NewUpdate().Model((*db.OneTimeCode)(nil)).Set("used_at = ?", now).
		Where("user_id = ? AND purpose = ? AND used_at IS NULL", userID, PurposePasswordReset).Exec(ctx); err != nil {
		return fmt.Errorf("retire reset links: %w", err)
	}
	return nil
}
