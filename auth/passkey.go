package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/db"
)

// Passkeys (WebAuthn) are a second factor beside SMS and app, and, since a
// passkey that verifies its user is two factors in one (something the
// person has, unlocked by a fingerprint, a face or a PIN), a login on its
// own. Registration and login follow the rules of the other factors: a
// passkey is added in the first visit's second-factor step or under
// "Tweede stap beheren" (with a "confirm it is you", or a recovery code's
// grant), removed only there and never as the last factor, and every
// change is audited, mailed and ends the other sessions (securityChange).
//
// Every ceremony's challenge is kept on the server (webauthn_challenges),
// bound to the session (or, for a login with a passkey alone, to a cookie
// of the browser), for PasskeyChallengeTTL, and deleted by the finish
// before anything is checked, so that it works once. The signature counter
// only goes up: an assertion with a counter at or below the stored one is
// refused (a cloned key or a replay), and the new counter is stored by a
// compare-and-set, so that of two concurrent uses one fails.

// PasskeyChallengeTTL is how long a ceremony's challenge may be answered.
const PasskeyChallengeTTL = 5 * time.Minute

// Kinds of second factor, in the lists of factors.
const (
	FactorSMS     = db.FactorSMS
	FactorTOTP    = db.FactorTOTP
	FactorPasskey = "passkey"
)

// passkeyOptionsPerIP is how many login ceremonies (each a stored
// challenge) one IP address may start in 15 minutes.
const passkeyOptionsPerIP = 300

// maxPasskeyName bounds a passkey's name, in characters.
const maxPasskeyName = 60

// maxPasskeyResponse bounds the JSON a browser sends back, in bytes.
const maxPasskeyResponse = 64 << 10

// Purposes of a challenge.
const (
	challengeRegister  = "register"
	challengeSecond    = "second"
	challengePasskeyIn = "login"
)

// Passkeys registers passkeys and logs in with them, for Accounts.
type Passkeys struct {
	A        *Accounts
	webAuthn *webauthn.WebAuthn
}

// ErrPasskeysNeedDomain is NewPasskeys's answer for a base URL whose host
// is an IP address: WebAuthn ties a passkey to a domain name, so such a
// site has no passkeys.
var ErrPasskeysNeedDomain = errors.New("passkeys need a domain name in the base URL, not an IP address")

// NewPasskeys returns the passkey service of a site at baseURL: the relying
// party's id is the base URL's host name and the only origin accepted is
// the base URL's scheme, host and port. rpName is shown by some browsers.
func NewPasskeys(a *Accounts, baseURL, rpName string) (*Passkeys, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("passkeys: base url %q has no host", baseURL)
	}
	if _, err := netip.ParseAddr(u.Hostname()); err == nil {
		return nil, ErrPasskeysNeedDomain
	}
	if rpName == "" {
		rpName = "Dialoog"
	}
	required := false
	w, err := webauthn.New(&webauthn.Config{
		RPID:                  u.Hostname(),
		RPDisplayName:         rpName,
		RPOrigins:             []string{u.Scheme + "://" + u.Host},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			RequireResidentKey: &required,
			ResidentKey:        protocol.ResidentKeyRequirementPreferred,
			UserVerification:   protocol.VerificationRequired,
		},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: PasskeyChallengeTTL, TimeoutUVD: PasskeyChallengeTTL},
			Registration: webauthn.TimeoutConfig{Timeout: PasskeyChallengeTTL, TimeoutUVD: PasskeyChallengeTTL},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("passkeys: %w", err)
	}
	return &Passkeys{A: a, webAuthn: w}, nil
}

// passkeyUser is a person as the WebAuthn library sees them.
type passkeyUser struct {
	u      *db.User
	handle []byte
	creds  []webauthn.Credential
}

func (p *passkeyUser) WebAuthnID() []byte { return p.handle }
func (p *passkeyUser) WebAuthnName() string {
	return p.u.Email
}
func (p *passkeyUser) WebAuthnDisplayName() string {
	name := strings.Join(strings.Fields(p.u.FirstName+" "+p.u.NamePrefix+" "+p.u.LastName), " ")
	if name == "" {
		return p.u.Email
	}
	return name
}
func (p *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return p.creds }

