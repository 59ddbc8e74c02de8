package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/db"
	"dialoog/notify"
)

// HelpdeskResetTTL is how long the link of a helpdesk reset works.
const HelpdeskResetTTL = 24 * time.Hour

// HelpdeskCodeTries is how many wrong tries a helpdesk reset takes before
// it stops working (the admin then starts a new one).
const HelpdeskCodeTries = 5

// SecurityHelpdeskReset: an admin's helpdesk reset was completed; the old
// factors and recovery codes are gone.
const SecurityHelpdeskReset SecurityEvent = "helpdesk_reset"

// HelpdeskMail renders the mail with the link of a helpdesk reset.
type HelpdeskMail interface {
	HelpdeskResetMail(lang, link string) (notify.Mail, error)
}

var errHelpdeskInvalid = apperr.New(apperr.NotFound, "helpdesk.invalid")

// errHelpdeskWrong is the one answer for a wrong password and a wrong
// code: which of the two was wrong is not told.
var errHelpdeskWrong = apperr.Field("code", "helpdesk.wrong")

// StartHelpdeskReset starts a reset for an active user of the
// organisation who lost every factor and their recovery codes: the person
// gets a mail with a link (HelpdeskResetTTL, single use) and the admin
// gets the returned code to give by phone (with the address the link went
// to); an earlier open reset of the person stops working. apperr Conflict for an account that has not
// finished its first visit (it gets a new sign-up link instead), for the
// admin's own account, and for an external user who also deals with
// another organisation (sharedAmong): the new factor would open that
// organisation's conversations too.
func (s *Admin) StartHelpdeskReset(ctx context.Context, cur *Current, userID int64, ip string) (code, email string, err error) {
	org, err := orgOf(cur)
	if err != nil {
		return "", "", err
	}
	if userID == cur.User.ID {
		return "", "", apperr.New(apperr.Conflict, "admin.reset.self")
	}
	if s.HelpdeskMail == nil {
		return "", "", errors.New("admin: helpdesk reset: no mail renderer")
	}
	code = newHelpdeskCode()
	err = s.Accounts.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.actorIn(ctx, tx, org, cur, userID); err != nil {
			return err
		}
		u, err := target(ctx, tx, org, userID)
		if err != nil {
			return err
		}
		if u.Status != db.StatusActive {
			return apperr.New(apperr.Conflict, "admin.reset.not_active")
		}
		now := s.Accounts.Now().UTC()
		if err := refuseShared(ctx, tx, org, u, now, "admin.reset.shared"); err != nil {
			return err
		}
		if err := revokeHelpdeskResets(ctx, tx, u.ID, now); err != nil {
			return err
		}
		token, hash := NewToken()
		r := &db.HelpdeskReset{UserID: u.ID, OrgID: org, StartedBy: &cur.User.ID, TokenHash: hash,
			CodeMAC: s.helpdeskMAC(code), CreatedAt: now, ExpiresAt: now.Add(HelpdeskResetTTL)}
		if _, err := tx.NewInsert().Model(r).Exec(ctx); err != nil {
			return fmt.Errorf("store helpdesk reset: %w", err)
		}
		m, err := s.HelpdeskMail.HelpdeskResetMail(u.Language, strings.TrimRight(s.Accounts.BaseURL, "/")+PathHelpdesk+token)
		if err != nil {
			return fmt.Errorf("render helpdesk mail: %w", err)
		}
		m.To, email = u.Email, u.Email
		if _, err := s.Accounts.Outbox.QueueMail(ctx, tx, m); err != nil {
			return err
		}
		return Audit(ctx, tx, AuditEntry{UserID: &u.ID, ActorID: &cur.User.ID, OrgID: &org, Kind: "admin.helpdesk_reset_started", IP: ip, Now: now})
	})
	if err != nil {
		return "", "", fmt.Errorf("admin: start helpdesk reset: %w", err)
	}
	s.Accounts.queued()
	return code[:4] + " " + code[4:], email, nil
}

// PathHelpdesk is where the link of a helpdesk reset points, followed by
// its token.
const PathHelpdesk = "/herstel/"

