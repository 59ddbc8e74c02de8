package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/db"
	"dialoog/notify"
)

// RecoveryCodeCount is how many recovery codes a user gets.
const RecoveryCodeCount = 10

// PasswordResetTTL is how long a password-reset link works.
const PasswordResetTTL = time.Hour

// errReplay is a TOTP code that was already used; the user sees it as wrong.
var errReplay = apperr.Field("code", "code.wrong")

func userKey(userID int64) string { return "secret:user:" + strconv.FormatInt(userID, 10) }

// checkBlocked refuses an attempt while the account's failure wait runs.
func (a *Accounts) checkBlocked(ctx context.Context, userID int64, field string) error {
	wait, err := a.Limiter.Blocked(ctx, userKey(userID))
	if err != nil {
		return err
	}
	if wait > 0 {
		return tooMany(field, wait)
	}
	return nil
}

// Per-IP limit on code checks (SMS, app, recovery; at login and during
// setup): generous enough for an office behind one address at nine in the
// morning.
const (
	codesPerIP    = 100
	codesIPWindow = 15 * time.Minute
)

// attempt counts an attempt at a code of the account, and one from ip,
// before the code is checked; it refuses the attempt when either is over
// its allowance.
func (a *Accounts) attempt(ctx context.Context, userID int64, field, ip string) error {
	if ok, wait, err := a.Limiter.Allow(ctx, IPKey("code", ip), codesPerIP, codesIPWindow); err != nil {
		return err
	} else if !ok {
		return tooMany(field, wait)
	}
	wait, err := a.Limiter.Attempt(ctx, userKey(userID))
	if err != nil {
		return err
	}
	if wait > 0 {
		return tooMany(field, wait)
	}
	return nil
}

// succeeded forgets the account's counted code attempts after a correct
// code.
func (a *Accounts) succeeded(ctx context.Context, userID int64) {
	if err := a.Limiter.Reset(ctx, userKey(userID)); err != nil {
		a.Log.ErrorContext(ctx, "reset code attempts", "err", err)
	}
}

// failed records the audit event of a wrong code; the attempt itself was
// counted before the check (attempt).
func (a *Accounts) failed(ctx context.Context, userID int64, factor, ip string) {
	a.audit(ctx, userID, "login.failed", factor, ip)
}

// audit records an event outside any transaction, so that it stays when
// the caller's transaction rolls back.
func (a *Accounts) audit(ctx context.Context, userID int64, kind, detail, ip string) {
	if err := Audit(ctx, a.DB, AuditEntry{UserID: &userID, Kind: kind, Detail: detail, IP: ip, Now: a.Now()}); err != nil {
		a.Log.ErrorContext(ctx, "audit", "kind", kind, "err", err)
	}
}

// NewRecoveryCodes replaces the user's recovery codes with ten new ones and
// returns them; only their hashes are stored, so they are shown once.
func (a *Accounts) NewRecoveryCodes(ctx context.Context, cur *Current) ([]string, error) {
	if err := requireStage(cur, StageRecovery); err != nil {
		return nil, err
	}
	var codes []string
	err := a.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := a.Now().UTC()
		if err := a.stillAtRecovery(ctx, tx, cur.User.ID, now); err != nil {
			return err
		}
		var err error
		codes, err = a.replaceRecoveryCodes(ctx, tx, cur.User.ID, now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("recovery codes: %w", err)
	}
	return codes, nil
}

// stillAtRecovery takes the user's row lock and checks, in tx, that the
// recovery codes are not confirmed yet: a view of the step (a reload, a
// second tab) and its confirmation in another tab then take turns, so
// that no view replaces the codes another tab has just confirmed, and
// no confirmation passes codes a view is replacing (on PostgreSQL both
// went through at the same moment).
func (a *Accounts) stillAtRecovery(ctx context.Context, tx bun.Tx, userID int64, now time.Time) error {
	if err := lockUser(ctx, tx, userID, now); err != nil {
		return err
	}
	open, err := tx.NewSelect().Model((*db.User)(nil)).Where("id = ? AND recovery_confirmed_at IS NULL", userID).Exists(ctx)
	if err != nil {
		return fmt.Errorf("check recovery step: %w", err)
	}
	if !open {
		return apperr.New(apperr.Conflict, "stage.wrong")
	}
	return nil
}