// loadPasskeyUser loads the user with their passkeys; handle is the user
// handle of their passkeys, or a new random one when they have none.
func loadPasskeyUser(ctx context.Context, idb bun.IDB, u *db.User) (*passkeyUser, []db.Passkey, error) {
	var rows []db.Passkey
	if err := idb.NewSelect().Model(&rows).Where("user_id = ?", u.ID).OrderExpr("id ASC").Scan(ctx); err != nil {
		return nil, nil, fmt.Errorf("load passkeys: %w", err)
	}
	p := &passkeyUser{u: u}
	for _, r := range rows {
		var c webauthn.Credential
		if err := json.Unmarshal([]byte(r.Credential), &c); err != nil {
			return nil, nil, fmt.Errorf("read passkey %d: %w", r.ID, err)
		}
		c.Authenticator.SignCount = uint32(r.SignCount)
		p.creds = append(p.creds, c)
		if p.handle == nil {
			p.handle = r.UserHandle
		}
	}
	if p.handle == nil {
		p.handle = make([]byte, 32)
		if _, err := rand.Read(p.handle); err != nil {
			return nil, nil, fmt.Errorf("passkeys: random: %w", err)
		}
	}
	return p, rows, nil
}

// challengeLookup is the key of a session's challenge for purpose.
func challengeLookup(purpose string, sessionID int64) string {
	return purpose + ":" + strconv.FormatInt(sessionID, 10)
}

// storeChallenge keeps the state of a ceremony, replacing an earlier one
// with the same lookup.
func (p *Passkeys) storeChallenge(ctx context.Context, lookup string, sessionID *int64, s *webauthn.SessionData) error {
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode challenge: %w", err)
	}
	now := p.A.Now().UTC()
	// Challenges nobody answered go here, so that a table written by
	// anonymous requests never grows (a range of the expiry index).
	if _, err := PurgeChallenges(ctx, p.A.DB, now); err != nil {
		return err
	}
	return p.A.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewDelete().Model((*db.WebAuthnChallenge)(nil)).Where("lookup = ?", lookup).Exec(ctx); err != nil {
			return fmt.Errorf("replace challenge: %w", err)
		}
		row := &db.WebAuthnChallenge{Lookup: lookup, SessionID: sessionID, Data: string(data), ExpiresAt: now.Add(PasskeyChallengeTTL), CreatedAt: now}
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			return fmt.Errorf("store challenge: %w", err)
		}
		return nil
	})
}

// errPasskeyRefused is a ceremony that did not verify: a wrong or used
// challenge, another site's passkey, a bad signature, a counter that did
// not go up. The person sees one message for all of them.
var errPasskeyRefused = apperr.New(apperr.Unauthorized, "passkey.refused")

// takeChallenge deletes the challenge of lookup and returns its state; an
// unknown, used or expired one is errPasskeyRefused. The delete comes
// first, so that a challenge is answered once, whatever follows.
func (p *Passkeys) takeChallenge(ctx context.Context, lookup string) (*webauthn.SessionData, error) {
	var rows []db.WebAuthnChallenge
	if err := p.A.DB.NewDelete().Model(&rows).Where("lookup = ?", lookup).Returning("*").Scan(ctx); err != nil && !db.ErrNoRows(err) {
		return nil, fmt.Errorf("take challenge: %w", err)
	}
	if len(rows) != 1 || !p.A.Now().Before(rows[0].ExpiresAt) {
		return nil, errPasskeyRefused
	}
	var s webauthn.SessionData
	if err := json.Unmarshal([]byte(rows[0].Data), &s); err != nil {
		return nil, fmt.Errorf("read challenge: %w", err)
	}
	return &s, nil
}

// PurgeChallenges deletes the challenges that expired before now (every
// new ceremony does; a finish deletes the others).
func PurgeChallenges(ctx context.Context, idb bun.IDB, now time.Time) (int, error) {
	return DeleteBatches(ctx, idb, "expired passkey challenges", `DELETE FROM webauthn_challenges WHERE id IN (
  SELECT id FROM webauthn_challenges WHERE expires_at < ? ORDER BY id LIMIT ?)`, now.UTC())
}

