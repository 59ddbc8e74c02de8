package auth

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/db"
	"dialoog/identity"
	"dialoog/notify"
	"dialoog/vault"
)

// SMS code rules (DESIGN).
const (
	SMSCodeTTL       = 10 * time.Minute
	SMSCodeTries     = 5
	SMSResendAfter   = 60 * time.Second
	SMSPerNumberHour = 5
	// SMSSetupPerDay is how many setup codes one account may have texted in
	// a day, to any numbers: a person who mistypes their number a few times
	// stays far below it, an account used to send texts to numbers of its
	// choice (which the organisation pays for) stops at it.
	SMSSetupPerDay = 10
	// SMSPerAccountHour bounds the texts one account has sent in an hour,
	// to whatever numbers and from whatever addresses: the per-number and
	// per-IP limits alone let an account text number after number (SMS
	// pumping to paid numbers) by changing its address. A person who
	// mistypes their number a few times stays well within it.
	SMSPerAccountHour = 10
)

// One-time code purposes.
const (
	PurposeSMSSetup      = "sms_setup"
	PurposeSMSLogin      = "sms_login"
	PurposePasswordReset = "password_reset"
)

// Accounts carries a user through the first visit and every login after:
// terms, password, second factors, recovery codes, profile.
type Accounts struct {
	DB       *db.DB
	Vault    *vault.Vault
	Outbox   *notify.Outbox
	Sessions *Sessions
	Limiter  *Limiter
	Now      func() time.Time
	Log      *slog.Logger
	// VAPIDPublic is the server's Web Push key (base64url) that browsers
	// subscribe with; empty switches push subscriptions off.
	VAPIDPublic string
	// PushLoopback: push endpoints on this machine's loopback are
	// accepted (a development server; notify.ParseSubscription).
	PushLoopback bool
	// SMSText renders the text of a code message in a language.
	SMSText func(lang, code string) string
	// Queued wakes the outbox worker after a commit that queued a message.
	Queued func()
	// BaseURL is the public URL the links in mail start with.
	BaseURL string
	// ResetMail renders the mail with a password-reset link.
	ResetMail PasswordResetMail
	// Requested wakes MailRequests after a request was queued.
	Requested func()
	// SecretChecked, when set, is called each time a password or a code is
	// evaluated, with its kind ("password", "sms", "totp"); tests count
	// evaluations with it.
	SecretChecked func(kind string)
	// SessionsEnded is told, after the commit, of sessions a change ended
	// (a new factor, a password reset), so that their live connections
	// close at once on every instance; nil when nothing listens.
	SessionsEnded func(ctx context.Context, sessionIDs []int64)
	// SessionRenewed is told, after the commit, of a session that got a
	// new id in a change of a signed-in person (a password or a factor):
	// its live connections, opened with the old cookie, close on every
	// instance and the browser reconnects with the new one, so that a copy
	// of the old cookie keeps no socket. nil when nothing listens.
	SessionRenewed func(ctx context.Context, sessionID int64)
	// Mail renders the security mails; nil sends none.
	Mail SecurityMail
}

func (a *Accounts) requested() {
	if a.Requested != nil {
		a.Requested()
	}
}

func (a *Accounts) checking(kind string) {
	if a.SecretChecked != nil {
		a.SecretChecked(kind)
	}
}

func (a *Accounts) queued() {
	if a.Queued != nil {
		a.Queued()
	}
}

// Current is what a request knows about its signed-in user.
type Current struct {
	// Session and User are what handlers may read: plain values without
	// the token's hash or any database model.
	Session *identity.Session
	User    *identity.User
	Stage   Stage
	// NeedsSecondFactor is set when the user has a verified factor that
	// this session has not passed yet, and for an account that finished
	// its first visit but has no factor left, unless a recovery code gave
	// this session a live grant to set one up.
	NeedsSecondFactor bool
	// MayEnrolFactor is set when this session may set up a second factor:
	// during the first visit, or for FactorGrantTTL after a recovery code.
	MayEnrolFactor bool
	// HasPassword: the user has a Dialoog password. Someone who logs in
	// through their organisation's provider may have none; their password
	// is the organisation's.
	HasPassword bool

	// awaySealed and awayLegacy are the user's absence message as stored
	// (sealed; plain before migration 0008), read with the session, for
	// AwayMessage.
	awaySealed []byte
	awayLegacy string
}

// newCurrent is a Current of the user's row and the session's.
func newCurrent(s *db.Session, u *db.User) *Current {
	cur := &Current{Session: s.Identity(), User: u.Identity(), awaySealed: u.AwaySealed, awayLegacy: u.AwayMessage}
	if cur.Session != nil {
		cur.Session.LiveUntil = SessionEnd(s)
	}
	return cur
}

// row is the user as auth's rules and mails work with them.
func (c *Current) row() *db.User { return db.UserOf(c.User) }

// ActingAs is a Current for u without a session: for commands that act in
// an administrator's name, and for tests.
func ActingAs(u *db.User) *Current {
	return newCurrent(nil, u)
}