// replaceRecoveryCodes drops the user's recovery codes and stores
// RecoveryCodeCount new ones, in the caller's transaction, and returns
// them: only their MACs are kept.
func (a *Accounts) replaceRecoveryCodes(ctx context.Context, tx bun.Tx, userID int64, now time.Time) ([]string, error) {
	if _, err := tx.NewDelete().Model((*db.RecoveryCode)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
		return nil, fmt.Errorf("drop old recovery codes: %w", err)
	}
	codes := make([]string, RecoveryCodeCount)
	rows := make([]db.RecoveryCode, RecoveryCodeCount)
	for i := range codes {
		codes[i] = newRecoveryCode()
		rows[i] = db.RecoveryCode{UserID: userID, CodeHash: recoveryMAC(a.Vault, recoverySHA(codes[i])), Keyed: true, CreatedAt: now}
	}
	if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return nil, fmt.Errorf("store recovery codes: %w", err)
	}
	return codes, nil
}

// ConfirmRecoveryCodes records that the user stored the codes shown, the
// set the page carried back. Each view of the step makes a new set, so
// when another view (a second window, a reload) replaced the shown codes
// meanwhile, the confirmation is apperr Conflict "recovery.replaced": the
// person must not go on believing that ten dead codes are their way back.
func (a *Accounts) ConfirmRecoveryCodes(ctx context.Context, cur *Current, stored bool, shown []string, ip string) (string, error) {
	if err := requireStage(cur, StageRecovery); err != nil {
		return "", err
	}
	if !stored {
		return "", apperr.Field("stored", "recovery.must_confirm")
	}
	// advance's stillAt takes the row lock that stillAtRecovery takes for
	// NewRecoveryCodes, and checks recovery_confirmed_at with the stage.
	return a.advance(ctx, cur, "confirm recovery codes", StageRecovery, true, func(ctx context.Context, tx bun.Tx) error {
		n, err := tx.NewSelect().Model((*db.RecoveryCode)(nil)).Where("user_id = ? AND used_at IS NULL", cur.User.ID).Count(ctx)
		if err != nil {
			return fmt.Errorf("count recovery codes: %w", err)
		}
		if n == 0 {
			return apperr.New(apperr.Conflict, "stage.wrong")
		}
		if err := a.shownAreCurrent(ctx, tx, cur.User.ID, shown); err != nil {
			return err
		}
		now := a.Now().UTC()
		if _, err := tx.NewUpdate().Model((*db.User)(nil)).Set("recovery_confirmed_at = ?", now).Where("id = ?", cur.User.ID).Exec(ctx); err != nil {
			return fmt.Errorf("confirm recovery codes: %w", err)
		}
		return Audit(ctx, tx, AuditEntry{UserID: &cur.User.ID, Kind: "recovery.created", IP: ip, Now: now})
	})
}

// errRecoveryReplaced: the codes a page showed are no longer the user's.
var errRecoveryReplaced = apperr.New(apperr.Conflict, "recovery.replaced")

// shownAreCurrent checks, in tx, that shown are the user's whole current
// set of unused recovery codes; else errRecoveryReplaced.
func (a *Accounts) shownAreCurrent(ctx context.Context, tx bun.Tx, userID int64, shown []string) error {
	if len(shown) != RecoveryCodeCount {
		return errRecoveryReplaced
	}
	macs := make([][]byte, 0, len(shown))
	seen := map[string]bool{}
	for _, c := range shown {
		norm := normalizeRecovery(c)
		if norm == "" || seen[norm] {
			return errRecoveryReplaced
		}
		seen[norm] = true
		macs = append(macs, recoveryMAC(a.Vault, recoverySHA(norm)))
	}
	n, err := tx.NewSelect().Model((*db.RecoveryCode)(nil)).
		Where("user_id = ? AND used_at IS NULL AND keyed = ? AND code_hash IN (?)", userID, true, bun.In(macs)).Count(ctx)
	if err != nil {
		return fmt.Errorf("check shown recovery codes: %w", err)
	}
	if n != RecoveryCodeCount {
		return errRecoveryReplaced
	}
	return nil
}

// newRecoveryCode returns 50 random bits as "xxxxx-xxxxx".
func newRecoveryCode() string {
	b := make([]byte, 7)
	if _, err := rand.Read(b); err != nil {
		panic("auth: random: " + err.Error())
	}
	s := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))[:10]
	return s[:5] + "-" + s[5:]
}