// CleanPasskeyName checks and tidies a passkey's name: spaces collapsed, no
// control characters, 1 to maxPasskeyName characters.
func CleanPasskeyName(s string) (string, error) {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "", apperr.Field("name", "passkey.name_required")
	}
	if utf8.RuneCountInString(s) > maxPasskeyName {
		return "", apperr.Field("name", "passkey.name_long")
	}
	return s, nil
}

// enrolling reports whether cur adds a passkey in the first visit's
// second-factor step (or, without any factor left, under a recovery
// code's grant), rather than under "Tweede stap beheren".
func enrolling(cur *Current) bool { return cur.Stage != StageDone }

// registrationGuard is requireEnrol or requireManage, by where cur adds a
// passkey; the returned guard checks it again in the transaction.
func (p *Passkeys) registrationGuard(cur *Current) (enrolGuard, error) {
	if enrolling(cur) {
		return p.A.enrolStillAllowed, requireEnrol(cur)
	}
	return p.A.addGuard, p.A.requireManage(cur, true)
}

// BeginRegistration starts adding a passkey: it returns the options for the
// browser's navigator.credentials.create (JSON, {"publicKey": ...}). The
// person's passkeys are excluded, so one authenticator is not added twice.
func (p *Passkeys) BeginRegistration(ctx context.Context, cur *Current) ([]byte, error) {
	if _, err := p.registrationGuard(cur); err != nil {
		return nil, err
	}
	user, _, err := loadPasskeyUser(ctx, p.A.DB, cur.row())
	if err != nil {
		return nil, err
	}
	creation, session, err := p.webAuthn.BeginRegistration(user,
		webauthn.WithExclusions(webauthn.Credentials(user.creds).CredentialDescriptors()),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation))
	if err != nil {
		return nil, fmt.Errorf("begin passkey registration: %w", err)
	}
	id := cur.Session.ID
	if err := p.storeChallenge(ctx, challengeLookup(challengeRegister, id), &id, session); err != nil {
		return nil, err
	}
	out, err := json.Marshal(creation)
	if err != nil {
		return nil, fmt.Errorf("encode passkey options: %w", err)
	}
	return out, nil
}

// FinishRegistration checks the browser's answer to BeginRegistration and
// stores the passkey under name. In the first visit it ends the
// second-factor step, as an app does. It returns the session's new token.
func (p *Passkeys) FinishRegistration(ctx context.Context, cur *Current, name string, response []byte, ip string) (string, error) {
	guard, err := p.registrationGuard(cur)
	if err != nil {
		return "", err
	}
	if name, err = CleanPasskeyName(name); err != nil {
		return "", err
	}
	if ok, wait, err := p.A.Limiter.Allow(ctx, IPKey("code", ip), codesPerIP, codesIPWindow); err != nil {
		return "", err
	} else if !ok {
		return "", tooMany("", wait)
	}
	session, err := p.takeChallenge(ctx, challengeLookup(challengeRegister, cur.Session.ID))
	if err != nil {
		return "", p.refused(ctx, cur.User.ID, "register", ip, err)
	}
	user, _, err := loadPasskeyUser(ctx, p.A.DB, cur.row())
	if err != nil {
		return "", err
	}
	user.handle = session.UserID // a new person's handle was made at the start
	cred, err := p.createCredential(user, session, response)
	if err != nil {
		return "", p.refused(ctx, cur.User.ID, "register", ip, err)
	}
	record, err := json.Marshal(cred)
	if err != nil {
		return "", fmt.Errorf("encode passkey: %w", err)
	}
	var token string
	var ended []int64
	err = p.A.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := guard(ctx, tx, cur); err != nil {
			return err
		}
		now := p.A.Now().UTC()
		row := &db.Passkey{UserID: cur.User.ID, Name: name, CredentialID: cred.ID, UserHandle: session.UserID,
			Credential: string(record), SignCount: int64(cred.Authenticator.SignCount), CreatedAt: now, LastUsedAt: bun.NullTime{Time: now}}
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			if db.IsUniqueViolation(err) {
				return apperr.New(apperr.Conflict, "passkey.known")
			}
			return fmt.Errorf("store passkey: %w", err)
		}
		if enrolling(cur) && cur.Stage == StageSecondFactor {
			if err := p.A.finishFactorStep(ctx, tx, cur.User.ID, now); err != nil {
				return err
			}
		}
		var err error
		if ended, err = p.A.securityChange(ctx, tx, cur, "passkey.added", SecurityFactorAdded, "passkey "+name, ip, now); err != nil {
			return err
		}
		token, err = p.A.Sessions.Rotate(ctx, tx, cur.Session.ID, true)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("add passkey: %w", err)
	}
	p.A.afterFactorAdded(ctx, ended)
	p.A.sessionRenewed(ctx, cur.Session.ID)
	return token, nil
}

