package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"golang.org/x/oauth2"

	"dialoog/apperr"
	"dialoog/db"
)

// SSOReauthMaxAge is how long before the return a login at the provider
// may have happened (its ID token's auth_time) to count as "confirm it is
// you"; the flow asks for a fresh login (prompt=login, max_age=0).
const SSOReauthMaxAge = 5 * time.Minute

// authTimeSkew is how far in the future a provider's auth_time may be
// (clocks differ).
const authTimeSkew = time.Minute

// Reasons a confirmation through the provider is refused, in the audit
// ("reauth.failed", "sso <reason>") and in the message
// ("sso.reauth.<reason>").
const (
	SSOReauthState     = "state"      // not this browser's, session's or user's flow, used, or expired
	SSOReauthToken     = "token"      // code exchange or ID token refused
	SSOReauthOtherUser = "other_user" // the provider vouched for someone else
	SSOReauthTooOld    = "too_old"    // no auth_time, or not recent
)

// ReauthWays are the ways a user can "confirm it is you".
type ReauthWays struct {
	// Password: the user has a Dialoog password.
	Password bool
	// SSO: the user is linked to their organisation's provider
	// (BeginReauth may still answer that this session or the provider
	// does not allow it).
	SSO bool
}

// ReauthWays reports how cur's user can confirm it is them.
func (s *SSO) ReauthWays(ctx context.Context, cur *Current) (ReauthWays, error) {
	var w ReauthWays
	hash, err := storedPassword(ctx, s.Accounts.DB, cur.User.ID)
	if err != nil {
		return w, fmt.Errorf("sso: %w", err)
	}
	w.Password = hash != ""
	linked, err := SSOUser(ctx, s.Accounts.DB, cur.User.ID)
	if err != nil {
		return w, err
	}
	w.SSO = linked
	return w, nil
}

type ssoLinkRow struct {
	bun.BaseModel `bun:"table:sso_links"`
	UserID        int64 `bun:",pk"`
	OrgID         int64
	Subject       string
}

// reauthProvider loads what a confirmation through the provider needs:
// cur's session must have been opened through the provider of the
// organisation cur's user is linked to, and that provider must be on.
// Otherwise apperr Conflict "sso.reauth.not_sso" or "sso.reauth.off".
func (s *SSO) reauthProvider(ctx context.Context, cur *Current) (*ssoLinkRow, *ssoProviderRow, error) {
	idb := s.Accounts.DB
	var link ssoLinkRow
	err := idb.NewSelect().Model(&link).Where("user_id = ?", cur.User.ID).Scan(ctx)
	if db.ErrNoRows(err) {
		return nil, nil, apperr.New(apperr.Conflict, "sso.reauth.not_sso")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("sso: load link: %w", err)
	}
	viaSSO, err := idb.NewSelect().Model((*ssoSessionRow)(nil)).
		Where("session_id = ? AND user_id = ? AND org_id = ?", cur.Session.ID, cur.User.ID, link.OrgID).Exists(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("sso: load session: %w", err)
	}
	if !viaSSO {
		return nil, nil, apperr.New(apperr.Conflict, "sso.reauth.not_sso")
	}
	row, ok, err := s.load(ctx, idb, link.OrgID)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, apperr.New(apperr.Conflict, "sso.reauth.off")
	}
	return &link, row, nil
}

// validNext accepts an internal path to come back to: the handlers pass
// one of a fixed set; this refuses anything that could leave Dialoog.
func validNext(next string) bool {
	return len(next) > 1 && len(next) <= 200 && next[0] == '/' && next[1] != '/' &&
		!strings.ContainsAny(next, "\\?#:@\r\n\t ")
}

// BeginReauth starts "confirm it is you" through the organisation's
// provider for cur's session: an authorisation code flow with PKCE,
// state and nonce like a login, asking for a fresh login (prompt=login,
// max_age=0), bound to this session and user and to next, the page to
// return to (an internal path). A session not opened through the
// provider, or a provider that is off, is apperr Conflict
// ("sso.reauth.not_sso", "sso.reauth.off").
func (s *SSO) BeginReauth(ctx context.Context, cur *Current, next, ip string) (*SSOStart, error) {
	a := s.Accounts
	if cur.NeedsSecondFactor || cur.Stage != StageDone {
		return nil, apperr.New(apperr.Conflict, "stage.wrong")
	}
	if !validNext(next) {
		return nil, apperr.New(apperr.Invalid, "error.bad_request")
	}
	if ok, wait, err := a.Limiter.Allow(ctx, IPKey("sso", ip), 100, 15*time.Minute); err != nil {
		return nil, err
	} else if !ok {
		return nil, tooMany("", wait)
	}
	link, row, err := s.reauthProvider(ctx, cur)
	if err != nil {
		return nil, err
	}
	sid, uid := cur.Session.ID, cur.User.ID
	start, err := s.startFlow(ctx, row, &ssoLoginRow{OrgID: link.OrgID, SessionID: &sid, UserID: &uid, NextPath: next}, "store confirmation")
	if err != nil {
		return nil, err
	}
	start.opts = append(start.opts, oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("max_age", "0"),
		oauth2.SetAuthURLParam("login_hint", cur.User.Email))
	return start.url(), nil
}