func normalizeRecovery(s string) string {
	// Dashes and every kind of white space go, wherever they are: a code
	// pasted from a file may bring a tab or a line break along. Bytes that
	// are no UTF-8 go first, or the pieces around a space could join into
	// a character (a space again) that a second pass would remove.
	return strings.ToLower(strings.Join(strings.Fields(strings.ReplaceAll(strings.ToValidUTF8(s, ""), "-", " ")), ""))
}

// FactorOption is a second factor offered at login.
type FactorOption struct {
	ID    int64
	Kind  string // db.FactorSMS, db.FactorTOTP or FactorPasskey (one for all passkeys)
	Phone string // masked, for SMS
}

// LoginResult is the outcome of a correct mail address and password.
type LoginResult struct {
	Token   string
	Factors []FactorOption // last used first; empty when none is set up yet
}

// Login checks mail address and password from a browser without a device
// cookie; see LoginOnDevice.
func (a *Accounts) Login(ctx context.Context, email, pw, ip, userAgent string) (*LoginResult, error) {
	return a.LoginOnDevice(ctx, email, pw, "", ip, userAgent)
}

// LoginOnDevice checks mail address and password and starts a session that
// still needs the second factor. Every failure gives the same answer: an
// unknown address costs the time of a password check too, and attempts are
// counted per address, known or not, so that a wait does not reveal an
// account. The attempt is counted before the password is checked, so a
// burst gets no more guesses evaluated than the allowance.
//
// device is the browser's device cookie (DeviceCookie): when it holds a
// valid mark of a completed login of this account, the attempt counts in
// that device's own bucket, so a burst of failures from elsewhere does not
// lock the owner out of a browser they used before.
func (a *Accounts) LoginOnDevice(ctx context.Context, email, pw, device, ip, userAgent string) (*LoginResult, error) {
	// The address's account is looked up while the attempt from this IP
	// address is counted: two round trips at once.
	type allowed struct {
		ok   bool
		wait time.Duration
		err  error
	}
	ipAllowed := make(chan allowed, 1)
	go func() {
		var r allowed
		r.ok, r.wait, r.err = a.Limiter.Allow(ctx, IPKey("login", ip), 100, 15*time.Minute)
		ipAllowed <- r
	}()
	var withPassword userWithPassword
	email, emailErr := NormalizeEmail(email)
	var err error
	if emailErr == nil {
		err = a.DB.NewSelect().Model(&withPassword).Where("email = ?", email).Scan(ctx)
	}
	u := withPassword.User
	if r := <-ipAllowed; r.err != nil {
		return nil, r.err
	} else if !r.ok {
		return nil, tooMany("", r.wait)
	}
	fail := apperr.New(apperr.Unauthorized, "login.failed")
	if emailErr != nil {
		VerifyPassword(ctx, "", pw)
		return nil, fail
	}
	if err != nil && !db.ErrNoRows(err) {
		return nil, fmt.Errorf("login: load user: %w", err)
	}
	key := passwordKey(email)
	if id, ok := a.deviceOf(device, u.ID); ok {
		key = "login:device:" + id
	}
	if wait, err := a.Limiter.Attempt(ctx, key); err != nil {
		return nil, err
	} else if wait > 0 {
		return nil, tooMany("", wait)
	}
	// The factors the next step offers are read while the password is
	// checked: argon2id keeps one core busy for its whole time, the reads
	// wait for the database, and nobody sees them unless it matches.
	factors := make(chan factorsResult, 1)
	if u.ID != 0 {
		go func() {
			var r factorsResult
			if r.viaSSO, r.err = ssoRequired(ctx, a.DB, u.ID); r.err == nil && !r.viaSSO {
				r.opts, r.err = factorOptions(ctx, a.DB, u.ID)
			}
			factors <- r
		}()
	}
	a.checking("password")
	ok, err := VerifyPassword(ctx, withPassword.PasswordHash, pw)
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	if !ok || u.ID == 0 || u.Status == db.StatusDisabled {
		if u.ID != 0 {
			a.audit(ctx, u.ID, "login.failed", "password", ip)
		}
		return nil, fail
	}
	fr := <-factors
	if fr.err != nil {
		return nil, fmt.Errorf("login: %w", fr.err)
	}
	if fr.viaSSO {
		a.audit(ctx, u.ID, "login.use_sso", "password", ip)
		return nil, errUseSSO()
	}
	res := LoginResult{Factors: fr.opts}
	// Before the first factor, the invitation mail is what proves the
	// person; a password alone must not open the factor setup.
	if len(res.Factors) == 0 && u.Status == db.StatusInvited {
		return nil, fmt.Errorf("login: %w", apperr.New(apperr.Conflict, "login.finish_signup"))
	}
	// The session, its audit row and the end of the address's failures
	// are one transaction, in one round trip on PostgreSQL.
	token, session := a.Sessions.insert(a.DB, u.ID, ip, userAgent)
	err = a.DB.ExecAtomic(ctx, session,
		auditInsert(a.DB, AuditEntry{UserID: &u.ID, Kind: "login.password", IP: ip, Now: a.Now()}),
		a.Limiter.resetDelete(a.DB, key))
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	res.Token = token
	return &res, nil
}

