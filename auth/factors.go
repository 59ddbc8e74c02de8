package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/db"
)

// "Tweede stap beheren": after the first visit a person sees their second
// factors and adds, replaces and removes them, and replaces their recovery
// codes. Every change needs a "confirm it is you" of the last ConfirmTTL
// in the session (Confirm); adding a factor (an SMS number, a new one
// included, or an app) also works without one while a recovery code's
// grant lasts, since that login just proved the person, and replacing a
// lost factor is what the grant is for. Removing a factor and new
// recovery codes always need the confirmation: a recovery code is not
// enough to take away what the person still has. Every change ends the
// user's other sessions (their sockets close on every instance), is
// audited and mailed (securityChange).

// FactorInfo is one of the person's second factors as "Tweede stap
// beheren" shows it.
type FactorInfo struct {
	ID    int64
	Kind  string // db.FactorSMS, db.FactorTOTP or FactorPasskey
	Phone string // masked, for SMS
	Name  string // for a passkey
	Added time.Time
	// LastUsed is the last login (or confirmation) with it; its setup
	// counts as a use.
	LastUsed time.Time
}

// Factors lists the verified factors of cur's user, SMS first, then the
// app, then the passkeys (ID is then the passkey's).
func (a *Accounts) Factors(ctx context.Context, cur *Current) ([]FactorInfo, error) {
	var rows []db.SecondFactor
	if err := a.DB.NewSelect().Model(&rows).Where("user_id = ? AND verified_at IS NOT NULL", cur.User.ID).
		OrderExpr("kind ASC, id ASC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list factors: %w", err)
	}
	out := make([]FactorInfo, len(rows))
	for i, f := range rows {
		out[i] = FactorInfo{ID: f.ID, Kind: f.Kind, Phone: MaskPhone(f.Phone), Added: f.VerifiedAt.Time, LastUsed: f.LastUsedAt.Time}
	}
	keys, err := passkeyInfos(ctx, a.DB, cur.User.ID)
	if err != nil {
		return nil, err
	}
	return append(out, keys...), nil
}

// errConfirmFirst refuses a change that needs a recent "confirm it is
// you".
func errConfirmFirst() error { return apperr.New(apperr.Forbidden, "confirm.required") }

// MayChangeFactors reports whether cur may change anything of "Tweede stap
// beheren" now; MayAddFactor whether it may add or replace a factor (also
// under a recovery code's grant).
func (a *Accounts) MayChangeFactors(cur *Current) bool { return a.requireManage(cur, false) == nil }

// MayAddFactor: see MayChangeFactors.
func (a *Accounts) MayAddFactor(cur *Current) bool { return a.requireManage(cur, true) == nil }

// requireManage refuses a change of "Tweede stap beheren" to a session that
// has not finished its login and first visit, or has not confirmed it is
// the user in the last ConfirmTTL; with grantOK, a live recovery grant
// does instead of the confirmation.
func (a *Accounts) requireManage(cur *Current, grantOK bool) error {
	if cur.NeedsSecondFactor || cur.Stage != StageDone {
		return apperr.New(apperr.Conflict, "stage.wrong")
	}
	if a.RecentlyConfirmed(cur) || (grantOK && cur.MayEnrolFactor) {
		return nil
	}
	return errConfirmFirst()
}

// manageStillAllowed is requireManage again in the transaction of the
// change, against the stored session: still live, and confirmed (or
// granted) recently enough now.
func (a *Accounts) manageStillAllowed(ctx context.Context, tx bun.Tx, cur *Current, grantOK bool) error {
	if err := a.requireManage(cur, grantOK); err != nil {
		return err
	}
	now := a.Now().UTC()
	q := tx.NewSelect().Model((*db.Session)(nil)).
		Where("id = ? AND user_id = ? AND ended_at IS NULL", cur.Session.ID, cur.User.ID).
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			q = q.Where("confirmed_at > ?", now.Add(-ConfirmTTL))
			if grantOK {
				q = q.WhereOr("factor_grant_until > ?", now)
			}
			return q
		})
	ok, err := q.Exists(ctx)
	if err != nil {
		return fmt.Errorf("check confirmation: %w", err)
	}
	if !ok {
		return errConfirmFirst()
	}
	return nil
}