// Resolve loads the user and stage behind a session token.
func (a *Accounts) Resolve(ctx context.Context, token string) (*Current, error) {
	if !ValidToken(token) {
		return nil, apperr.New(apperr.Unauthorized, "session.expired")
	}
	// Every signed-in request: the session, its user and the facts of the
	// user's stage in one prepared query.
	rows, err := a.DB.QueryPrepared(ctx, a.DB.Text("auth.resolve", func() string { return resolveQuery(a.DB) }), HashToken(token))
	if err != nil {
		return nil, fmt.Errorf("resolve session: %w", err)
	}
	var row resolvedSession
	err = a.DB.ScanOne(ctx, rows, &row)
	rows.Close()
	if db.ErrNoRows(err) {
		return nil, apperr.New(apperr.Unauthorized, "session.expired")
	}
	if err != nil {
		return nil, fmt.Errorf("resolve session: %w", err)
	}
	sess := &db.Session{ID: row.SessionID, UserID: row.User.ID, SecondFactorAt: row.SessionSecondFactorAt,
		CreatedAt: row.SessionCreatedAt, LastSeenAt: row.SessionLastSeenAt, ExpiresAt: row.SessionExpiresAt,
		EndedAt: row.SessionEndedAt, IP: row.SessionIP, UserAgent: row.SessionUserAgent,
		FactorGrantUntil: row.SessionFactorGrantUntil, ConfirmedAt: row.SessionConfirmedAt}
	if err := a.Sessions.keepAlive(ctx, sess); err != nil {
		return nil, err
	}
	su := stagedUser{User: row.User, TermsAccepted: row.TermsAccepted, FactorVerified: row.FactorVerified, SSOLinked: row.SSOLinked, HasPassword: row.HasPassword}
	u := su.User
	if u.Status == db.StatusDisabled {
		return nil, apperr.New(apperr.Unauthorized, "session.expired")
	}
	stage := su.stage()
	cur := newCurrent(sess, &u)
	cur.Stage, cur.HasPassword = stage, su.HasPassword
	passed := !sess.SecondFactorAt.IsZero()
	granted := passed && a.Now().Before(sess.FactorGrantUntil.Time)
	switch {
	case su.SSOLinked && passed:
		// A session opened through the organisation's provider (or one
		// that passed a factor of Dialoog's): the provider's factors count.
		cur.NeedsSecondFactor = false
	case su.FactorVerified:
		// A session that has not passed the second factor needs it when
		// the user has one.
		cur.NeedsSecondFactor = !passed
	case su.onboarded():
		// No factor left after the first visit: a password (or a reset)
		// alone opens nothing; a recovery code's grant opens the setup.
		cur.NeedsSecondFactor = !granted
	}
	cur.MayEnrolFactor = !cur.NeedsSecondFactor && (granted || (stage == StageSecondFactor && !su.onboarded()))
	return cur, nil
}

// resolveQuery loads a session by token hash with its user and the facts
// of the user's stage.
func resolveQuery(d *db.DB) string {
	times := []string{}
	for _, c := range []string{"second_factor_at", "created_at", "last_seen_at", "expires_at", "ended_at", "factor_grant_until", "confirmed_at"} {
		times = append(times, db.TimeColumn(d, "s."+c, "session_"+c))
	}
	return `SELECT ` + d.Columns(db.User{}, "u") + `, u.inbox_version, s.id AS session_id, s.ip AS session_ip, s.user_agent AS session_user_agent,
  ` + strings.Join(times, ", ") + `,
  ` + termsAcceptedExpr + ` AS terms_accepted, ` + factorVerifiedExpr + ` AS factor_verified,
  ` + ssoLinkedExpr + ` AS sso_linked, ` + hasPasswordExpr + ` AS has_password
FROM sessions AS s JOIN users AS u ON u.id = s.user_id WHERE s.token_hash = ?`
}

type resolvedSession struct {
	db.User                 `bun:",extend"`
	SessionID               int64
	SessionSecondFactorAt   bun.NullTime
	SessionCreatedAt        time.Time
	SessionLastSeenAt       time.Time
	SessionExpiresAt        time.Time
	SessionEndedAt          bun.NullTime
	SessionIP               string `bun:"session_ip"`
	SessionUserAgent        string
	SessionFactorGrantUntil bun.NullTime
	SessionConfirmedAt      bun.NullTime
	TermsAccepted           bool
	FactorVerified          bool
	SSOLinked               bool `bun:"sso_linked"`
	HasPassword             bool `bun:"has_password"`
}

// advance runs change, the step of stage at, in a transaction that also
// gives the session a new id: every step of the first visit ends this
// way, against session fixation. secondFactor marks the session as past
// the second factor. The transaction first checks that the user is still
// at the step (stillAt); at "" skips that check, for a change that does
// not end a step of the first visit.
func (a *Accounts) advance(ctx context.Context, cur *Current, what string, at Stage, secondFactor bool, change func(ctx context.Context, tx bun.Tx) error) (string, error) {
	var token string
	err := a.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if at != "" {
			if err := a.stillAt(ctx, tx, cur.User.ID, at); err != nil {
				return err
			}
		}
		if err := change(ctx, tx); err != nil {
			return err
		}
		var err error
		token, err = a.Sessions.Rotate(ctx, tx, cur.Session.ID, secondFactor)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return token, nil
}