type factorsResult struct {
	opts   []FactorOption
	viaSSO bool // the person logs in through their organisation (ssoRequired)
	err    error
}

// passwordKey counts password failures per address (hashed), for known and
// unknown addresses alike.
func passwordKey(email string) string {
	sum := sha256.Sum256([]byte(email))
	return "login:email:" + hex.EncodeToString(sum[:12])
}

func factorOptions(ctx context.Context, idb bun.IDB, userID int64) ([]FactorOption, error) {
	var factors []db.SecondFactor
	if err := idb.NewSelect().Model(&factors).Where("user_id = ? AND verified_at IS NOT NULL", userID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load factors: %w", err)
	}
	// The passkeys are one option, as recent as the one used last.
	var passkeyUsed []time.Time
	if err := idb.NewSelect().Model((*db.Passkey)(nil)).ColumnExpr("COALESCE(last_used_at, created_at)").
		Where("user_id = ?", userID).OrderExpr("1 DESC").Limit(1).Scan(ctx, &passkeyUsed); err != nil && !db.ErrNoRows(err) {
		return nil, fmt.Errorf("load passkeys: %w", err)
	}
	if len(passkeyUsed) == 1 {
		factors = append(factors, db.SecondFactor{Kind: FactorPasskey, LastUsedAt: bun.NullTime{Time: passkeyUsed[0]}})
	}
	sort.SliceStable(factors, func(i, j int) bool { return factors[i].LastUsedAt.After(factors[j].LastUsedAt.Time) })
	out := make([]FactorOption, 0, len(factors))
	for _, f := range factors {
		out = append(out, FactorOption{ID: f.ID, Kind: f.Kind, Phone: MaskPhone(f.Phone)})
	}
	return out, nil
}

// LoginFactors lists the verified factors of the session's user, last used
// first.
func (a *Accounts) LoginFactors(ctx context.Context, cur *Current) ([]FactorOption, error) {
	return factorOptions(ctx, a.DB, cur.User.ID)
}

// SendLoginSMS texts a login code to the user's SMS factor; only when the
// user asks for it.
func (a *Accounts) SendLoginSMS(ctx context.Context, cur *Current, ip string) (SMSState, error) {
	if !cur.NeedsSecondFactor {
		return SMSState{}, apperr.New(apperr.Conflict, "stage.wrong")
	}
	var f db.SecondFactor
	if err := a.DB.NewSelect().Model(&f).Where("user_id = ? AND kind = ? AND verified_at IS NOT NULL", cur.User.ID, db.FactorSMS).Limit(1).Scan(ctx); err != nil {
		if db.ErrNoRows(err) {
			return SMSState{}, apperr.New(apperr.NotFound, "error.not_found")
		}
		return SMSState{}, fmt.Errorf("load sms factor: %w", err)
	}
	if err := a.sendCode(ctx, cur.row(), PurposeSMSLogin, f.Phone, ip, false); err != nil {
		return SMSState{}, err
	}
	return a.smsState(ctx, cur.User.ID, PurposeSMSLogin)
}

// LoginSMSState reports whether a login code was sent and when another may be.
func (a *Accounts) LoginSMSState(ctx context.Context, userID int64) (SMSState, error) {
	return a.smsState(ctx, userID, PurposeSMSLogin)
}

// VerifyLoginFactor completes a login with an SMS code, an app token or a
// recovery code, from a browser without a device cookie; see
// VerifyLoginFactorOnDevice.
func (a *Accounts) VerifyLoginFactor(ctx context.Context, cur *Current, kind, code, ip string) (string, error) {
	return a.VerifyLoginFactorOnDevice(ctx, cur, kind, code, "", ip)
}