func (a *Accounts) addGuard(ctx context.Context, tx bun.Tx, cur *Current) error {
	return a.manageStillAllowed(ctx, tx, cur, true)
}

// SendFactorSMS texts a code to a new number for the SMS factor (a first
// one, or one replacing the current number, which keeps working until the
// new one is verified), with the limits of the first visit.
func (a *Accounts) SendFactorSMS(ctx context.Context, cur *Current, phoneInput, ip string) (SMSState, error) {
	if err := a.requireManage(cur, true); err != nil {
		return SMSState{}, err
	}
	phone, err := NormalizeMobile(phoneInput)
	if err != nil {
		return SMSState{}, err
	}
	if err := a.sendCode(ctx, cur.row(), PurposeSMSSetup, phone, ip, false); err != nil {
		return SMSState{}, err
	}
	return a.SMSSetupState(ctx, cur.User.ID)
}

// ResendFactorSMS is "Geen SMS ontvangen" for SendFactorSMS.
func (a *Accounts) ResendFactorSMS(ctx context.Context, cur *Current, ip string) (SMSState, error) {
	if err := a.requireManage(cur, true); err != nil {
		return SMSState{}, err
	}
	c, err := a.pendingCode(ctx, a.DB, cur.User.ID, PurposeSMSSetup)
	if err != nil {
		return SMSState{}, err
	}
	if c == nil {
		return SMSState{}, apperr.Field("phone", "phone.required")
	}
	if err := a.sendCode(ctx, cur.row(), PurposeSMSSetup, c.Target, ip, true); err != nil {
		return SMSState{}, err
	}
	return a.SMSSetupState(ctx, cur.User.ID)
}

// CancelFactorSMS drops a pending code of SendFactorSMS, so that another
// number can be typed; the stored number stays.
func (a *Accounts) CancelFactorSMS(ctx context.Context, cur *Current) error {
	if cur.NeedsSecondFactor || cur.Stage != StageDone {
		return apperr.New(apperr.Conflict, "stage.wrong")
	}
	_, err := a.DB.NewUpdate().Model((*db.OneTimeCode)(nil)).Set("used_at = ?", a.Now().UTC()).
		Where("user_id = ? AND purpose = ? AND used_at IS NULL", cur.User.ID, PurposeSMSSetup).Exec(ctx)
	if err != nil {
		return fmt.Errorf("cancel sms setup: %w", err)
	}
	return nil
}

// VerifyFactorSMS checks the code sent by SendFactorSMS and makes its
// number the SMS factor; only then is an older number dropped (the change
// is audited and mailed as a new phone number). It returns the session's
// new token.
func (a *Accounts) VerifyFactorSMS(ctx context.Context, cur *Current, code, ip string) (string, error) {
	if err := a.requireManage(cur, true); err != nil {
		return "", err
	}
	return a.verifySMS(ctx, cur, code, ip, a.addGuard)
}

// FactorTOTPSetup returns the secret of an app being added (the same one
// on a reload until it is verified).
func (a *Accounts) FactorTOTPSetup(ctx context.Context, cur *Current, issuer string) (TOTPKey, error) {
	if err := a.requireManage(cur, true); err != nil {
		return TOTPKey{}, err
	}
	return a.totpSetup(ctx, cur, issuer)
}

// VerifyFactorTOTP checks a code of the app being added and makes it the
// user's app; an older app stops working only now. It returns the
// session's new token.
func (a *Accounts) VerifyFactorTOTP(ctx context.Context, cur *Current, code, ip string) (string, error) {
	if err := a.requireManage(cur, true); err != nil {
		return "", err
	}
	return a.verifyTOTP(ctx, cur, code, ip, a.addGuard)
}