// createCredential parses and verifies a registration answer; the passkey
// must have verified its user.
func (p *Passkeys) createCredential(user *passkeyUser, session *webauthn.SessionData, response []byte) (*webauthn.Credential, error) {
	if len(response) == 0 || len(response) > maxPasskeyResponse {
		return nil, errors.New("no or too large answer")
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	cred, err := p.webAuthn.CreateCredential(user, *session, parsed)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	if !cred.Flags.UserVerified {
		return nil, errors.New("user not verified")
	}
	return cred, nil
}

// refused records a refused ceremony (audit, outside any transaction) and
// returns what the person is told; err is logged, never shown.
func (p *Passkeys) refused(ctx context.Context, userID int64, what, ip string, err error) error {
	if errors.Is(err, errPasskeyRefused) {
		err = errors.New("unknown, used or expired challenge")
	}
	p.A.Log.InfoContext(ctx, "passkey refused", "what", what, "user", userID, "reason", err.Error())
	if userID != 0 {
		p.A.audit(ctx, userID, "passkey.refused", "passkey "+what, ip)
	}
	return errPasskeyRefused
}

// RemovePasskey removes one of cur's passkeys, never the last factor
// (apperr Conflict "factor.last"); another person's passkey or an unknown
// id is NotFound. It needs a recent "confirm it is you", like every
// removal.
func (p *Passkeys) RemovePasskey(ctx context.Context, cur *Current, passkeyID int64, ip string) error {
	a := p.A
	if err := a.requireManage(cur, false); err != nil {
		return err
	}
	var ended []int64
	err := a.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := a.manageStillAllowed(ctx, tx, cur, false); err != nil {
			return err
		}
		now := a.Now().UTC()
		if err := lockUser(ctx, tx, cur.User.ID, now); err != nil {
			return err
		}
		var pk db.Passkey
		err := tx.NewSelect().Model(&pk).Where("id = ? AND user_id = ?", passkeyID, cur.User.ID).Scan(ctx)
		if db.ErrNoRows(err) {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		if err != nil {
			return fmt.Errorf("load passkey: %w", err)
		}
		n, err := countFactors(ctx, tx, cur.User.ID)
		if err != nil {
			return err
		}
		if n < 2 {
			return apperr.New(apperr.Conflict, "factor.last")
		}
		if _, err := tx.NewDelete().Model((*db.Passkey)(nil)).Where("id = ?", pk.ID).Exec(ctx); err != nil {
			return fmt.Errorf("remove passkey: %w", err)
		}
		ended, err = a.securityChange(ctx, tx, cur, "passkey.removed", SecurityFactorRemoved, "passkey "+pk.Name, ip, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("remove passkey: %w", err)
	}
	a.afterFactorAdded(ctx, ended)
	return nil
}

// countFactors counts the user's verified factors: SMS, app and passkeys.
func countFactors(ctx context.Context, idb bun.IDB, userID int64) (int, error) {
	n, err := idb.NewSelect().Model((*db.SecondFactor)(nil)).Where("user_id = ? AND verified_at IS NOT NULL", userID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count factors: %w", err)
	}
	k, err := idb.NewSelect().Model((*db.Passkey)(nil)).Where("user_id = ?", userID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count passkeys: %w", err)
	}
	return int(n + k), nil
}

// passkeyInfos lists the user's passkeys as factors.
func passkeyInfos(ctx context.Context, idb bun.IDB, userID int64) ([]FactorInfo, error) {
	var rows []db.Passkey
	if err := idb.NewSelect().Model(&rows).Where("user_id = ?", userID).OrderExpr("id ASC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list passkeys: %w", err)
	}
	out := make([]FactorInfo, len(rows))
	for i, r := range rows {
		out[i] = FactorInfo{ID: r.ID, Kind: FactorPasskey, Name: r.Name, Added: r.CreatedAt, LastUsed: r.LastUsedAt.Time}
	}
	return out, nil
}

// BeginSecondStep starts the second step of a login with a passkey: the
// options for navigator.credentials.get, listing the person's passkeys.
func (p *Passkeys) BeginSecondStep(ctx context.Context, cur *Current, ip string) ([]byte, error) {
	if !cur.NeedsSecondFactor {
		return nil, apperr.New(apperr.Conflict, "stage.wrong")
	}
	if ok, wait, err := p.A.Limiter.Allow(ctx, IPKey("code", ip), codesPerIP, codesIPWindow); err != nil {
		return nil, err
	} else if !ok {
		return nil, tooMany("", wait)
	}
	user, _, err := loadPasskeyUser(ctx, p.A.DB, cur.row())
	if err != nil {
		return nil, err
	}
	if len(user.creds) == 0 {
		return nil, apperr.New(apperr.NotFound, "error.not_found")
	}
	assertion, session, err := p.webAuthn.BeginLogin(user, webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, fmt.Errorf("begin passkey login: %w", err)
	}
	id := cur.Session.ID
	if err := p.storeChallenge(ctx, challengeLookup(challengeSecond, id), &id, session); err != nil {
		return nil, err
	}
	return marshalOptions(assertion)
}

func marshalOptions(assertion *protocol.CredentialAssertion) ([]byte, error) {
	out, err := json.Marshal(assertion)
	if err != nil {
		return nil, fmt.Errorf("encode passkey options: %w", err)
	}
	return out, nil
}

// FinishSecondStep completes a login's second step with a passkey, counted
// per account and IP like a code. device is the browser's device cookie
// (see VerifyLoginFactorOnDevice). It returns the session's new token.
func (p *Passkeys) FinishSecondStep(ctx context.Context, cur *Current, response []byte, device, ip string) (string, error) {
	a := p.A
	if !cur.NeedsSecondFactor {
		return "", apperr.New(apperr.Conflict, "stage.wrong")
	}
	if err := a.attempt(ctx, cur.User.ID, "", ip); err != nil {
		return "", err
	}
	session, err := p.takeChallenge(ctx, challengeLookup(challengeSecond, cur.Session.ID))
	if err != nil {
		return "", p.refused(ctx, cur.User.ID, "login", ip, err)
	}
	user, rows, err := loadPasskeyUser(ctx, a.DB, cur.row())
	if err != nil {
		return "", err
	}
	a.checking(FactorPasskey)
	cred, err := p.validateLogin(user, session, response)
	if err != nil {
		return "", p.refused(ctx, cur.User.ID, "login", ip, err)
	}
	var token string
	mailed := false
	err = a.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := a.Now().UTC()
		if err := usePasskey(ctx, tx, rows, cred, now); err != nil {
			return err
		}
		var err error
		if mailed, err = a.loginCompleted(ctx, tx, cur.row(), "login.ok", FactorPasskey, device, ip, now); err != nil {
			return err
		}
		token, err = a.Sessions.Rotate(ctx, tx, cur.Session.ID, true)
		return err
	})
	if errors.Is(err, errPasskeyRefused) {
		return "", p.refused(ctx, cur.User.ID, "login", ip, errors.New("counter did not go up"))
	}
	if err != nil {
		return "", fmt.Errorf("passkey second step: %w", err)
	}
	if mailed {
		a.queued()
	}
	a.succeeded(ctx, cur.User.ID)
	return token, nil
}