// VerifyLoginFactorOnDevice completes a login with an SMS code, an app
// token or a recovery code. A recovery code keeps the factors; it gives
// this session a FactorGrantTTL grant to set up a new one, and the person
// is mailed. device is the browser's device cookie: a login completed
// without a valid mark of this account is from a browser not seen before,
// and after the first visit the person is mailed about it (a recovery
// code's own mail already says that someone logged in).
func (a *Accounts) VerifyLoginFactorOnDevice(ctx context.Context, cur *Current, kind, code, device, ip string) (string, error) {
	if !cur.NeedsSecondFactor {
		return "", apperr.New(apperr.Conflict, "stage.wrong")
	}
	if err := requireCode(code); err != nil {
		return "", err
	}
	if err := a.attempt(ctx, cur.User.ID, "code", ip); err != nil {
		return "", err
	}
	var smsCode int64
	if kind == db.FactorSMS {
		var err error
		if smsCode, err = a.claimCode(ctx, cur.User.ID, PurposeSMSLogin); err != nil {
			return "", fmt.Errorf("verify login factor: %w", err)
		}
	}
	var token string
	grant, mailed := false, false
	err := a.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := a.Now().UTC()
		switch kind {
		case db.FactorSMS:
			c, err := a.checkCode(ctx, tx, smsCode, cur.User.ID, PurposeSMSLogin, code)
			if err != nil {
				return err
			}
			if err := useCode(ctx, tx, c, now); err != nil {
				return err
			}
			res, err := tx.NewUpdate().Model((*db.SecondFactor)(nil)).Set("last_used_at = ?", now).
				Where("user_id = ? AND kind = ? AND phone = ? AND verified_at IS NOT NULL", cur.User.ID, db.FactorSMS, c.Target).Exec(ctx)
			if err != nil {
				return fmt.Errorf("mark factor used: %w", err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				// The number was removed or replaced since the code went out.
				return errWrongCode
			}
		case db.FactorTOTP:
			f, step, err := a.checkTOTP(ctx, tx, cur.User.ID, code)
			if err != nil {
				return err
			}
			// The condition makes two concurrent uses of one code fail.
			res, err := tx.NewUpdate().Model((*db.SecondFactor)(nil)).Set("totp_last_step = ?", step).Set("last_used_at = ?", now).
				Where("id = ? AND totp_last_step < ?", f.ID, step).Exec(ctx)
			if err != nil {
				return fmt.Errorf("mark factor used: %w", err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return errWrongCode
			}
		case "recovery":
			// A recovery code is a way to log in, not a reset: the factors
			// stay (a phone left at home is not lost). This session, and
			// no other, may set up a new factor for a while.
			if err := a.useRecoveryCode(ctx, tx, cur.User.ID, code, now); err != nil {
				return err
			}
			grant = true
			if err := Audit(ctx, tx, AuditEntry{UserID: &cur.User.ID, Kind: "recovery.used", IP: ip, Now: now}); err != nil {
				return err
			}
			if err := a.queueSecurityMail(ctx, tx, cur.row(), SecurityRecoveryUsed, now); err != nil {
				return err
			}
		default:
			return apperr.New(apperr.Invalid, "code.none")
		}
		if _, err := tx.NewUpdate().Model((*db.User)(nil)).Set("last_login_at = ?", now).Where("id = ?", cur.User.ID).Exec(ctx); err != nil {
			return fmt.Errorf("record login: %w", err)
		}
		if err := Audit(ctx, tx, AuditEntry{UserID: &cur.User.ID, Kind: "login.ok", Detail: kind, IP: ip, Now: now}); err != nil {
			return err
		}
		if _, known := a.deviceOf(device, cur.User.ID); !known && !grant && onboardedUser(cur.row()) {
			if err := a.queueSecurityMail(ctx, tx, cur.row(), SecurityNewBrowser, now); err != nil {
				return err
			}
			mailed = true
		}
		var err error
		if token, err = a.Sessions.Rotate(ctx, tx, cur.Session.ID, true); err != nil {
			return err
		}
		if grant {
			if _, err := tx.NewUpdate().Model((*db.Session)(nil)).Set("factor_grant_until = ?", now.Add(FactorGrantTTL)).
				Where("id = ?", cur.Session.ID).Exec(ctx); err != nil {
				return fmt.Errorf("grant factor setup: %w", err)
			}
		}
		return nil
	})
	if err == nil && (grant || mailed) {
		a.queued()
	}
	if errors.Is(err, errReplay) {
		// Logged outside the rolled-back transaction so that it stays.
		a.Log.WarnContext(ctx, "totp replay refused", "user", cur.User.ID)
		a.failed(ctx, cur.User.ID, "totp-replay", ip)
		err = errWrongCode
	} else if errors.Is(err, errWrongCode) {
		a.failed(ctx, cur.User.ID, kind, ip)
	}
	if err != nil {
		return "", fmt.Errorf("verify login factor: %w", err)
	}
	a.succeeded(ctx, cur.User.ID)
	return token, nil
}