// stillAt takes the user's row lock and checks, in tx, that the user's
// stage is still at. The stage in Current was read when the request
// began: the same step posted twice at once (a double click, two tabs),
// or again from a tab that still shows it, read the same stage, and
// without this both went through (two password hashes, the later one
// winning; two profiles; the session rotated twice, so that the cookie
// of the first answer was dead). With the lock the posts take turns, and
// the later one, which reads the stage after the earlier one committed,
// is refused with "stage.wrong".
func (a *Accounts) stillAt(ctx context.Context, tx bun.Tx, userID int64, at Stage) error {
	if err := lockUser(ctx, tx, userID, a.Now().UTC()); err != nil {
		return err
	}
	u, err := userWithStage(ctx, tx, userID)
	if err != nil {
		return err
	}
	if u.stage() != at {
		return apperr.New(apperr.Conflict, "stage.wrong")
	}
	return nil
}

// requireStage refuses an action that belongs to another stage.
func requireStage(cur *Current, want ...Stage) error {
	for _, w := range want {
		if cur.Stage == w {
			return nil
		}
	}
	return apperr.New(apperr.Conflict, "stage.wrong")
}

// AcceptTerms records acceptance of the current terms version. versionID is
// the version the form showed: a newer one published meanwhile is shown
// again instead of accepted unseen.
func (a *Accounts) AcceptTerms(ctx context.Context, cur *Current, versionID int64, accepted bool, ip string) (string, error) {
	if err := requireStage(cur, StageTerms); err != nil {
		return "", err
	}
	if !accepted {
		return "", apperr.Field("accept", "terms.must_accept")
	}
	return a.advance(ctx, cur, "accept terms", StageTerms, false, func(ctx context.Context, tx bun.Tx) error {
		terms, err := CurrentTerms(ctx, tx)
		if err != nil {
			return err
		}
		if terms.ID != versionID {
			return apperr.Field("accept", "terms.changed")
		}
		now := a.Now().UTC()
		_, err = tx.NewInsert().Model(&db.TermsAcceptance{UserID: cur.User.ID, TermsVersionID: terms.ID, IP: ip, AcceptedAt: now}).
			On("CONFLICT (user_id, terms_version_id) DO NOTHING").Exec(ctx)
		if err != nil {
			return fmt.Errorf("store terms acceptance: %w", err)
		}
		return Audit(ctx, tx, AuditEntry{UserID: &cur.User.ID, Kind: "terms.accepted", Detail: "version " + strconv.Itoa(terms.Version), IP: ip, Now: now})
	})
}

// SetPassword sets the first password.
func (a *Accounts) SetPassword(ctx context.Context, cur *Current, pw, confirm, ip string) (string, error) {
	if err := requireStage(cur, StagePassword); err != nil {
		return "", err
	}
	hash, err := newPasswordHash(ctx, cur.row(), pw, confirm)
	if err != nil {
		return "", err
	}
	return a.advance(ctx, cur, "set password", StagePassword, false, func(ctx context.Context, tx bun.Tx) error {
		now := a.Now().UTC()
		if _, err := tx.NewUpdate().Model((*db.User)(nil)).Set("password_hash = ?", hash).Set("password_changed_at = ?", now).
			Set("updated_at = ?", now).Where("id = ?", cur.User.ID).Exec(ctx); err != nil {
			return fmt.Errorf("store password: %w", err)
		}
		return Audit(ctx, tx, AuditEntry{UserID: &cur.User.ID, Kind: "password.set", IP: ip, Now: now})
	})
}

// SMSState is what the SMS step shows: the number a code went to and when
// another may be sent.
type SMSState struct {
	Phone    string // E.164 of the pending code, "" when none is pending
	SentAt   time.Time
	ResendIn time.Duration
	Verified string // E.164 of an already verified SMS factor
	// Previous is the E.164 number of the newest setup code when none is
	// pending any more (dropped by "Telefoonnummer wijzigen", or expired)
	// and it did not become the verified number: the number form starts
	// with it, so a typo can be corrected instead of typed again.
	Previous string
}

func (a *Accounts) pendingCode(ctx context.Context, idb bun.IDB, userID int64, purpose string) (*db.OneTimeCode, error) {
	var c db.OneTimeCode
	err := idb.NewSelect().Model(&c).Where("user_id = ? AND purpose = ? AND used_at IS NULL", userID, purpose).
		Order("id DESC").Limit(1).Scan(ctx)
	if db.ErrNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load pending code: %w", err)
	}
	return &c, nil
}

// SMSSetupState reports the SMS step's state; it never sends anything, so a
// reload cannot send another text.
func (a *Accounts) SMSSetupState(ctx context.Context, userID int64) (SMSState, error) {
	st, err := a.smsState(ctx, userID, PurposeSMSSetup)
	if err != nil || st.Phone != "" {
		return st, err
	}
	var c db.OneTimeCode
	err = a.DB.NewSelect().Model(&c).Column("target").Where("user_id = ? AND purpose = ?", userID, PurposeSMSSetup).
		Order("id DESC").Limit(1).Scan(ctx)
	if err != nil && !db.ErrNoRows(err) {
		return st, fmt.Errorf("load previous number: %w", err)
	}
	if c.Target != st.Verified {
		st.Previous = c.Target
	}
	return st, nil
}

