package auth

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/db"
	"dialoog/vault"
)

// FactorGrantTTL is how long the session of a recovery-code login may set
// up a new second factor.
const FactorGrantTTL = 15 * time.Minute

// requireEnrol refuses a factor setup to a session that may not do one:
// only during the first visit, or with a recovery code's live grant.
func requireEnrol(cur *Current) error {
	if !cur.MayEnrolFactor {
		return apperr.New(apperr.Conflict, "stage.wrong")
	}
	return nil
}

// enrolStillAllowed checks, in the transaction that stores a new factor,
// that the session is still live and, for an account past its first
// visit, that its grant has not run out meanwhile. During the first visit
// it takes the user's row lock and checks that the second-factor step is
// still next (stillAt): an app linked in one tab while "Overslaan" ended
// the step in another is refused, instead of both going through.
func (a *Accounts) enrolStillAllowed(ctx context.Context, tx bun.Tx, cur *Current) error {
	if err := requireEnrol(cur); err != nil {
		return err
	}
	// Only a setup that the first visit's step allows, not one under a
	// recovery code's grant: a person who left before the profile and
	// then lost their phone is past that step, and the grant is their way
	// to a new factor, as after the first visit.
	if !onboardedUser(cur.row()) && !a.Now().Before(cur.Session.FactorGrantUntil) {
		if err := a.stillAt(ctx, tx, cur.User.ID, StageSecondFactor); err != nil {
			return err
		}
	}
	q := tx.NewSelect().TableExpr("sessions AS s").Join("JOIN users AS u ON u.id = s.user_id").
		Where("s.id = ? AND s.ended_at IS NULL", cur.Session.ID).
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("s.factor_grant_until > ?", a.Now().UTC()).
				WhereOr("u.profile_completed_at IS NULL AND u.status <> ?", db.StatusActive)
		})
	ok, err := q.Exists(ctx)
	if err != nil {
		return fmt.Errorf("check factor grant: %w", err)
	}
	if !ok {
		return apperr.New(apperr.Conflict, "stage.wrong")
	}
	return nil
}

// factorAdded does what follows a verified new factor, in its
// transaction: the other sessions of the user end, the change is audited
// and, after the first visit, the person is told by mail. It returns the
// ended sessions.
func (a *Accounts) factorAdded(ctx context.Context, tx bun.Tx, cur *Current, detail, ip string, now time.Time) ([]int64, error) {
	return a.securityChange(ctx, tx, cur, "factor.added", SecurityFactorAdded, detail, ip, now)
}

// securityChange does what follows every change to the security of cur's
// account (a password, a factor, the recovery codes), in its transaction:
// every other session of the user ends, the change is audited as kind
// and, after the first visit, the person is told by mail (event). It
// returns the ended sessions, for afterFactorAdded.
func (a *Accounts) securityChange(ctx context.Context, tx bun.Tx, cur *Current, kind string, event SecurityEvent, detail, ip string, now time.Time) ([]int64, error) {
	ended, err := a.Sessions.EndOthers(ctx, tx, cur.User.ID, cur.Session.ID)
	if err != nil {
		return nil, err
	}
	if err := Audit(ctx, tx, AuditEntry{UserID: &cur.User.ID, Kind: kind, Detail: detail, IP: ip, Now: now}); err != nil {
		return nil, err
	}
	// The first factors of the first visit are no news to the person.
	if onboardedUser(cur.row()) {
		if err := a.queueSecurityMail(ctx, tx, cur.row(), event, now); err != nil {
			return nil, err
		}
	}
	return ended, nil
}

// onboardedUser is stagedUser.onboarded for a loaded user.
func onboardedUser(u *db.User) bool {
	return !u.ProfileCompletedAt.IsZero() || u.Status == db.StatusActive
}

// afterFactorAdded runs after the commit of a new factor, and of every
// other securityChange: the ended sessions' sockets close on every
// instance and the mail goes out.
func (a *Accounts) afterFactorAdded(ctx context.Context, ended []int64) {
	a.sessionsEnded(ctx, ended)
	a.queued()
}

func (a *Accounts) sessionsEnded(ctx context.Context, ids []int64) {
	if len(ids) > 0 && a.SessionsEnded != nil {
		a.SessionsEnded(ctx, ids)
	}
}

// sessionRenewed runs after the commit of a change that gave the signed-in
// session a new id (Sessions.Rotate): see SessionRenewed.
func (a *Accounts) sessionRenewed(ctx context.Context, id int64) {
	if a.SessionRenewed != nil {
		a.SessionRenewed(ctx, id)
	}
}

// RecoveryCodesLeft counts the user's unused recovery codes.
func (a *Accounts) RecoveryCodesLeft(ctx context.Context, cur *Current) (int, error) {
	n, err := a.DB.NewSelect().Model((*db.RecoveryCode)(nil)).Where("user_id = ? AND used_at IS NULL", cur.User.ID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count recovery codes: %w", err)
	}
	return int(n), nil
}

// Recovery codes are stored as a MAC, under the server's key, of the
// SHA-256 of the normalised code: a database dump alone cannot be searched
// for the 50-bit codes, and the codes stored as a plain SHA-256 before
// (migration 0014) convert without knowing them.
func recoveryMAC(v *vault.Vault, sha []byte) []byte {
	return v.MAC(append([]byte("recovery|"), sha...))
}

func recoverySHA(code string) []byte {
	sum := sha256.Sum256([]byte(normalizeRecovery(code)))
	return sum[:]
}

// useRecoveryCode marks code as used, once: the conditions make two
// concurrent uses of one code fail. A code not yet converted from a plain
// SHA-256 still counts.
func (a *Accounts) useRecoveryCode(ctx context.Context, tx bun.Tx, userID int64, code string, now time.Time) error {
	sha := recoverySHA(code)
	res, err := tx.NewUpdate().Model((*db.RecoveryCode)(nil)).Set("used_at = ?", now).
		Where("user_id = ? AND used_at IS NULL", userID).
		WhereGroup(" AND ", func(q *bun.UpdateQuery) *bun.UpdateQuery {
			return q.Where("keyed = ? AND code_hash = ?", true, recoveryMAC(a.Vault, sha)).
				WhereOr("keyed = ? AND code_hash = ?", false, sha)
		}).Exec(ctx)
	if err != nil {
		return fmt.Errorf("use recovery code: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errWrongCode
	}
	return nil
}

// UpgradeRecoveryCodes converts the recovery codes stored as a plain
// SHA-256 (before migration 0014) into MACs under v's key; the server runs
// it at start, after the migrations. It returns how many it converted.
func UpgradeRecoveryCodes(ctx context.Context, d *db.DB, v *vault.Vault) (int, error) {
	n := 0
	err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var rows []db.RecoveryCode
		if err := tx.NewSelect().Model(&rows).Column("id", "code_hash").Where("keyed = FALSE").Scan(ctx); err != nil {
			return fmt.Errorf("load plain recovery codes: %w", err)
		}
		for _, r := range rows {
			res, err := tx.NewUpdate().Model((*db.RecoveryCode)(nil)).Set("code_hash = ?", recoveryMAC(v, r.CodeHash)).Set("keyed = ?", true).
				Where("id = ? AND keyed = ?", r.ID, false).Exec(ctx)
			if err != nil {
				return fmt.Errorf("convert recovery code: %w", err)
			}
			if k, _ := res.RowsAffected(); k == 1 {
				n++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("upgrade recovery codes: %w", err)
	}
	return n, nil
}