// PasswordResetMail renders the mail with a password-reset link.
type PasswordResetMail interface {
	PasswordResetMail(lang, link string) (notify.Mail, error)
}

// RequestPasswordReset asks for a reset link for an address. It only
// queues the request (the same work for every well-formed address, so the
// answer's time reveals nothing); MailRequests mails the link when the
// address belongs to an active user.
func (a *Accounts) RequestPasswordReset(ctx context.Context, email, ip string) error {
	email, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	if ok, wait, err := a.Limiter.Allow(ctx, IPKey("reset", ip), 10, time.Hour); err != nil {
		return err
	} else if !ok {
		return tooMany("email", wait)
	}
	if err := queueMailRequest(ctx, a.DB, mailRequestPasswordReset, email, ip, a.Now()); err != nil {
		return fmt.Errorf("request password reset: %w", err)
	}
	a.requested()
	return nil
}

// passwordResetMail queues a reset link for email when it belongs to an
// active user who did not get three in the last hour, in the caller's
// transaction (MailRequests).
func (a *Accounts) passwordResetMail(ctx context.Context, tx bun.Tx, email, ip string) (bool, error) {
	var u db.User
	err := tx.NewSelect().Model(&u).Where("email = ? AND status = ?", email, db.StatusActive).Scan(ctx)
	if db.ErrNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load user: %w", err)
	}
	now := a.Now().UTC()
	recent, err := tx.NewSelect().Model((*db.OneTimeCode)(nil)).Where("user_id = ? AND purpose = ? AND sent_at > ?", u.ID, PurposePasswordReset, now.Add(-time.Hour)).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("count reset mails: %w", err)
	}
	if recent >= 3 {
		return false, nil
	}
	// A person who logs in through their organisation changes their
	// password there; a Dialoog reset would open the account beside it.
	if viaSSO, err := ssoRequired(ctx, tx, u.ID); err != nil || viaSSO {
		return false, err
	}
	if _, err := tx.NewUpdate().Model((*db.OneTimeCode)(nil)).Set("used_at = ?", now).
		Where("user_id = ? AND purpose = ? AND used_at IS NULL", u.ID, PurposePasswordReset).Exec(ctx); err != nil {
		return false, fmt.Errorf("retire reset links: %w", err)
	}
	token, hash := NewToken()
	if _, err := tx.NewInsert().Model(&db.OneTimeCode{UserID: u.ID, Purpose: PurposePasswordReset, CodeHash: hash, SentAt: now, ExpiresAt: now.Add(PasswordResetTTL)}).Exec(ctx); err != nil {
		return false, fmt.Errorf("store reset link: %w", err)
	}
	m, err := a.ResetMail.PasswordResetMail(u.Language, strings.TrimRight(a.BaseURL, "/")+"/wachtwoord-vergeten/"+token)
	if err != nil {
		return false, fmt.Errorf("render reset mail: %w", err)
	}
	m.To = u.Email
	if _, err := a.Outbox.QueueMail(ctx, tx, m); err != nil {
		return false, err
	}
	return true, Audit(ctx, tx, AuditEntry{UserID: &u.ID, Kind: "password.reset_requested", IP: ip, Now: now})
}