func (a *Accounts) smsState(ctx context.Context, userID int64, purpose string) (SMSState, error) {
	var st SMSState
	var f db.SecondFactor
	err := a.DB.NewSelect().Model(&f).Where("user_id = ? AND kind = ? AND verified_at IS NOT NULL", userID, db.FactorSMS).Limit(1).Scan(ctx)
	if err != nil && !db.ErrNoRows(err) {
		return st, fmt.Errorf("load sms factor: %w", err)
	}
	st.Verified = f.Phone
	c, err := a.pendingCode(ctx, a.DB, userID, purpose)
	if err != nil || c == nil {
		return st, err
	}
	now := a.Now()
	if !now.Before(c.ExpiresAt) {
		return st, nil
	}
	st.Phone, st.SentAt = c.Target, c.SentAt
	st.ResendIn = max(0, c.SentAt.Add(SMSResendAfter).Sub(now))
	return st, nil
}

// SendSetupSMS normalises the number and texts a code to it.
func (a *Accounts) SendSetupSMS(ctx context.Context, cur *Current, phoneInput, ip string) (SMSState, error) {
	if err := requireEnrol(cur); err != nil {
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

// ResendSetupSMS sends a new code to the pending number ("Geen SMS
// ontvangen") once the cooldown has passed.
func (a *Accounts) ResendSetupSMS(ctx context.Context, cur *Current, ip string) (SMSState, error) {
	if err := requireEnrol(cur); err != nil {
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

// ChangeSetupPhone drops the pending code so that the number can be typed
// again ("Telefoonnummer wijzigen").
func (a *Accounts) ChangeSetupPhone(ctx context.Context, cur *Current) error {
	if err := requireEnrol(cur); err != nil {
		return err
	}
	_, err := a.DB.NewUpdate().Model((*db.OneTimeCode)(nil)).Set("used_at = ?", a.Now().UTC()).
		Where("user_id = ? AND purpose = ? AND used_at IS NULL", cur.User.ID, PurposeSMSSetup).Exec(ctx)
	if err != nil {
		return fmt.Errorf("change phone: %w", err)
	}
	return nil
}

// sendCode replaces any pending code of purpose with a new one and queues
// the text, within the cooldown and the per-number cap.
func (a *Accounts) sendCode(ctx context.Context, u *db.User, purpose, phone, ip string, resend bool) error {
	if ok, wait, err := a.Limiter.Allow(ctx, IPKey("sms", ip), 20, time.Hour); err != nil {
		return err
	} else if !ok {
		return tooMany("phone", wait)
	}
	err := a.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := a.Now().UTC()
		// Two requests at once (a double click, two tabs) take turns on
		// the person's row, so that the later one finds the code just
		// sent and waits as one a moment later does, instead of sending a
		// second text that replaces the first one's code.
		if err := lockUser(ctx, tx, u.ID, now); err != nil {
			return err
		}
		last, err := a.pendingCode(ctx, tx, u.ID, purpose)
		if err != nil {
			return err
		}
		if last != nil && last.Target == phone {
			if wait := last.SentAt.Add(SMSResendAfter).Sub(now); wait > 0 {
				return tooMany("code", wait)
			}
		}
		sent, err := tx.NewSelect().Model((*db.OneTimeCode)(nil)).Where("target = ? AND sent_at > ?", phone, now.Add(-time.Hour)).Count(ctx)
		if err != nil {
			return fmt.Errorf("count texts to number: %w", err)
		}
		if sent >= SMSPerNumberHour {
			return apperr.Field("phone", "sms.number_cap")
		}
		if purpose == PurposeSMSSetup && !resend {
			if err := a.setupTextCap(ctx, tx, u.ID, now); err != nil {
				return err
			}
		}
		// Counted in the transaction: a text refused here or above is
		// not counted.
		if ok, wait, err := a.Limiter.AllowIn(ctx, tx, smsUserKey(u.ID), SMSPerAccountHour, time.Hour); err != nil {
			return err
		} else if !ok {
			return tooMany("phone", wait)
		}
		if _, err := tx.NewUpdate().Model((*db.OneTimeCode)(nil)).Set("used_at = ?", now).
			Where("user_id = ? AND purpose = ? AND used_at IS NULL", u.ID, purpose).Exec(ctx); err != nil {
			return fmt.Errorf("retire old code: %w", err)
		}
		code := sixDigits()
		otc := &db.OneTimeCode{UserID: u.ID, Purpose: purpose, Target: phone, CodeHash: a.codeHash(u.ID, purpose, code), SentAt: now, ExpiresAt: now.Add(SMSCodeTTL)}
		if _, err := tx.NewInsert().Model(otc).Exec(ctx); err != nil {
			return fmt.Errorf("store code: %w", err)
		}
		if _, err := a.Outbox.QueueSMS(ctx, tx, notify.SMS{To: phone, Body: a.SMSText(u.Language, code), SendBy: otc.ExpiresAt}); err != nil {
			return err
		}
		kind := "sms.sent"
		if resend {
			kind = "sms.resent"
		}
		return Audit(ctx, tx, AuditEntry{UserID: &u.ID, Kind: kind, Detail: purpose + " " + MaskPhone(phone), IP: ip, Now: now})
	})
	if err != nil {
		return fmt.Errorf("send code: %w", err)
	}
	a.queued()
	return nil
}

func (a *Accounts) codeHash(userID int64, purpose, code string) []byte {
	return a.Vault.MAC([]byte(strconv.FormatInt(userID, 10) + "|" + purpose + "|" + code))
}

func sixDigits() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("auth: random: " + err.Error())
	}
	return fmt.Sprintf("%06d", binary.BigEndian.Uint64(b[:])%1_000_000)
}