// validateLogin parses and verifies an assertion for user; a counter at or
// below the stored one is refused.
func (p *Passkeys) validateLogin(user *passkeyUser, session *webauthn.SessionData, response []byte) (*webauthn.Credential, error) {
	parsed, err := parseAssertion(response)
	if err != nil {
		return nil, err
	}
	cred, err := p.webAuthn.ValidateLogin(user, *session, parsed)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	if cred.Authenticator.CloneWarning {
		return nil, errors.New("counter did not go up")
	}
	return cred, nil
}

func parseAssertion(response []byte) (*protocol.ParsedCredentialAssertionData, error) {
	if len(response) == 0 || len(response) > maxPasskeyResponse {
		return nil, errors.New("no or too large answer")
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	return parsed, nil
}

// usePasskey stores the new counter of the passkey cred (one of rows) and
// when it was used, only if the counter is still the one the check saw;
// else errPasskeyRefused.
func usePasskey(ctx context.Context, tx bun.Tx, rows []db.Passkey, cred *webauthn.Credential, now time.Time) error {
	var row *db.Passkey
	for i := range rows {
		if bytes.Equal(rows[i].CredentialID, cred.ID) {
			row = &rows[i]
		}
	}
	if row == nil {
		return errPasskeyRefused
	}
	record, err := json.Marshal(cred)
	if err != nil {
		return fmt.Errorf("encode passkey: %w", err)
	}
	res, err := tx.NewUpdate().Model((*db.Passkey)(nil)).Set("sign_count = ?", int64(cred.Authenticator.SignCount)).
		Set("credential = ?", string(record)).Set("last_used_at = ?", now).
		Where("id = ? AND sign_count = ?", row.ID, row.SignCount).Exec(ctx)
	if err != nil {
		return fmt.Errorf("mark passkey used: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errPasskeyRefused
	}
	return nil
}

// loginCompleted records a completed login of u, in its transaction: the
// time, the audit row (kind, with detail), and the mail about a browser
// without the account's device mark (after the first visit). It reports
// whether a mail was queued.
func (a *Accounts) loginCompleted(ctx context.Context, tx bun.Tx, u *db.User, kind, detail, device, ip string, now time.Time) (bool, error) {
	if _, err := tx.NewUpdate().Model((*db.User)(nil)).Set("last_login_at = ?", now).Where("id = ?", u.ID).Exec(ctx); err != nil {
		return false, fmt.Errorf("record login: %w", err)
	}
	if err := Audit(ctx, tx, AuditEntry{UserID: &u.ID, Kind: kind, Detail: detail, IP: ip, Now: now}); err != nil {
		return false, err
	}
	if _, known := a.deviceOf(device, u.ID); !known && onboardedUser(u) {
		if err := a.queueSecurityMail(ctx, tx, u, SecurityNewBrowser, now); err != nil {
			return false, err
		}
		return true, nil
	}
	return false, nil
}

// BeginLogin starts a login with a passkey alone (no address, no
// password): the options for navigator.credentials.get, without a list of
// passkeys, so that the browser offers those it has for this site (also
// as autofill in the address field). The challenge is bound to the
// browser by the returned token, which the caller keeps in a cookie.
func (p *Passkeys) BeginLogin(ctx context.Context, ip string) (options []byte, browserToken string, err error) {
	// Every view of the login page asks (for the autofill), so the options
	// have a bucket of their own; only an answer counts as a login.
	if ok, wait, err := p.A.Limiter.Allow(ctx, IPKey("passkey", ip), passkeyOptionsPerIP, 15*time.Minute); err != nil {
		return nil, "", err
	} else if !ok {
		return nil, "", tooMany("", wait)
	}
	assertion, session, err := p.webAuthn.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, "", fmt.Errorf("begin passkey login: %w", err)
	}
	token, hash := NewToken()
	if err := p.storeChallenge(ctx, challengePasskeyIn+":"+hex.EncodeToString(hash), nil, session); err != nil {
		return nil, "", err
	}
	out, err := marshalOptions(assertion)
	return out, token, err
}

// FinishLogin completes a login with a passkey alone: the passkey names the
// person, and its verified user counts as both factors, so the new session
// has passed the second step. Attempts are counted per IP and, once the
// passkey names an account, per account, before the signature is checked.
// A refusal is audited for the account it names. It returns the new
// session's token.
func (p *Passkeys) FinishLogin(ctx context.Context, browserToken string, response []byte, device, ip, userAgent string) (string, error) {
	a := p.A
	if ok, wait, err := a.Limiter.Allow(ctx, IPKey("login", ip), 100, 15*time.Minute); err != nil {
		return "", err
	} else if !ok {
		return "", tooMany("", wait)
	}
	if !ValidToken(browserToken) {
		return "", p.refused(ctx, 0, "login", ip, errPasskeyRefused)
	}
	session, err := p.takeChallenge(ctx, challengePasskeyIn+":"+hex.EncodeToString(HashToken(browserToken)))
	if err != nil {
		return "", p.refused(ctx, 0, "login", ip, err)
	}
	parsed, err := parseAssertion(response)
	if err != nil {
		return "", p.refused(ctx, 0, "login", ip, err)
	}
	var pk db.Passkey
	err = a.DB.NewSelect().Model(&pk).Where("credential_id = ?", parsed.RawID).Scan(ctx)
	if db.ErrNoRows(err) {
		return "", p.refused(ctx, 0, "login", ip, errors.New("unknown passkey"))
	}
	if err != nil {
		return "", fmt.Errorf("passkey login: load passkey: %w", err)
	}
	var u db.User
	if err := a.DB.NewSelect().Model(&u).Where("id = ?", pk.UserID).Scan(ctx); err != nil {
		return "", fmt.Errorf("passkey login: load user: %w", err)
	}
	if err := a.attempt(ctx, u.ID, "", ip); err != nil {
		return "", err
	}
	user, rows, err := loadPasskeyUser(ctx, a.DB, &u)
	if err != nil {
		return "", err
	}
	a.checking(FactorPasskey)
	_, cred, err := p.webAuthn.ValidatePasskeyLogin(func(rawID, userHandle []byte) (webauthn.User, error) {
		if !bytes.Equal(rawID, pk.CredentialID) {
			return nil, errors.New("another passkey")
		}
		user.handle = pk.UserHandle
		return user, nil
	}, *session, parsed)
	switch {
	case err != nil:
		return "", p.refused(ctx, u.ID, "login", ip, fmt.Errorf("verify: %w", err))
	case cred.Authenticator.CloneWarning:
		return "", p.refused(ctx, u.ID, "login", ip, errors.New("counter did not go up"))
	case u.Status == db.StatusDisabled:
		return "", p.refused(ctx, u.ID, "login", ip, errors.New("account disabled"))
	}
	if viaSSO, err := ssoRequired(ctx, a.DB, u.ID); err != nil {
		return "", fmt.Errorf("passkey login: %w", err)
	} else if viaSSO {
		a.audit(ctx, u.ID, "login.use_sso", FactorPasskey, ip)
		return "", errUseSSO()
	}
	var token string
	mailed := false
	err = a.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		now := a.Now().UTC()
		if err := usePasskey(ctx, tx, rows, cred, now); err != nil {
			return err
		}
		var err error
		if token, err = a.Sessions.Create(ctx, tx, u.ID, ip, userAgent); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model((*db.Session)(nil)).Set("second_factor_at = ?", now).
			Where("token_hash = ?", HashToken(token)).Exec(ctx); err != nil {
			return fmt.Errorf("pass second step: %w", err)
		}
		// One row: a login without password, with the passkey's name.
		mailed, err = a.loginCompleted(ctx, tx, &u, "login.passkey", FactorPasskey+" "+pk.Name, device, ip, now)
		return err
	})
	if errors.Is(err, errPasskeyRefused) {
		return "", p.refused(ctx, u.ID, "login", ip, errors.New("counter did not go up"))
	}
	if err != nil {
		return "", fmt.Errorf("passkey login: %w", err)
	}
	if mailed {
		a.queued()
	}
	a.succeeded(ctx, u.ID)
	return token, nil
}