func (a *Accounts) resetCode(ctx context.Context, idb bun.IDB, token string) (*db.OneTimeCode, *db.User, error) {
	invalid := apperr.New(apperr.NotFound, "reset.invalid")
	if !ValidToken(token) {
		return nil, nil, invalid
	}
	var c db.OneTimeCode
	err := idb.NewSelect().Model(&c).Where("purpose = ? AND code_hash = ?", PurposePasswordReset, HashToken(token)).Scan(ctx)
	if db.ErrNoRows(err) {
		return nil, nil, invalid
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load reset link: %w", err)
	}
	if !c.UsedAt.IsZero() || !a.Now().Before(c.ExpiresAt) {
		return nil, nil, invalid
	}
	var u db.User
	if err := idb.NewSelect().Model(&u).Where("id = ?", c.UserID).Scan(ctx); err != nil {
		return nil, nil, fmt.Errorf("load user: %w", err)
	}
	if u.Status != db.StatusActive {
		return nil, nil, invalid
	}
	if viaSSO, err := ssoRequired(ctx, idb, u.ID); err != nil {
		return nil, nil, err
	} else if viaSSO {
		return nil, nil, invalid
	}
	return &c, &u, nil
}

// Per-IP limit on links that do not work (password reset), so that
// nobody guesses at them in bulk.
const (
	badLinksPerIP    = 20
	badLinksIPWindow = time.Hour
)

// checkResetLink is resetCode for a request from ip: refused once ip tried
// too many links that did not work, and counting each one that does not.
func (a *Accounts) checkResetLink(ctx context.Context, token, ip string) (*db.User, error) {
	key := IPKey("badlink", ip)
	if wait, err := a.Limiter.Over(ctx, key, badLinksPerIP, badLinksIPWindow); err != nil {
		return nil, err
	} else if wait > 0 {
		return nil, tooMany("", wait)
	}
	_, u, err := a.resetCode(ctx, a.DB, token)
	if apperr.CodeOf(err) == apperr.NotFound {
		if _, _, lerr := a.Limiter.Allow(ctx, key, badLinksPerIP, badLinksIPWindow); lerr != nil {
			return nil, lerr
		}
	}
	return u, err
}

// CheckPasswordReset reports the address and the language of the person a
// valid reset link is for, without consuming it.
func (a *Accounts) CheckPasswordReset(ctx context.Context, token, ip string) (email, language string, err error) {
	u, err := a.checkResetLink(ctx, token, ip)
	if err != nil {
		return "", "", err
	}
	return u.Email, u.Language, nil
}

// PasswordResetRules are the password rules for the person a working
// reset link is for (ResetPassword applies them), and their language,
// without using the link: for the reset page's check while typing.
func (a *Accounts) PasswordResetRules(ctx context.Context, token, ip string) (rules PasswordRules, language string, err error) {
	u, err := a.checkResetLink(ctx, token, ip)
	if err != nil {
		return PasswordRules{}, "", err
	}
	return rulesOf(u), u.Language, nil
}

// ResetPassword consumes a reset link, sets the new password, ends every
// session of the user and starts one that still needs the second factor.
func (a *Accounts) ResetPassword(ctx context.Context, token, pw, confirm, ip, userAgent string) (string, error) {
	u, err := a.checkResetLink(ctx, token, ip)
	if err != nil {
		return "", err
	}
	hash, err := newPasswordHash(ctx, u, pw, confirm)
	if err != nil {
		return "", err
	}
	var session string
	var ended []int64
	err = a.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		c, u, err := a.resetCode(ctx, tx, token)
		if err != nil {
			return err
		}
		now := a.Now().UTC()
		res, err := tx.NewUpdate().Model((*db.OneTimeCode)(nil)).Set("used_at = ?", now).Where("id = ? AND used_at IS NULL", c.ID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("use reset link: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.NotFound, "reset.invalid")
		}
		if _, err := tx.NewUpdate().Model((*db.User)(nil)).Set("password_hash = ?", hash).Set("password_changed_at = ?", now).
			Set("updated_at = ?", now).Where("id = ?", u.ID).Exec(ctx); err != nil {
			return fmt.Errorf("store password: %w", err)
		}
		if ended, err = a.Sessions.EndOthers(ctx, tx, u.ID, 0); err != nil {
			return err
		}
		if err := Audit(ctx, tx, AuditEntry{UserID: &u.ID, Kind: "password.reset", IP: ip, Now: now}); err != nil {
			return err
		}
		if err := a.queueSecurityMail(ctx, tx, u, SecurityPasswordReset, now); err != nil {
			return err
		}
		session, err = a.Sessions.Create(ctx, tx, u.ID, ip, userAgent)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("reset password: %w", err)
	}
	a.sessionsEnded(ctx, ended)
	a.queued()
	return session, nil
}