// setupTextCap refuses a setup text to a new number when the account had
// SMSSetupPerDay of them texted in the last 24 hours (a rolling window,
// not a calendar day): a *WaitError on "phone" with the key
// "sms.account_cap" and the wait until the oldest of them no longer
// counts.
func (a *Accounts) setupTextCap(ctx context.Context, tx bun.Tx, userID int64, now time.Time) error {
	var sent []time.Time
	if err := tx.NewSelect().Model((*db.OneTimeCode)(nil)).Column("sent_at").
		Where("user_id = ? AND purpose = ? AND sent_at > ?", userID, PurposeSMSSetup, now.Add(-24*time.Hour)).
		Order("sent_at DESC").Limit(SMSSetupPerDay).Scan(ctx, &sent); err != nil {
		return fmt.Errorf("count the account's setup texts: %w", err)
	}
	if len(sent) < SMSSetupPerDay {
		return nil
	}
	// The newest SMSSetupPerDay texts are the ones in the way: once the
	// oldest of them is 24 hours old, one more may go.
	wait := sent[SMSSetupPerDay-1].Add(24 * time.Hour).Sub(now)
	return &WaitError{Err: &apperr.Error{Code: apperr.TooMany, Key: "sms.account_cap", Field: "phone"}, Wait: max(time.Second, wait.Round(time.Second))}
}

// WaitError is a TooMany error that says how long to wait.
type WaitError struct {
	Err  *apperr.Error
	Wait time.Duration
}

func (e *WaitError) Error() string { return fmt.Sprintf("%v (wait %s)", e.Err, e.Wait) }
func (e *WaitError) Unwrap() error { return e.Err }

func tooMany(field string, wait time.Duration) error {
	return &WaitError{Err: &apperr.Error{Code: apperr.TooMany, Key: "error.wait", Field: field}, Wait: max(time.Second, wait.Round(time.Second))}
}

// claimCode counts a try at the newest pending code of purpose before the
// code is checked, in one statement (so parallel tries are counted one
// after another), and returns the code's id; at most SMSCodeTries tries of
// a code are ever checked. It runs outside any transaction, so the try
// stays counted when the check fails.
func (a *Accounts) claimCode(ctx context.Context, userID int64, purpose string) (int64, error) {
	now := a.Now().UTC()
	var id int64
	err := a.DB.NewRaw(`UPDATE one_time_codes SET attempts = attempts + 1
WHERE id = (SELECT MAX(id) FROM one_time_codes WHERE user_id = ? AND purpose = ? AND used_at IS NULL)
  AND attempts < ? AND expires_at > ?
RETURNING id`, userID, purpose, SMSCodeTries, now).Scan(ctx, &id)
	if err == nil {
		return id, nil
	}
	if !db.ErrNoRows(err) {
		return 0, fmt.Errorf("count code try: %w", err)
	}
	c, err := a.pendingCode(ctx, a.DB, userID, purpose)
	switch {
	case err != nil:
		return 0, err
	case c == nil:
		return 0, apperr.Field("code", "code.none")
	case !now.Before(c.ExpiresAt):
		return 0, apperr.Field("code", "code.expired")
	default:
		return 0, apperr.Field("code", "code.too_many_tries")
	}
}

// checkCode verifies code against the code id that claimCode counted the
// try of.
func (a *Accounts) checkCode(ctx context.Context, tx bun.Tx, id, userID int64, purpose, code string) (*db.OneTimeCode, error) {
	var c db.OneTimeCode
	err := tx.NewSelect().Model(&c).Where("id = ? AND user_id = ? AND purpose = ? AND used_at IS NULL", id, userID, purpose).Scan(ctx)
	if db.ErrNoRows(err) {
		// Used or replaced since the try was counted.
		return nil, apperr.Field("code", "code.none")
	}
	if err != nil {
		return nil, fmt.Errorf("load code: %w", err)
	}
	code = normalizeCode(code)
	a.checking("sms")
	if len(code) != 6 || !equalMAC(a.codeHash(userID, purpose, code), c.CodeHash) {
		return nil, errWrongCode
	}
	return &c, nil
}