// newHelpdeskCode returns 8 random digits: read out by phone, tried at
// most HelpdeskCodeTries times, within a day, behind the mailed link.
func newHelpdeskCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(100_000_000))
	if err != nil {
		panic("auth: random: " + err.Error())
	}
	return fmt.Sprintf("%08d", n.Int64())
}

func (s *Admin) helpdeskMAC(code string) []byte {
	return s.Accounts.Vault.MAC([]byte("helpdesk|" + strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(code))))
}

func revokeHelpdeskResets(ctx context.Context, tx bun.Tx, userID int64, now time.Time) error {
	if _, err := tx.NewUpdate().Model((*db.HelpdeskReset)(nil)).Set("revoked_at = ?", now).
		Where("user_id = ? AND used_at IS NULL AND revoked_at IS NULL", userID).Exec(ctx); err != nil {
		return fmt.Errorf("revoke helpdesk resets: %w", err)
	}
	return nil
}

// helpdeskReset loads the open reset of token with its user; NotFound for
// an unknown, used, revoked, expired or used-up one, or a user no longer
// active.
func (s *Admin) helpdeskReset(ctx context.Context, idb bun.IDB, token string) (*db.HelpdeskReset, *db.User, error) {
	if !ValidToken(token) {
		return nil, nil, errHelpdeskInvalid
	}
	var r db.HelpdeskReset
	err := idb.NewSelect().Model(&r).Where("token_hash = ?", HashToken(token)).Scan(ctx)
	if db.ErrNoRows(err) {
		return nil, nil, errHelpdeskInvalid
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load helpdesk reset: %w", err)
	}
	if !r.UsedAt.IsZero() || !r.RevokedAt.IsZero() || !s.Accounts.Now().Before(r.ExpiresAt) || r.Attempts >= HelpdeskCodeTries {
		return nil, nil, errHelpdeskInvalid
	}
	var u db.User
	if err := idb.NewSelect().Model(&u).Where("id = ?", r.UserID).Scan(ctx); err != nil {
		return nil, nil, fmt.Errorf("load user: %w", err)
	}
	if u.Status != db.StatusActive {
		return nil, nil, errHelpdeskInvalid
	}
	return &r, &u, nil
}

// checkHelpdeskLink is helpdeskReset for a request from ip: refused once
// ip tried too many links that did not work, and counting each one that
// does not (as for password-reset links).
func (s *Admin) checkHelpdeskLink(ctx context.Context, token, ip string) (*db.HelpdeskReset, *db.User, error) {
	key := IPKey("badlink", ip)
	lim := s.Accounts.Limiter
	if wait, err := lim.Over(ctx, key, badLinksPerIP, badLinksIPWindow); err != nil {
		return nil, nil, err
	} else if wait > 0 {
		return nil, nil, tooMany("", wait)
	}
	r, u, err := s.helpdeskReset(ctx, s.Accounts.DB, token)
	if apperr.CodeOf(err) == apperr.NotFound {
		if _, _, lerr := lim.Allow(ctx, key, badLinksPerIP, badLinksIPWindow); lerr != nil {
			return nil, nil, lerr
		}
	}
	return r, u, err
}

// CheckHelpdeskReset reports the address and the language of the person
// a working reset link is for, without using it (mail scanners follow
// links).
func (s *Admin) CheckHelpdeskReset(ctx context.Context, token, ip string) (email, language string, err error) {
	_, u, err := s.checkHelpdeskLink(ctx, token, ip)
	if err != nil {
		return "", "", err
	}
	return u.Email, u.Language, nil
}