// reauthClaims are the claims of an ID token a confirmation reads.
type reauthClaims struct {
	AuthTime *json.Number `json:"auth_time"`
}

// CompleteReauth finishes "confirm it is you" through the provider when
// it sends the browser back: state must be the one this browser started
// with (boundState, from its cookie), for cur's session and user, unused
// and within SSOLoginTTL; the code is exchanged and the ID token verified
// as at login (signature, issuer, audience, expiry, nonce); it must name
// the linked person (issuer and subject) and its auth_time must lie within
// SSOReauthMaxAge. Then the session is confirmed as by Confirm, and next
// (the page the flow was started for) is returned. Attempts are throttled
// and audited like other confirmations; a refusal is apperr Unauthorized
// "sso.reauth.<reason>", a wait a *WaitError.
func (s *SSO) CompleteReauth(ctx context.Context, cur *Current, state, boundState, code, ip string) (string, error) {
	a := s.Accounts
	if cur.NeedsSecondFactor || cur.Stage != StageDone {
		return "", apperr.New(apperr.Conflict, "stage.wrong")
	}
	if err := a.reauthAttempt(ctx, cur, ConfirmSSO, "", ip); err != nil {
		return "", err
	}
	refuse := func(reason, detail string) (string, error) {
		a.audit(ctx, cur.User.ID, "reauth.failed", ConfirmSSO+" "+reason+detail, ip)
		return "", apperr.New(apperr.Unauthorized, "sso.reauth."+reason)
	}
	if state == "" || len(state) > 100 || subtle.ConstantTimeCompare([]byte(state), []byte(boundState)) != 1 || code == "" || len(code) > 2048 {
		return refuse(SSOReauthState, "")
	}
	sum := sha256.Sum256([]byte(state))
	now := a.Now().UTC()
	var login ssoLoginRow
	err := a.DB.NewUpdate().Model(&login).Set("used_at = ?", now).
		Where("state_hash = ? AND used_at IS NULL AND expires_at > ? AND session_id = ? AND user_id = ?", sum[:], now, cur.Session.ID, cur.User.ID).
		Returning("*").Scan(ctx)
	if db.ErrNoRows(err) {
		return refuse(SSOReauthState, "")
	}
	if err != nil {
		return "", fmt.Errorf("sso: claim confirmation: %w", err)
	}
	link, row, err := s.reauthProvider(ctx, cur)
	if err != nil {
		if e, ok := apperr.As(err); ok {
			a.audit(ctx, cur.User.ID, "reauth.failed", ConfirmSSO+" "+strings.TrimPrefix(e.Key, "sso.reauth."), ip)
		}
		return "", err
	}
	if link.OrgID != login.OrgID {
		return refuse(SSOReauthState, ": organisation changed")
	}
	verifier, err := a.Vault.Open(login.Verifier, verifierAD(sum[:]))
	if err != nil {
		return "", fmt.Errorf("sso: open verifier: %w", err)
	}
	idt, err := s.exchangeIDToken(ctx, row, code, verifier, login.Nonce)
	var tr *tokenRefusal
	if errors.As(err, &tr) {
		a.Log.WarnContext(ctx, "sso: confirmation id token refused", "org", row.OrgID, "reason", tr.reason, "err", tr.err)
		return refuse(SSOReauthToken, ": "+tr.reason)
	}
	if err != nil {
		return "", err
	}
	if idt.Issuer != row.Issuer || idt.Subject == "" || idt.Subject != link.Subject {
		return refuse(SSOReauthOtherUser, "")
	}
	var cl reauthClaims
	if err := idt.Claims(&cl); err != nil {
		return refuse(SSOReauthToken, ": claims")
	}
	at, ok := authTime(cl.AuthTime)
	if !ok {
		return refuse(SSOReauthTooOld, ": no auth_time")
	}
	if now.Sub(at) > SSOReauthMaxAge || at.Sub(now) > authTimeSkew {
		return refuse(SSOReauthTooOld, "")
	}
	err = a.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return a.recordConfirmation(ctx, tx, cur, ConfirmSSO, ip)
	})
	if err != nil {
		return "", fmt.Errorf("sso: confirm it is you: %w", err)
	}
	if err := a.Limiter.Reset(ctx, reauthKey(cur.User.ID)); err != nil {
		return "", err
	}
	return login.NextPath, nil
}

// authTime reads an auth_time claim (seconds since the epoch).
func authTime(n *json.Number) (time.Time, bool) {
	if n == nil {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil || f <= 0 || f > math.MaxInt32*4 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0).UTC(), true
}