// useCode marks the code c, just checked, used, once: the condition makes
// the second of two concurrent uses of one code (two tabs, a double
// click), which both read it unused, find it used.
func useCode(ctx context.Context, tx bun.Tx, c *db.OneTimeCode, now time.Time) error {
	res, err := tx.NewUpdate().Model((*db.OneTimeCode)(nil)).Set("used_at = ?", now).Where("id = ? AND used_at IS NULL", c.ID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("use code: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return apperr.Field("code", "code.none")
	}
	return nil
}

// errWrongCode is a wrong code; its try was counted before the check.
var errWrongCode = apperr.Field("code", "code.wrong")

// VerifySetupSMS checks the code and stores the number as a verified factor.
func (a *Accounts) VerifySetupSMS(ctx context.Context, cur *Current, code, ip string) (string, error) {
	if err := requireEnrol(cur); err != nil {
		return "", err
	}
	return a.verifySMS(ctx, cur, code, ip, a.enrolStillAllowed)
}

// enrolGuard checks, in the transaction that stores a new factor, that the
// session may still store it (enrolStillAllowed, manageStillAllowed).
type enrolGuard func(ctx context.Context, tx bun.Tx, cur *Current) error

// verifySMS checks the code of a pending SMS setup and stores its number
// as the SMS factor, replacing an older number only now that the new one
// is verified.
func (a *Accounts) verifySMS(ctx context.Context, cur *Current, code, ip string, allowed enrolGuard) (string, error) {
	if err := requireCode(code); err != nil {
		return "", err
	}
	if ok, wait, err := a.Limiter.Allow(ctx, IPKey("code", ip), codesPerIP, codesIPWindow); err != nil {
		return "", err
	} else if !ok {
		return "", tooMany("code", wait)
	}
	id, err := a.claimCode(ctx, cur.User.ID, PurposeSMSSetup)
	if err != nil {
		return "", fmt.Errorf("verify sms: %w", err)
	}
	var token string
	var ended []int64
	err = a.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := allowed(ctx, tx, cur); err != nil {
			return err
		}
		c, err := a.checkCode(ctx, tx, id, cur.User.ID, PurposeSMSSetup, code)
		if err != nil {
			return err
		}
		now := a.Now().UTC()
		if err := useCode(ctx, tx, c, now); err != nil {
			return err
		}
		var old []string
		if err := tx.NewDelete().Model((*db.SecondFactor)(nil)).Where("user_id = ? AND kind = ?", cur.User.ID, db.FactorSMS).
			Returning("phone").Scan(ctx, &old); err != nil && !db.ErrNoRows(err) {
			return fmt.Errorf("replace sms factor: %w", err)
		}
		f := &db.SecondFactor{UserID: cur.User.ID, Kind: db.FactorSMS, Phone: c.Target, VerifiedAt: bun.NullTime{Time: now}, LastUsedAt: bun.NullTime{Time: now}, CreatedAt: now}
		if _, err := tx.NewInsert().Model(f).Exec(ctx); err != nil {
			return fmt.Errorf("store sms factor: %w", err)
		}
		if len(old) > 0 && old[0] != c.Target {
			// A new number: login codes still on their way to the old
			// one no longer count.
			if err := a.retireLoginCodes(ctx, tx, cur.User.ID, now); err != nil {
				return err
			}
			ended, err = a.securityChange(ctx, tx, cur, "factor.phone_changed", SecurityPhoneChanged, "sms "+MaskPhone(c.Target), ip, now)
		} else {
			ended, err = a.factorAdded(ctx, tx, cur, "sms "+MaskPhone(c.Target), ip, now)
		}
		if err != nil {
			return err
		}
		token, err = a.Sessions.Rotate(ctx, tx, cur.Session.ID, true)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("verify sms: %w", err)
	}
	a.afterFactorAdded(ctx, ended)
	a.sessionRenewed(ctx, cur.Session.ID)
	return token, nil
}

// TOTPSetup returns the app secret to show, creating it on first call and
// reusing it on reloads until it is verified.
func (a *Accounts) TOTPSetup(ctx context.Context, cur *Current, issuer string) (TOTPKey, error) {
	if err := requireEnrol(cur); err != nil {
		return TOTPKey{}, err
	}
	return a.totpSetup(ctx, cur, issuer)
}

// totpSetup returns the pending app secret of cur's user that this
// session made, creating one when there is none; a pending secret of
// another session is replaced.
func (a *Accounts) totpSetup(ctx context.Context, cur *Current, issuer string) (TOTPKey, error) {
	var key TOTPKey
	err := a.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var f db.SecondFactor
		err := tx.NewSelect().Model(&f).Where("user_id = ? AND kind = ? AND verified_at IS NULL", cur.User.ID, db.FactorTOTP).Limit(1).Scan(ctx)
		if err == nil {
			if secret, ok := a.openPendingTOTP(&f, cur.User.ID, cur.Session.ID); ok {
				key = TOTPKey{Secret: secret, URI: totpURI(issuer, cur.User.Email, secret)}
				return nil
			}
			if _, err := tx.NewDelete().Model((*db.SecondFactor)(nil)).
				Where("user_id = ? AND kind = ? AND verified_at IS NULL", cur.User.ID, db.FactorTOTP).Exec(ctx); err != nil {
				return fmt.Errorf("replace pending totp factor: %w", err)
			}
		} else if !db.ErrNoRows(err) {
			return fmt.Errorf("load totp factor: %w", err)
		}
		if key, err = NewTOTPKey(issuer, cur.User.Email); err != nil {
			return err
		}
		f = db.SecondFactor{UserID: cur.User.ID, Kind: db.FactorTOTP, TOTPSecret: a.Vault.Seal([]byte(key.Secret), totpSetupAD(cur.User.ID, cur.Session.ID)), CreatedAt: a.Now().UTC()}
		if _, err := tx.NewInsert().Model(&f).Exec(ctx); err != nil {
			return fmt.Errorf("store totp factor: %w", err)
		}
		return nil
	})
	if err != nil {
		return TOTPKey{}, fmt.Errorf("totp setup: %w", err)
	}
	return key, nil
}

// totpSetupAD binds the secret of an app being linked to the session that
// showed it: no other session can open it, so none shows it again or
// links it (a secret shown in one session and linked in another may have
// been kept by whoever had the first). A verified app's secret is sealed
// under totpAD.
func totpSetupAD(userID, sessionID int64) []byte {
	return []byte("totp:" + strconv.FormatInt(userID, 10) + ":session:" + strconv.FormatInt(sessionID, 10))
}