// CompleteHelpdeskReset uses a reset link with the person's password and
// the code the admin gave by phone. Each try counts against the reset
// (HelpdeskCodeTries) and the account's code throttle before anything is
// checked; a wrong password or code answers the same (apperr Invalid on
// "code"). When both are right the link is used up, the old factors and
// recovery codes are removed, every session of the person ends, and a new
// session starts that has passed the second step with a FactorGrantTTL
// grant to set up a factor (then new recovery codes); the person is told
// by security mail. It returns the new session's token.
func (s *Admin) CompleteHelpdeskReset(ctx context.Context, token, pw, code, ip, userAgent string) (string, error) {
	a := s.Accounts
	r, u, err := s.checkHelpdeskLink(ctx, token, ip)
	if err != nil {
		return "", err
	}
	if err := a.attempt(ctx, u.ID, "code", ip); err != nil {
		return "", err
	}
	// The try counts, outside any transaction, before the check.
	res, err := a.DB.NewUpdate().Model((*db.HelpdeskReset)(nil)).Set("attempts = attempts + 1").
		Where("id = ? AND attempts < ? AND used_at IS NULL AND revoked_at IS NULL", r.ID, HelpdeskCodeTries).Exec(ctx)
	if err != nil {
		return "", fmt.Errorf("helpdesk reset: count try: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return "", errHelpdeskInvalid
	}
	hash, err := storedPassword(ctx, a.DB, u.ID)
	if err != nil {
		return "", fmt.Errorf("helpdesk reset: %w", err)
	}
	a.checking("password")
	pwOK, err := VerifyPassword(ctx, hash, pw)
	if err != nil {
		return "", fmt.Errorf("helpdesk reset: %w", err)
	}
	codeOK := hmac.Equal(s.helpdeskMAC(code), r.CodeMAC)
	if !pwOK || !codeOK {
		a.failed(ctx, u.ID, "helpdesk", ip)
		return "", errHelpdeskWrong
	}
	var session string
	var ended []int64
	err = a.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		r, u, err := s.helpdeskReset(ctx, tx, token)
		if err != nil {
			return err
		}
		now := a.Now().UTC()
		res, err := tx.NewUpdate().Model((*db.HelpdeskReset)(nil)).Set("used_at = ?", now).
			Where("id = ? AND used_at IS NULL AND revoked_at IS NULL", r.ID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("use helpdesk reset: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errHelpdeskInvalid
		}
		if _, err := tx.NewDelete().Model((*db.SecondFactor)(nil)).Where("user_id = ?", u.ID).Exec(ctx); err != nil {
			return fmt.Errorf("remove lost factors: %w", err)
		}
		if _, err := tx.NewDelete().Model((*db.Passkey)(nil)).Where("user_id = ?", u.ID).Exec(ctx); err != nil {
			return fmt.Errorf("remove lost passkeys: %w", err)
		}
		if _, err := tx.NewDelete().Model((*db.RecoveryCode)(nil)).Where("user_id = ?", u.ID).Exec(ctx); err != nil {
			return fmt.Errorf("remove lost recovery codes: %w", err)
		}
		if _, err := tx.NewUpdate().Model((*db.User)(nil)).Set("recovery_confirmed_at = NULL").Set("last_login_at = ?", now).
			Set("updated_at = ?", now).Where("id = ?", u.ID).Exec(ctx); err != nil {
			return fmt.Errorf("reset recovery codes: %w", err)
		}
		if ended, err = a.Sessions.EndOthers(ctx, tx, u.ID, 0); err != nil {
			return err
		}
		if session, err = a.Sessions.Create(ctx, tx, u.ID, ip, userAgent); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model((*db.Session)(nil)).Set("second_factor_at = ?", now).
			Set("factor_grant_until = ?", now.Add(FactorGrantTTL)).
			Where("user_id = ? AND token_hash = ?", u.ID, HashToken(session)).Exec(ctx); err != nil {
			return fmt.Errorf("grant factor setup: %w", err)
		}
		if err := Audit(ctx, tx, AuditEntry{UserID: &u.ID, ActorID: r.StartedBy, OrgID: &r.OrgID, Kind: "helpdesk.reset_completed", IP: ip, Now: now}); err != nil {
			return err
		}
		return a.queueSecurityMail(ctx, tx, u, SecurityHelpdeskReset, now)
	})
	if err != nil {
		return "", fmt.Errorf("helpdesk reset: %w", err)
	}
	a.succeeded(ctx, u.ID)
	a.sessionsEnded(ctx, ended)
	a.queued()
	return session, nil
}