// RemoveFactor removes one of cur's factors, never the last one (apperr
// Conflict "factor.last"). Another person's factor or an unknown id is
// NotFound.
func (a *Accounts) RemoveFactor(ctx context.Context, cur *Current, factorID int64, ip string) error {
	if err := a.requireManage(cur, false); err != nil {
		return err
	}
	var ended []int64
	err := a.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := a.manageStillAllowed(ctx, tx, cur, false); err != nil {
			return err
		}
		now := a.Now().UTC()
		// The user's row is locked first, so that two removals at once
		// count the factors one after the other and cannot both leave
		// the other one as "not the last".
		if err := lockUser(ctx, tx, cur.User.ID, now); err != nil {
			return err
		}
		var factors []db.SecondFactor
		if err := tx.NewSelect().Model(&factors).Where("user_id = ? AND verified_at IS NOT NULL", cur.User.ID).Scan(ctx); err != nil {
			return fmt.Errorf("load factors: %w", err)
		}
		var f *db.SecondFactor
		for i := range factors {
			if factors[i].ID == factorID {
				f = &factors[i]
			}
		}
		if f == nil {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		// Passkeys count as factors too (RemovePasskey).
		keys, err := tx.NewSelect().Model((*db.Passkey)(nil)).Where("user_id = ?", cur.User.ID).Count(ctx)
		if err != nil {
			return fmt.Errorf("count passkeys: %w", err)
		}
		if int64(len(factors))+keys < 2 {
			return apperr.New(apperr.Conflict, "factor.last")
		}
		if _, err := tx.NewDelete().Model((*db.SecondFactor)(nil)).Where("id = ?", f.ID).Exec(ctx); err != nil {
			return fmt.Errorf("remove factor: %w", err)
		}
		detail := f.Kind
		if f.Kind == db.FactorSMS {
			detail += " " + MaskPhone(f.Phone)
			if err := a.retireLoginCodes(ctx, tx, cur.User.ID, now); err != nil {
				return err
			}
		}
		ended, err = a.securityChange(ctx, tx, cur, "factor.removed", SecurityFactorRemoved, detail, ip, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("remove factor: %w", err)
	}
	a.afterFactorAdded(ctx, ended)
	return nil
}

// RegenerateRecoveryCodes replaces cur's recovery codes with new ones and
// returns them, to be shown once: the old ones stop working at once.
func (a *Accounts) RegenerateRecoveryCodes(ctx context.Context, cur *Current, ip string) ([]string, error) {
	if err := a.requireManage(cur, false); err != nil {
		return nil, err
	}
	var codes []string
	var ended []int64
	err := a.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := a.manageStillAllowed(ctx, tx, cur, false); err != nil {
			return err
		}
		now := a.Now().UTC()
		var err error
		if codes, err = a.replaceRecoveryCodes(ctx, tx, cur.User.ID, now); err != nil {
			return err
		}
		ended, err = a.securityChange(ctx, tx, cur, "recovery.regenerated", SecurityRecoveryRegenerated, "", ip, now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("regenerate recovery codes: %w", err)
	}
	a.afterFactorAdded(ctx, ended)
	return codes, nil
}

// retireLoginCodes makes the user's pending login codes unusable (their
// number was removed or replaced).
func (a *Accounts) retireLoginCodes(ctx context.Context, tx bun.Tx, userID int64, now time.Time) error {
	if _, err := tx.NewUpdate().Model((*db.OneTimeCode)(nil)).Set("used_at = ?", now).
		Where("user_id = ? AND purpose = ? AND used_at IS NULL", userID, PurposeSMSLogin).Exec(ctx); err != nil {
		return fmt.Errorf("retire login codes: %w", err)
	}
	return nil
}

// lockUser takes the write lock of the user's row for the rest of the
// transaction (SQLite's transactions take the database's at their start).
func lockUser(ctx context.Context, tx bun.Tx, userID int64, now time.Time) error {
	if _, err := tx.NewUpdate().Model((*db.User)(nil)).Set("updated_at = ?", now).Where("id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("lock user: %w", err)
	}
	return nil
}