// openPendingTOTP opens the secret of the pending app f for the session
// sessionID; ok is false when another session made it.
func (a *Accounts) openPendingTOTP(f *db.SecondFactor, userID, sessionID int64) (string, bool) {
	if secret, err := a.Vault.Open(f.TOTPSecret, totpSetupAD(userID, sessionID)); err == nil {
		return string(secret), true
	}
	// Pending since before secrets were bound to their session.
	if secret, err := a.Vault.Open(f.TOTPSecret, totpAD(userID)); err == nil {
		return string(secret), true
	}
	return "", false
}

// checkTOTP verifies code against the user's verified app and returns
// the factor and the matched time step.
func (a *Accounts) checkTOTP(ctx context.Context, tx bun.Tx, userID int64, code string) (*db.SecondFactor, int64, error) {
	f, err := loadTOTP(ctx, tx, userID, "verified_at IS NOT NULL")
	if err != nil {
		return nil, 0, err
	}
	secret, err := a.Vault.Open(f.TOTPSecret, totpAD(userID))
	if err != nil {
		return nil, 0, fmt.Errorf("open totp secret: %w", err)
	}
	step, err := a.matchTOTP(f, string(secret), code)
	return f, step, err
}

// errQRCodeGone refuses a code from an app that scanned a QR code this
// session no longer links.
var errQRCodeGone = apperr.Field("code", "totp.setup_gone")

// checkPendingTOTP verifies code against the app that session sessionID
// is linking and returns the factor, its secret and the matched step.
func (a *Accounts) checkPendingTOTP(ctx context.Context, tx bun.Tx, userID, sessionID int64, code string) (*db.SecondFactor, string, int64, error) {
	f, err := loadTOTP(ctx, tx, userID, "verified_at IS NULL")
	if apperr.CodeOf(err) == apperr.Invalid {
		// The QR code this session showed was replaced (another session
		// opened the app page) or linked elsewhere: the page shows a new
		// one to scan.
		return nil, "", 0, errQRCodeGone
	}
	if err != nil {
		return nil, "", 0, err
	}
	secret, ok := a.openPendingTOTP(f, userID, sessionID)
	if !ok {
		// Another session's app, which this one never showed.
		return nil, "", 0, errQRCodeGone
	}
	step, err := a.matchTOTP(f, secret, code)
	return f, secret, step, err
}

func loadTOTP(ctx context.Context, tx bun.Tx, userID int64, cond string) (*db.SecondFactor, error) {
	var f db.SecondFactor
	if err := tx.NewSelect().Model(&f).Where("user_id = ? AND kind = ? AND "+cond, userID, db.FactorTOTP).Limit(1).Scan(ctx); err != nil {
		if db.ErrNoRows(err) {
			return nil, apperr.Field("code", "code.none")
		}
		return nil, fmt.Errorf("load totp factor: %w", err)
	}
	return &f, nil
}

// matchTOTP checks code against secret, the secret of f, once.
func (a *Accounts) matchTOTP(f *db.SecondFactor, secret, code string) (int64, error) {
	a.checking("totp")
	step, ok := VerifyTOTP(secret, code, a.Now(), f.TOTPLastStep)
	switch {
	case ok:
		return step, nil
	case step != 0:
		return 0, errReplay
	default:
		return 0, errWrongCode
	}
}

func totpAD(userID int64) []byte { return []byte("totp:" + strconv.FormatInt(userID, 10)) }

// VerifySetupTOTP checks the first token of the app being set up.
func (a *Accounts) VerifySetupTOTP(ctx context.Context, cur *Current, code, ip string) (string, error) {
	if err := requireEnrol(cur); err != nil {
		return "", err
	}
	return a.verifyTOTP(ctx, cur, code, ip, a.enrolStillAllowed)
}

// verifyTOTP checks a code of the pending app and makes it the user's app,
// replacing an older one only now that the new one is verified.
func (a *Accounts) verifyTOTP(ctx context.Context, cur *Current, code, ip string, allowed enrolGuard) (string, error) {
	if err := requireCode(code); err != nil {
		return "", err
	}
	if err := a.attempt(ctx, cur.User.ID, "code", ip); err != nil {
		return "", err
	}
	var token string
	var ended []int64
	err := a.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := allowed(ctx, tx, cur); err != nil {
			return err
		}
		f, secret, step, err := a.checkPendingTOTP(ctx, tx, cur.User.ID, cur.Session.ID, code)
		if err != nil {
			return err
		}
		now := a.Now().UTC()
		if _, err := tx.NewDelete().Model((*db.SecondFactor)(nil)).Where("user_id = ? AND kind = ? AND id <> ?", cur.User.ID, db.FactorTOTP, f.ID).Exec(ctx); err != nil {
			return fmt.Errorf("replace totp factor: %w", err)
		}
		// Linked, the secret is the user's, no longer only this session's.
		// Once: of two requests with the code at once (a double click),
		// which both read the app pending, the later finds it linked, as
		// one after the first would.
		res, err := tx.NewUpdate().Model((*db.SecondFactor)(nil)).Set("verified_at = ?", now).Set("last_used_at = ?", now).
			Set("totp_last_step = ?", step).Set("totp_secret = ?", a.Vault.Seal([]byte(secret), totpAD(cur.User.ID))).
			Where("id = ? AND verified_at IS NULL", f.ID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("verify totp factor: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errQRCodeGone
		}
		if err := a.finishFactorStep(ctx, tx, cur.User.ID, now); err != nil {
			return err
		}
		if ended, err = a.factorAdded(ctx, tx, cur, "totp", ip, now); err != nil {
			return err
		}
		token, err = a.Sessions.Rotate(ctx, tx, cur.Session.ID, true)
		return err
	})
	if errors.Is(err, errWrongCode) {
		a.failed(ctx, cur.User.ID, "totp-setup", ip)
	}
	if err != nil {
		return "", fmt.Errorf("verify totp: %w", err)
	}
	a.succeeded(ctx, cur.User.ID)
	a.afterFactorAdded(ctx, ended)
	a.sessionRenewed(ctx, cur.Session.ID)
	return token, nil
}

