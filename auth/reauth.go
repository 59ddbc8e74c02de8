package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/db"
)

// ConfirmTTL is how long a "confirm it is you" counts in its session.
const ConfirmTTL = 5 * time.Minute

// Limits on "confirm it is you": per IP, and per account with the
// allowance of a login (Limiter.Attempt).
const (
	reauthPerIP    = 20
	reauthIPWindow = time.Hour
)

func reauthKey(userID int64) string { return "reauth:user:" + strconv.FormatInt(userID, 10) }

// What "confirm it is you" accepts.
const (
	ConfirmPassword = "password"
	ConfirmTOTP     = db.FactorTOTP
	// ConfirmSSO is a fresh login at the organisation's provider
	// (SSO.BeginReauth, SSO.CompleteReauth).
	ConfirmSSO = "sso"
)

// Confirm is "confirm it is you" before a sensitive step: the signed-in
// user's password, or a current code of their app. It is throttled per IP
// and per account with the allowance of a login (the attempt is counted
// before the secret is checked, and forgotten after a success), audited
// either way, and on success recorded on the session, where it
// counts for ConfirmTTL (see RecentlyConfirmed). A wrong secret is an
// apperr Invalid error at field "password" or "code"; a wait is a
// *WaitError.
func (a *Accounts) Confirm(ctx context.Context, cur *Current, kind, secret, ip string) error {
	field := "password"
	if kind == ConfirmTOTP {
		field = "code"
	}
	return a.confirm(ctx, cur, kind, secret, field, ip)
}

// confirm is Confirm with the form field its errors belong to (the
// password change checks the current password at "current_password").
func (a *Accounts) confirm(ctx context.Context, cur *Current, kind, secret, field, ip string) error {
	if cur.NeedsSecondFactor || cur.Stage != StageDone {
		return apperr.New(apperr.Conflict, "stage.wrong")
	}
	if kind != ConfirmPassword && kind != ConfirmTOTP {
		return apperr.New(apperr.Invalid, "code.none")
	}
	if secret == "" {
		// Nothing typed is no wrong guess: ask for it, count nothing.
		if kind == ConfirmTOTP {
			return apperr.Field(field, "code.required")
		}
		return apperr.Field(field, "confirm.password_required")
	}
	if len(secret) > 1024 {
		return apperr.Field(field, wrongSecretKey(kind))
	}
	if err := a.reauthAttempt(ctx, cur, kind, field, ip); err != nil {
		return err
	}
	key := reauthKey(cur.User.ID)
	err := a.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		a.checking(kind)
		ok, err := a.checkConfirmSecret(ctx, tx, cur, kind, secret)
		if err != nil {
			return err
		}
		if !ok {
			return errWrongCode
		}
		return a.recordConfirmation(ctx, tx, cur, kind, ip)
	})
	switch {
	case errors.Is(err, errWrongCode) || errors.Is(err, errReplay):
		a.audit(ctx, cur.User.ID, "reauth.failed", kind, ip)
		return apperr.Field(field, wrongSecretKey(kind))
	case err != nil:
		return fmt.Errorf("confirm it is you: %w", err)
	}
	if err := a.Limiter.Reset(ctx, key); err != nil {
		return err
	}
	return nil
}

// reauthAttempt throttles one attempt at "confirm it is you" by cur's
// user (method is how, for the audit; field carries the wait): per IP,
// and per account with the allowance of a login. The attempt is counted
// before the secret is checked, in one statement with the decision, so
// that of many parallel attempts at most the allowance is checked; a
// success forgets the count (Limiter.Reset of reauthKey).
func (a *Accounts) reauthAttempt(ctx context.Context, cur *Current, method, field, ip string) error {
	if ok, wait, err := a.Limiter.Allow(ctx, IPKey("reauth", ip), reauthPerIP, reauthIPWindow); err != nil {
		return err
	} else if !ok {
		a.audit(ctx, cur.User.ID, "reauth.blocked", method, ip)
		return tooMany(field, wait)
	}
	if wait, err := a.Limiter.Attempt(ctx, reauthKey(cur.User.ID)); err != nil {
		return err
	} else if wait > 0 {
		a.audit(ctx, cur.User.ID, "reauth.blocked", method, ip)
		return tooMany(field, wait)
	}
	return nil
}

// recordConfirmation is the one rule of a passed "confirm it is you",
// whichever way it was passed (method: password, totp, sso): in tx, cur's
// live session is confirmed now (RecentlyConfirmed) and "reauth.ok" is
// audited with the method.
func (a *Accounts) recordConfirmation(ctx context.Context, tx bun.Tx, cur *Current, method, ip string) error {
	now := a.Now().UTC()
	res, err := tx.NewUpdate().Model((*db.Session)(nil)).Set("confirmed_at = ?", now).
		Where("id = ? AND ended_at IS NULL", cur.Session.ID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("record confirmation: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return apperr.New(apperr.Unauthorized, "session.expired")
	}
	cur.Session.ConfirmedAt = now
	return Audit(ctx, tx, AuditEntry{UserID: &cur.User.ID, Kind: "reauth.ok", Detail: method, IP: ip, Now: now})
}

// wrongSecretKey is the message of a wrong secret of kind.
func wrongSecretKey(kind string) string {
	if kind == ConfirmTOTP {
		return "confirm.wrong_code"
	}
	return "confirm.wrong_password"
}

// checkConfirmSecret checks the password or an app code of cur's user; an
// app code is used up like one at login.
func (a *Accounts) checkConfirmSecret(ctx context.Context, tx bun.Tx, cur *Current, kind, secret string) (bool, error) {
	if kind == ConfirmPassword {
		hash, err := storedPassword(ctx, tx, cur.User.ID)
		if err != nil {
			return false, err
		}
		if hash == "" {
			return false, nil
		}
		return VerifyPassword(ctx, hash, secret)
	}
	f, step, err := a.checkTOTP(ctx, tx, cur.User.ID, secret)
	if err != nil {
		if apperr.CodeOf(err) == apperr.Invalid { // no app, a wrong or a replayed code
			return false, nil
		}
		return false, err
	}
	res, err := tx.NewUpdate().Model((*db.SecondFactor)(nil)).Set("totp_last_step = ?", step).Set("last_used_at = ?", a.Now().UTC()).
		Where("id = ? AND totp_last_step < ?", f.ID, step).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("mark factor used: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// RecentlyConfirmed reports whether cur's session confirmed it is the
// user within the last ConfirmTTL.
func (a *Accounts) RecentlyConfirmed(cur *Current) bool {
	at := cur.Session.ConfirmedAt
	if at.IsZero() {
		return false
	}
	now := a.Now()
	return !now.Before(at) && now.Sub(at) < ConfirmTTL
}