// SkipApp ends the second-factor step without an app; refused when no
// factor is verified, since a second factor is always required.
func (a *Accounts) SkipApp(ctx context.Context, cur *Current) (string, error) {
	if err := requireEnrol(cur); err != nil {
		return "", err
	}
	if cur.Stage != StageSecondFactor {
		// A factor set up again after a recovery code: nothing to finish.
		return a.advance(ctx, cur, "skip app", "", true, func(context.Context, bun.Tx) error { return nil })
	}
	return a.advance(ctx, cur, "skip app", StageSecondFactor, true, func(ctx context.Context, tx bun.Tx) error {
		ok, err := tx.NewSelect().Model((*db.SecondFactor)(nil)).Where("user_id = ? AND verified_at IS NOT NULL", cur.User.ID).Exists(ctx)
		if err != nil {
			return fmt.Errorf("load factors: %w", err)
		}
		if !ok {
			return apperr.New(apperr.Invalid, "factor.required")
		}
		if err := a.finishFactorStep(ctx, tx, cur.User.ID, a.Now().UTC()); err != nil {
			return err
		}
		return nil
	})
}

func (a *Accounts) finishFactorStep(ctx context.Context, tx bun.Tx, userID int64, now time.Time) error {
	if _, err := tx.NewUpdate().Model((*db.User)(nil)).Set("second_factor_done_at = ?", now).Set("updated_at = ?", now).
		Where("id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("finish factor step: %w", err)
	}
	return nil
}

// Profile is the one-time "Deelnemerinstellingen" form.
type Profile struct {
	Gender      string
	Initials    string
	FirstName   string
	NamePrefix  string
	LastName    string
	AwayEnabled bool
	AwayMessage string
	AwayFrom    string // yyyy-mm-dd or ""
	AwayUntil   string // yyyy-mm-dd or ""
}

// Genders are the choices of "Geslacht".
var Genders = []string{"unknown", "male", "female", "other"}

func (p *Profile) validate(now time.Time) (from, until bun.NullTime, err error) {
	n := Names{Gender: p.Gender, Initials: p.Initials, FirstName: p.FirstName, NamePrefix: p.NamePrefix, LastName: p.LastName}
	ab := Absence{Enabled: p.AwayEnabled, Message: p.AwayMessage, From: p.AwayFrom, Until: p.AwayUntil}
	errs := n.validate()
	from, until, more := ab.validate(now)
	errs = append(errs, more...)
	p.Gender, p.Initials, p.FirstName, p.NamePrefix, p.LastName = n.Gender, n.Initials, n.FirstName, n.NamePrefix, n.LastName
	p.AwayMessage = ab.Message
	if len(errs) > 0 {
		return from, until, errs
	}
	return from, until, nil
}

// SaveProfile stores the profile, activates the account and returns the
// session token of the now fully signed-in user.
func (a *Accounts) SaveProfile(ctx context.Context, cur *Current, p Profile, ip string) (string, error) {
	if err := requireStage(cur, StageProfile); err != nil {
		return "", err
	}
	from, until, err := p.validate(a.Now())
	if err != nil {
		return "", err
	}
	return a.advance(ctx, cur, "save profile", StageProfile, true, func(ctx context.Context, tx bun.Tx) error {
		now := a.Now().UTC()
		_, err := tx.NewUpdate().Model((*db.User)(nil)).
			Set("gender = ?", p.Gender).Set("initials = ?", p.Initials).Set("first_name = ?", p.FirstName).
			Set("name_prefix = ?", p.NamePrefix).Set("last_name = ?", p.LastName).
			Set("away_enabled = ?", p.AwayEnabled).Set("away_sealed = ?", SealAway(a.Vault, cur.User.ID, p.AwayMessage)).Set("away_message = ''").
			Set("away_from = ?", from).Set("away_until = ?", until).Set("away_changed_at = ?", now).
			Set("profile_completed_at = ?", now).Set("status = ?", db.StatusActive).
			Set("last_login_at = ?", now).Set("updated_at = ?", now).
			Where("id = ?", cur.User.ID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("store profile: %w", err)
		}
		return Audit(ctx, tx, AuditEntry{UserID: &cur.User.ID, Kind: "profile.completed", IP: ip, Now: now})
	})
}

// smsUserKey is the throttle key of the texts sent to set up or change an
// account's number.
func smsUserKey(userID int64) string { return "sms:user:" + strconv.FormatInt(userID, 10) }
