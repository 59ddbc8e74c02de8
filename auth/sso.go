package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/uptrace/bun"
	"golang.org/x/oauth2"

	"dialoog/apperr"
	"dialoog/db"
	"dialoog/netguard"
	"dialoog/usertext"
)

// SSO is single sign-on: an organisation's own OpenID Connect provider,
// through which its internal users log in instead of with Dialoog's
// password and second factor (the provider's own factors count; its amr and
// acr claims are recorded). Admins set it in Beheer or with `dialoog sso`.
// External users never log in this way.
type SSO struct {
	Accounts *Accounts
	// RedirectURL is the address the provider sends the browser back to
	// (BaseURL + PathSSOCallback).
	RedirectURL string
	// Client makes the calls to providers (discovery, keys, tokens); nil
	// uses netguard.InternalClient (limited to Networks) with a 10-second
	// timeout: a provider may be in the organisation's own network, but
	// the address an admin sets must not lead the server to the cloud
	// instance's metadata service.
	Client *http.Client
	// Networks are the only non-public networks where a provider may be
	// (DIALOOG_SSO_NETWORKS): with a limit, a provider's address outside
	// them is refused when saved and not connected to. The zero value
	// limits nothing beyond InternalClient's rules.
	Networks netguard.Networks

	mu        sync.Mutex
	providers map[string]cachedProvider
	client    *http.Client // of Networks, when limited; made once
}

// PathSSOCallback is where the provider sends the browser back to.
const PathSSOCallback = "/inloggen/organisatie/terug"

// PathSSOBackChannel is, followed by the organisation's id, where its
// provider posts back-channel logout tokens.
const PathSSOBackChannel = "/inloggen/organisatie/afmelden/"

// SSOLoginTTL is how long a login started at Dialoog may take at the
// provider.
const SSOLoginTTL = 10 * time.Minute

// providerTTL is how long a provider's discovery document is kept.
const providerTTL = time.Hour

// backChannelEvent is the event a back-channel logout token carries.
const backChannelEvent = "http://schemas.openid.net/event/backchannel-logout"

// logoutSkew is how much later than a logout token's iat a session may
// have started and still be ended by it (clocks differ); a session started
// later is not ended by a replayed token.
const logoutSkew = 30 * time.Second

// Reasons for a refused single sign-on, in the audit ("sso.refused") and
// in the message the person sees ("sso.refused.<reason>").
const (
	SSORefusedState      = "state"
	SSORefusedToken      = "token"
	SSORefusedUnverified = "email_unverified"
	SSORefusedDomain     = "domain"
	SSORefusedExternal   = "external"
	SSORefusedOtherOrg   = "other_org"
	SSORefusedDisabled   = "disabled"
	SSORefusedNoCreate   = "no_account"
)

type cachedProvider struct {
	p     *oidc.Provider
	until time.Time
}

// SSOSettings is an organisation's provider as Beheer and the CLI show
// it; the client secret never leaves auth.
type SSOSettings struct {
	Issuer      string
	ClientID    string
	Domains     []string
	CreateUsers bool
	UpdatedAt   time.Time
}

// SSOInput is the provider as typed. An empty ClientSecret keeps the
// stored one.
type SSOInput struct {
	Issuer, ClientID, ClientSecret, Domains string
	CreateUsers                             bool
}

type ssoProviderRow struct {
	bun.BaseModel `bun:"table:sso_providers"`
	OrgID         int64 `bun:",pk"`
	Issuer        string
	ClientID      string
	ClientSecret  []byte
	Domains       string
	CreateUsers   bool
	UpdatedBy     *int64
	UpdatedAt     time.Time
}

type ssoLoginRow struct {
	bun.BaseModel `bun:"table:sso_logins"`
	ID            int64 `bun:",pk,autoincrement"`
	StateHash     []byte
	OrgID         int64
	Nonce         string
	Verifier      []byte
	CreatedAt     time.Time
	ExpiresAt     time.Time
	UsedAt        bun.NullTime
	// SessionID, UserID and NextPath are set for a "confirm it is you"
	// (BeginReauth): the session and user it confirms and the page to
	// return to. A login leaves them empty.
	SessionID *int64
	UserID    *int64
	NextPath  string
}

type ssoSessionRow struct {
	bun.BaseModel `bun:"table:sso_sessions"`
	SessionID     int64 `bun:",pk"`
	UserID        int64
	OrgID         int64
	Subject       string
	SID           string `bun:"sid"`
	AMR           string `bun:"amr"`
	ACR           string `bun:"acr"`
	CreatedAt     time.Time
}

// secretAD binds a sealed client secret to its organisation.
func secretAD(orgID int64) []byte { return fmt.Appendf(nil, "sso-secret|%d", orgID) }

// verifierAD binds a sealed PKCE verifier to its login.
func verifierAD(stateHash []byte) []byte { return append([]byte("sso-verifier|"), stateHash...) }

var domainRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

// MaxSSODomainsLen is the longest list of mail domains a save takes, in
// bytes: room for the 50 domains of the longest length with their
// separators. A longer list is refused; a form bounds what it reads to
// just past it, so that it never cuts a valid list to another one.
const MaxSSODomainsLen = 16 << 10

// parseDomains splits a list of mail domains on spaces and commas,
// lower-cased, without "@" or duplicates, sorted.
func parseDomains(s string) ([]string, *apperr.Error) {
	if len(s) > MaxSSODomainsLen {
		return nil, apperr.Field("domains", "sso.domains.invalid")
	}
	seen := map[string]bool{}
	var out []string
	for _, d := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		d = strings.TrimPrefix(d, "@")
		if !domainRE.MatchString(d) || len(d) > 253 {
			return nil, apperr.Field("domains", "sso.domains.invalid")
		}
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return nil, apperr.Field("domains", "sso.domains.required")
	}
	if len(out) > 50 {
		return nil, apperr.Field("domains", "sso.domains.invalid")
	}
	sort.Strings(out)
	return out, nil
}

// checkIssuer accepts an https URL, or http on a loopback host (a provider
// on the same machine, tests), but not at an address of a cloud instance's
// metadata service or another link-local one, nor at an address outside
// the operator's networks.
func checkIssuer(s string, networks netguard.Networks) (string, *apperr.Error) {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || len(s) > 500 {
		return "", apperr.Field("issuer", "sso.issuer.invalid")
	}
	// Every login fetches from the provider: not from the cloud instance's
	// metadata service (netguard.InternalClient checks the address it
	// connects to as well).
	if netguard.CheckInternalHost(u.Hostname()) != nil {
		return "", apperr.Field("issuer", "sso.issuer.network")
	}
	// Nor, where the operator limits them, from a network of the
	// operator's that is not listed (a name is checked when connecting).
	if networks.CheckHost(u.Hostname()) != nil {
		return "", apperr.Field("issuer", "sso.issuer.network_limited")
	}
	switch u.Scheme {
	case "https":
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return "", apperr.Field("issuer", "sso.issuer.https")
		}
	default:
		return "", apperr.Field("issuer", "sso.issuer.invalid")
	}
	return s, nil
}

// Settings returns the provider of the admin's organisation; ok is false
// when it has none.
func (s *SSO) Settings(ctx context.Context, cur *Current) (SSOSettings, bool, error) {
	org, err := orgOf(cur)
	if err != nil {
		return SSOSettings{}, false, err
	}
	return s.SettingsOfOrg(ctx, org)
}

// SettingsOfOrg returns the provider of organisation orgID (the CLI).
func (s *SSO) SettingsOfOrg(ctx context.Context, orgID int64) (SSOSettings, bool, error) {
	row, ok, err := s.load(ctx, s.Accounts.DB, orgID)
	if err != nil || !ok {
		return SSOSettings{}, ok, err
	}
	return SSOSettings{Issuer: row.Issuer, ClientID: row.ClientID, Domains: strings.Fields(row.Domains),
		CreateUsers: row.CreateUsers, UpdatedAt: row.UpdatedAt}, true, nil
}

func (s *SSO) load(ctx context.Context, idb bun.IDB, orgID int64) (*ssoProviderRow, bool, error) {
	var row ssoProviderRow
	err := idb.NewSelect().Model(&row).Where("org_id = ?", orgID).Scan(ctx)
	if db.ErrNoRows(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("load sso provider: %w", err)
	}
	return &row, true, nil
}

// Save stores the provider of the admin's organisation. Refused input is
// apperr Fields on "issuer", "client_id", "client_secret" and "domains";
// a domain another organisation uses is refused too.
func (s *SSO) Save(ctx context.Context, cur *Current, in SSOInput, ip string) error {
	org, err := orgOf(cur)
	if err != nil {
		return err
	}
	return s.save(ctx, org, &cur.User.ID, in, ip)
}

// SaveForOrg is Save for organisation orgID from the command line.
func (s *SSO) SaveForOrg(ctx context.Context, orgID int64, in SSOInput) error {
	return s.save(ctx, orgID, nil, in, "")
}

func (s *SSO) save(ctx context.Context, org int64, actor *int64, in SSOInput, ip string) error {
	var errs apperr.Fields
	issuer, ferr := checkIssuer(in.Issuer, s.Networks)
	if ferr != nil {
		errs = append(errs, ferr)
	}
	in.ClientID = strings.TrimSpace(in.ClientID)
	if in.ClientID == "" || len(in.ClientID) > 255 {
		errs = append(errs, apperr.Field("client_id", "sso.client_id.invalid"))
	}
	in.ClientSecret = strings.TrimSpace(in.ClientSecret)
	if len(in.ClientSecret) > 1024 {
		errs = append(errs, apperr.Field("client_secret", "sso.client_secret.invalid"))
	}
	domains, ferr := parseDomains(in.Domains)
	if ferr != nil {
		errs = append(errs, ferr)
	}
	if len(errs) > 0 {
		return errs
	}
	now := s.Accounts.Now().UTC()
	taken := apperr.Fields{apperr.Field("domains", "sso.domains.taken")}
	err := s.Accounts.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if s.Accounts.DB.Postgres() {
			// Two saves of the organisation's provider (the form sent
			// twice) take turns, so that the second replaces the first's
			// domains instead of colliding with them. SQLite's writes
			// take turns anyway.
			if _, err := tx.NewRaw("SELECT id FROM organisations WHERE id = ? FOR NO KEY UPDATE", org).Exec(ctx); err != nil {
				return fmt.Errorf("lock organisation: %w", err)
			}
		}
		old, had, err := s.load(ctx, tx, org)
		if err != nil {
			return err
		}
		sealed := s.Accounts.Vault.Seal([]byte(in.ClientSecret), secretAD(org))
		if in.ClientSecret == "" {
			if !had {
				return apperr.Fields{apperr.Field("client_secret", "sso.client_secret.required")}
			}
			sealed = old.ClientSecret
		}
		exists, err := tx.NewSelect().Table("sso_domains").Where("domain IN (?) AND org_id <> ?", bun.In(domains), org).Exists(ctx)
		if err != nil {
			return fmt.Errorf("check domains: %w", err)
		}
		if exists {
			return taken
		}
		var held []string
		if err := tx.NewSelect().Table("sso_domains").Column("domain").Where("org_id = ?", org).Scan(ctx, &held); err != nil {
			return fmt.Errorf("load domains: %w", err)
		}
		var claimed []string
		for _, d := range domains {
			if !slices.Contains(held, d) {
				claimed = append(claimed, d)
			}
		}
		if exists, err = colleaguesElsewhere(ctx, tx, org, claimed); err != nil {
			return err
		}
		if exists {
			return taken
		}
		if _, err := tx.NewDelete().Table("sso_domains").Where("org_id = ?", org).Exec(ctx); err != nil {
			return fmt.Errorf("drop domains: %w", err)
		}
		for _, d := range domains {
			if _, err := tx.NewRaw("INSERT INTO sso_domains (domain, org_id) VALUES (?, ?)", d, org).Exec(ctx); err != nil {
				return fmt.Errorf("store domain: %w", err)
			}
		}
		if _, err := tx.NewRaw(`INSERT INTO sso_providers (org_id, issuer, client_id, client_secret, domains, create_users, updated_by, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (org_id) DO UPDATE SET issuer = excluded.issuer, client_id = excluded.client_id, client_secret = excluded.client_secret,
  domains = excluded.domains, create_users = excluded.create_users, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
			org, issuer, in.ClientID, sealed, strings.Join(domains, " "), in.CreateUsers, actor, now).Exec(ctx); err != nil {
			return fmt.Errorf("store sso provider: %w", err)
		}
		detail := fmt.Sprintf("issuer %s, client %s, domains %s, create users %v, secret %s", issuer, in.ClientID,
			strings.Join(domains, " "), in.CreateUsers, map[bool]string{true: "changed", false: "kept"}[in.ClientSecret != ""])
		return Audit(ctx, tx, AuditEntry{UserID: actor, ActorID: actor, OrgID: &org, Kind: "admin.sso_changed", Detail: detail, IP: ip, Now: now})
	})
	if db.IsUniqueViolation(err) {
		// Another organisation stored one of the domains at the same
		// moment, after the check had passed in both.
		err = taken
	}
	if err != nil {
		return fmt.Errorf("save sso provider: %w", err)
	}
	return nil
}

// colleaguesElsewhere reports whether another organisation than org has
// internal users with an address in one of domains: such a domain belongs
// to that organisation, and a provider of org, which says who anyone of a
// domain is, may not claim it (first come would be first served, and could
// create accounts for its addresses not invited yet). Pass only the domains
// org does not hold yet: one it holds stays its own, whoever has a
// colleague there since. Outsiders' addresses
// do not count: an organisation's own people may take part elsewhere as
// external users. Domains are checked by parseDomains ([a-z0-9.-], no LIKE
// wildcards); a save is rare, so the scan of users' addresses is no cost
// to a page.
func colleaguesElsewhere(ctx context.Context, tx bun.Tx, org int64, domains []string) (bool, error) {
	if len(domains) == 0 {
		return false, nil
	}
	q := tx.NewSelect().Model((*db.User)(nil)).Where("kind = ? AND org_id IS NOT NULL AND org_id <> ?", db.KindInternal, org)
	q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
		for _, d := range domains {
			q = q.WhereOr("email LIKE ?", "%@"+d)
		}
		return q
	})
	exists, err := q.Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("check colleagues of domains: %w", err)
	}
	return exists, nil
}

// Remove switches single sign-on off for the admin's organisation. Its
// users who have no password of their own can no longer log in (an admin
// sends them a password reset or invites them again).
func (s *SSO) Remove(ctx context.Context, cur *Current, ip string) error {
	org, err := orgOf(cur)
	if err != nil {
		return err
	}
	return s.remove(ctx, org, &cur.User.ID, ip)
}

// RemoveForOrg is Remove for organisation orgID from the command line.
func (s *SSO) RemoveForOrg(ctx context.Context, orgID int64) error {
	return s.remove(ctx, orgID, nil, "")
}

func (s *SSO) remove(ctx context.Context, org int64, actor *int64, ip string) error {
	now := s.Accounts.Now().UTC()
	err := s.Accounts.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewDelete().Table("sso_domains").Where("org_id = ?", org).Exec(ctx); err != nil {
			return fmt.Errorf("drop domains: %w", err)
		}
		res, err := tx.NewDelete().Model((*ssoProviderRow)(nil)).Where("org_id = ?", org).Exec(ctx)
		if err != nil {
			return fmt.Errorf("drop sso provider: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return Audit(ctx, tx, AuditEntry{UserID: actor, ActorID: actor, OrgID: &org, Kind: "admin.sso_removed", IP: ip, Now: now})
	})
	if err != nil {
		return fmt.Errorf("remove sso provider: %w", err)
	}
	return nil
}

func (s *SSO) httpClient() *http.Client {
	if s.Client != nil {
		return s.Client
	}
	if !s.Networks.Limited() {
		return ssoClient
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil {
		s.client = s.Networks.Client(10 * time.Second)
	}
	return s.client
}

// ssoClient is the default Client, shared so that connections are reused.
var ssoClient = netguard.InternalClient(10 * time.Second)

// provider returns the discovered provider of issuer, cached for a while.
func (s *SSO) provider(ctx context.Context, issuer string) (*oidc.Provider, error) {
	now := time.Now()
	s.mu.Lock()
	c, ok := s.providers[issuer]
	s.mu.Unlock()
	if ok && now.Before(c.until) {
		return c.p, nil
	}
	// The provider keeps the client of this context for its key set,
	// which it shares between verifications (p.Verifier).
	dctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, s.httpClient()), 15*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(dctx, issuer)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", issuer, err)
	}
	s.mu.Lock()
	if s.providers == nil {
		s.providers = map[string]cachedProvider{}
	}
	s.providers[issuer] = cachedProvider{p: p, until: now.Add(providerTTL)}
	s.mu.Unlock()
	return p, nil
}

func (s *SSO) oauthConfig(p *oidc.Provider, row *ssoProviderRow) (*oauth2.Config, error) {
	secret, err := s.Accounts.Vault.Open(row.ClientSecret, secretAD(row.OrgID))
	if err != nil {
		return nil, fmt.Errorf("open client secret: %w", err)
	}
	return &oauth2.Config{ClientID: row.ClientID, ClientSecret: string(secret), Endpoint: p.Endpoint(),
		RedirectURL: s.RedirectURL, Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}, nil
}

func randomString() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("auth: random: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// SSOStart is a login sent to the provider: the browser goes to URL and
// keeps State (in a cookie) to prove at the return that it started it.
type SSOStart struct {
	URL, State string
}

// BeginSSO starts a login through the provider of the organisation whose
// allowed domains hold the mail address (or domain) typed. An address of
// a domain without single sign-on is apperr Invalid on "email"; a provider
// that does not answer is apperr Unavailable... reported as Internal.
func (s *SSO) BeginSSO(ctx context.Context, emailOrDomain, ip string) (*SSOStart, error) {
	a := s.Accounts
	if ok, wait, err := a.Limiter.Allow(ctx, IPKey("sso", ip), 100, 15*time.Minute); err != nil {
		return nil, err
	} else if !ok {
		return nil, tooMany("email", wait)
	}
	in := strings.ToLower(strings.TrimSpace(emailOrDomain))
	hint := ""
	domain := in
	if i := strings.LastIndexByte(in, '@'); i >= 0 {
		e, err := NormalizeEmail(in)
		if err != nil {
			return nil, err
		}
		hint, domain = e, e[i+1:]
	}
	if domain == "" {
		return nil, apperr.Field("email", "email.required")
	}
	var orgIDs []int64
	if err := a.DB.NewSelect().Table("sso_domains").Column("org_id").Where("domain = ?", domain).Scan(ctx, &orgIDs); err != nil {
		return nil, fmt.Errorf("sso: find domain: %w", err)
	}
	if len(orgIDs) == 0 {
		return nil, apperr.Field("email", "sso.unknown_domain")
	}
	row, ok, err := s.load(ctx, a.DB, orgIDs[0])
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, apperr.Field("email", "sso.unknown_domain")
	}
	start, err := s.startFlow(ctx, row, &ssoLoginRow{OrgID: row.OrgID}, "store login")
	if err != nil {
		return nil, err
	}
	if hint != "" {
		start.opts = append(start.opts, oauth2.SetAuthURLParam("login_hint", hint))
	}
	return start.url(), nil
}

// flowStart is an authorisation-code flow that startFlow stored: its
// client configuration, state and the options of its authorisation URL.
type flowStart struct {
	cfg   *oauth2.Config
	state string
	opts  []oauth2.AuthCodeOption
}

func (f *flowStart) url() *SSOStart {
	return &SSOStart{URL: f.cfg.AuthCodeURL(f.state, f.opts...), State: f.state}
}

// startFlow starts an authorisation-code flow with the provider of row:
// a new state (stored hashed), nonce and PKCE verifier (stored sealed) are
// written as login, which holds what the caller binds the flow to (the
// organisation; for a confirmation the session, user and next page).
func (s *SSO) startFlow(ctx context.Context, row *ssoProviderRow, login *ssoLoginRow, what string) (*flowStart, error) {
	a := s.Accounts
	p, err := s.provider(ctx, row.Issuer)
	if err != nil {
		return nil, fmt.Errorf("sso: %w", err)
	}
	cfg, err := s.oauthConfig(p, row)
	if err != nil {
		return nil, err
	}
	state, nonce, verifier := randomString(), randomString(), oauth2.GenerateVerifier()
	sum := sha256.Sum256([]byte(state))
	now := a.Now().UTC()
	login.StateHash, login.Nonce, login.Verifier = sum[:], nonce, a.Vault.Seal([]byte(verifier), verifierAD(sum[:]))
	login.CreatedAt, login.ExpiresAt = now, now.Add(SSOLoginTTL)
	if _, err := a.DB.NewInsert().Model(login).Exec(ctx); err != nil {
		return nil, fmt.Errorf("sso: %s: %w", what, err)
	}
	return &flowStart{cfg: cfg, state: state, opts: []oauth2.AuthCodeOption{oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)}}, nil
}

// tokenRefusal is why exchangeIDToken refused a provider's answer: reason
// ("exchange", "nonce" or the verifier's short error) goes to the audit.
type tokenRefusal struct {
	reason string
	err    error
}

func (e *tokenRefusal) Error() string { return "sso: id token refused: " + e.reason }

// exchangeIDToken trades the code of a flow that startFlow began for the
// provider's ID token, and verifies it (signature, issuer, audience,
// expiry) and its nonce. A refused answer is a *tokenRefusal.
func (s *SSO) exchangeIDToken(ctx context.Context, row *ssoProviderRow, code string, verifier []byte, nonce string) (*oidc.IDToken, error) {
	p, err := s.provider(ctx, row.Issuer)
	if err != nil {
		return nil, fmt.Errorf("sso: %w", err)
	}
	cfg, err := s.oauthConfig(p, row)
	if err != nil {
		return nil, err
	}
	xctx := context.WithValue(ctx, oauth2.HTTPClient, s.httpClient())
	tok, err := cfg.Exchange(xctx, code, oauth2.VerifierOption(string(verifier)))
	if err != nil {
		return nil, &tokenRefusal{reason: "exchange", err: err}
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: row.ClientID, Now: s.Accounts.Now}).Verify(ctx, raw)
	if err != nil {
		return nil, &tokenRefusal{reason: shortErr(err), err: err}
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return nil, &tokenRefusal{reason: "nonce"}
	}
	return idt, nil
}

// ssoClaims are the claims of an ID token that Dialoog reads.
type ssoClaims struct {
	Email         string          `json:"email"`
	EmailVerified json.RawMessage `json:"email_verified"`
	SID           string          `json:"sid"`
	AMR           []string        `json:"amr"`
	ACR           string          `json:"acr"`
	GivenName     string          `json:"given_name"`
	FamilyName    string          `json:"family_name"`
}

// verified reads email_verified, which some providers send as a string.
func (c ssoClaims) verified() bool {
	s := strings.Trim(string(c.EmailVerified), `"`)
	return s == "true"
}

// ssoRefusal is a login the provider vouched for that Dialoog refuses.
type ssoRefusal struct {
	reason string
	userID int64
}

func (r *ssoRefusal) Error() string { return "sso refused: " + r.reason }

func refusedErr(reason string) error {
	return apperr.New(apperr.Unauthorized, "sso.refused."+reason)
}

// CompleteSSO finishes a login when the provider sends the browser back:
// state must be the one this browser started with (boundState, from its
// cookie) and is used once, within SSOLoginTTL; the code is exchanged with
// the PKCE verifier; the ID token must be signed by the provider, issued
// by it, for this client, unexpired and carry the nonce. The person is the
// user with the token's verified mail address, in the organisation and an
// allowed domain, internal and not disabled; when there is none and the
// admin allows it, an internal member is created. The session needs no
// password or second factor of Dialoog's. Every refusal is
// apperr Unauthorized ("sso.refused.<reason>") and audited with its
// reason. lang is the language of the browser's pages ("nl" or "en"): a
// user the login creates gets it, so their pages, texts and mails go on
// in the language the login page spoke.
func (s *SSO) CompleteSSO(ctx context.Context, state, boundState, code, ip, userAgent, lang string) (string, error) {
	a := s.Accounts
	if ok, wait, err := a.Limiter.Allow(ctx, IPKey("code", ip), codesPerIP, codesIPWindow); err != nil {
		return "", err
	} else if !ok {
		return "", tooMany("", wait)
	}
	if state == "" || len(state) > 100 || subtle.ConstantTimeCompare([]byte(state), []byte(boundState)) != 1 || code == "" || len(code) > 2048 {
		return "", refusedErr(SSORefusedState)
	}
	sum := sha256.Sum256([]byte(state))
	now := a.Now().UTC()
	var login ssoLoginRow
	err := a.DB.NewUpdate().Model(&login).Set("used_at = ?", now).
		Where("state_hash = ? AND used_at IS NULL AND expires_at > ? AND session_id IS NULL", sum[:], now).Returning("*").Scan(ctx)
	if db.ErrNoRows(err) {
		return "", refusedErr(SSORefusedState)
	}
	if err != nil {
		return "", fmt.Errorf("sso: claim login: %w", err)
	}
	org := login.OrgID
	verifier, err := a.Vault.Open(login.Verifier, verifierAD(sum[:]))
	if err != nil {
		return "", fmt.Errorf("sso: open verifier: %w", err)
	}
	row, ok, err := s.load(ctx, a.DB, org)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", refusedErr(SSORefusedState)
	}
	idt, err := s.exchangeIDToken(ctx, row, code, verifier, login.Nonce)
	var tr *tokenRefusal
	if errors.As(err, &tr) {
		a.Log.WarnContext(ctx, "sso: id token refused", "org", org, "reason", tr.reason, "err", tr.err)
		if tr.reason == "exchange" {
			s.refused(ctx, org, 0, "token exchange", ip)
		} else {
			s.refused(ctx, org, 0, "token: "+tr.reason, ip)
		}
		return "", refusedErr(SSORefusedToken)
	}
	if err != nil {
		return "", err
	}
	var cl ssoClaims
	if err := idt.Claims(&cl); err != nil {
		s.refused(ctx, org, 0, "token: claims", ip)
		return "", refusedErr(SSORefusedToken)
	}
	var token string
	var created bool
	var refusal *ssoRefusal
	err = a.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		token, created, err = s.admit(ctx, tx, row, idt.Subject, cl, ip, userAgent, lang)
		return err
	})
	if errors.As(err, &refusal) {
		s.refused(ctx, org, refusal.userID, refusal.reason, ip)
		return "", refusedErr(refusal.reason)
	}
	if err != nil {
		return "", fmt.Errorf("sso: %w", err)
	}
	if created {
		a.Log.InfoContext(ctx, "sso: user created on first login", "org", org)
	}
	return token, nil
}

// shortErr keeps an error's message short enough for the audit.
func shortErr(err error) string {
	m := err.Error()
	if len(m) > 120 {
		m = m[:120]
	}
	return m
}

// refused records a refused single sign-on outside any transaction: for
// the person when known (their security activity), else for the
// organisation.
func (s *SSO) refused(ctx context.Context, org, userID int64, reason, ip string) {
	e := AuditEntry{OrgID: &org, Kind: "sso.refused", Detail: reason, IP: ip, Now: s.Accounts.Now()}
	if userID != 0 {
		e.UserID = &userID
	}
	if err := Audit(ctx, s.Accounts.DB, e); err != nil {
		s.Accounts.Log.ErrorContext(ctx, "audit", "kind", e.Kind, "err", err)
	}
}

// admit finds or creates the person of a verified ID token and opens
// their session, in tx; a refusal is *ssoRefusal.
func (s *SSO) admit(ctx context.Context, tx bun.Tx, row *ssoProviderRow, subject string, cl ssoClaims, ip, userAgent, language string) (string, bool, error) {
	org := row.OrgID
	if !cl.verified() {
		return "", false, &ssoRefusal{reason: SSORefusedUnverified}
	}
	email, err := NormalizeEmail(cl.Email)
	if err != nil {
		return "", false, &ssoRefusal{reason: SSORefusedUnverified}
	}
	domain := email[strings.LastIndexByte(email, '@')+1:]
	allowed := false
	for _, d := range strings.Fields(row.Domains) {
		allowed = allowed || d == domain
	}
	var u db.User
	err = tx.NewSelect().Model(&u).Where("email = ?", email).Scan(ctx)
	found := err == nil
	if err != nil && !db.ErrNoRows(err) {
		return "", false, fmt.Errorf("load user: %w", err)
	}
	switch {
	case found && u.Kind != db.KindInternal:
		return "", false, &ssoRefusal{reason: SSORefusedExternal, userID: u.ID}
	case found && (u.OrgID == nil || *u.OrgID != org):
		return "", false, &ssoRefusal{reason: SSORefusedOtherOrg}
	case !allowed:
		r := &ssoRefusal{reason: SSORefusedDomain}
		if found {
			r.userID = u.ID
		}
		return "", false, r
	case found && u.Status == db.StatusDisabled:
		return "", false, &ssoRefusal{reason: SSORefusedDisabled, userID: u.ID}
	case !found && !row.CreateUsers:
		return "", false, &ssoRefusal{reason: SSORefusedNoCreate}
	}
	now := s.Accounts.Now().UTC()
	created := false
	if !found {
		u = db.User{Email: email, Kind: db.KindInternal, OrgID: &org, Status: db.StatusInvited, Language: lang(language), Gender: "unknown",
			CreatedAt: now, UpdatedAt: now}
		first, last := clipName(cl.GivenName), clipName(cl.FamilyName)
		if first != "" && last != "" {
			// The provider's name is the profile; the person may change it
			// under "Mijn instellingen".
			u.FirstName, u.LastName, u.Initials = first, last, initialsOf(first)
			u.ProfileCompletedAt = bun.NullTime{Time: now}
			u.Status = db.StatusActive
		}
		if _, err := tx.NewInsert().Model(&u).Exec(ctx); err != nil {
			return "", false, fmt.Errorf("create user: %w", err)
		}
		created = true
		if err := Audit(ctx, tx, AuditEntry{UserID: &u.ID, OrgID: &org, Kind: "sso.user_created", Detail: "member", IP: ip, Now: now}); err != nil {
			return "", false, err
		}
	}
	if _, err := tx.NewRaw(`INSERT INTO sso_links (user_id, org_id, subject, linked_at) VALUES (?, ?, ?, ?)
ON CONFLICT (user_id) DO UPDATE SET org_id = excluded.org_id, subject = excluded.subject`, u.ID, org, subject, now).Exec(ctx); err != nil {
		return "", false, fmt.Errorf("link user: %w", err)
	}
	token, err := s.Accounts.Sessions.Create(ctx, tx, u.ID, ip, userAgent)
	if err != nil {
		return "", false, err
	}
	var sessionID int64
	if err := tx.NewUpdate().Model((*db.Session)(nil)).Set("second_factor_at = ?", now).Where("token_hash = ?", HashToken(token)).
		Returning("id").Scan(ctx, &sessionID); err != nil {
		return "", false, fmt.Errorf("mark session: %w", err)
	}
	amr := strings.Join(cl.AMR, " ")
	if len(amr) > 200 {
		amr = amr[:200]
	}
	acr := cl.ACR
	if len(acr) > 200 {
		acr = acr[:200]
	}
	if _, err := tx.NewInsert().Model(&ssoSessionRow{SessionID: sessionID, UserID: u.ID, OrgID: org, Subject: subject, SID: cl.SID,
		AMR: amr, ACR: acr, CreatedAt: now}).Exec(ctx); err != nil {
		return "", false, fmt.Errorf("store sso session: %w", err)
	}
	if _, err := tx.NewUpdate().Model((*db.User)(nil)).Set("last_login_at = ?", now).Where("id = ?", u.ID).Exec(ctx); err != nil {
		return "", false, fmt.Errorf("record login: %w", err)
	}
	detail := "sso amr=" + orDash(amr) + " acr=" + orDash(acr)
	return token, created, Audit(ctx, tx, AuditEntry{UserID: &u.ID, OrgID: &org, Kind: "sso.login", Detail: detail, IP: ip, Now: now})
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return strings.ReplaceAll(s, " ", ",")
}

func clipName(s string) string {
	s = strings.Join(strings.Fields(usertext.CleanLine(s)), " ")
	if len([]rune(s)) > 100 {
		s = string([]rune(s)[:100])
	}
	return s
}

// initialsOf makes "A.B." of the given names "Anna Bea".
func initialsOf(given string) string {
	var b strings.Builder
	for _, f := range strings.Fields(given) {
		r := []rune(f)
		b.WriteString(strings.ToUpper(string(r[0])) + ".")
	}
	return b.String()
}

// logoutClaims are the claims of a back-channel logout token.
type logoutClaims struct {
	SID    string                     `json:"sid"`
	Nonce  *string                    `json:"nonce"`
	Events map[string]json.RawMessage `json:"events"`
	IAT    int64                      `json:"iat"`
	JTI    string                     `json:"jti"`
}

// BackChannelLogout ends the Dialoog sessions that organisation orgID's
// provider names in a logout token (OIDC Back-Channel Logout 1.0): signed
// by the provider, issued by it for this client, unexpired, with the
// logout event, no nonce, and a sid or sub. Sessions opened through the
// provider with that sid (or, without one, that subject) and started
// before the token was issued end, and so do their live connections. A
// token that does not verify is apperr Invalid.
func (s *SSO) BackChannelLogout(ctx context.Context, orgID int64, raw, ip string) error {
	a := s.Accounts
	if ok, _, err := a.Limiter.Allow(ctx, IPKey("sso:logout", ip), 300, 15*time.Minute); err != nil {
		return err
	} else if !ok {
		return apperr.New(apperr.TooMany, "error.too_many")
	}
	invalid := apperr.New(apperr.Invalid, "sso.logout.invalid")
	row, ok, err := s.load(ctx, a.DB, orgID)
	if err != nil {
		return err
	}
	if !ok || raw == "" || len(raw) > 16<<10 {
		return invalid
	}
	p, err := s.provider(ctx, row.Issuer)
	if err != nil {
		return fmt.Errorf("sso: %w", err)
	}
	t, err := p.Verifier(&oidc.Config{ClientID: row.ClientID, Now: a.Now}).Verify(ctx, raw)
	if err != nil {
		a.Log.WarnContext(ctx, "sso: logout token refused", "org", orgID, "err", err)
		return invalid
	}
	var cl logoutClaims
	if err := t.Claims(&cl); err != nil {
		return invalid
	}
	if _, ok := cl.Events[backChannelEvent]; !ok || cl.Nonce != nil || (cl.SID == "" && t.Subject == "") {
		return invalid
	}
	issued := t.IssuedAt
	if issued.IsZero() {
		return invalid
	}
	var ended []int64
	now := a.Now().UTC()
	err = a.DB.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		q := tx.NewSelect().Model((*ssoSessionRow)(nil)).Column("session_id", "user_id").Where("org_id = ?", orgID).
			Where("created_at <= ?", issued.UTC().Add(logoutSkew))
		if cl.SID != "" {
			q = q.Where("sid = ?", cl.SID)
		}
		if t.Subject != "" {
			q = q.Where("subject = ?", t.Subject)
		}
		var rows []ssoSessionRow
		if err := q.Scan(ctx, &rows); err != nil {
			return fmt.Errorf("find sso sessions: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		ids := make([]int64, len(rows))
		userOf := map[int64]int64{}
		for i, r := range rows {
			ids[i] = r.SessionID
			userOf[r.SessionID] = r.UserID
		}
		if err := tx.NewUpdate().Model((*db.Session)(nil)).Set("ended_at = ?", now).
			Where("id IN (?) AND ended_at IS NULL", bun.In(ids)).Returning("id").Scan(ctx, &ended); err != nil && !db.ErrNoRows(err) {
			return fmt.Errorf("end sessions: %w", err)
		}
		// Only a person whose session this token ended was logged out by
		// the provider: after a logout of their own (which the provider
		// then reports back), or a second token, nothing happened.
		users := map[int64]bool{}
		for _, id := range ended {
			users[userOf[id]] = true
		}
		for uid := range users {
			if err := Audit(ctx, tx, AuditEntry{UserID: &uid, OrgID: &orgID, Kind: "sso.logout", Detail: "back-channel", IP: ip, Now: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sso: back-channel logout: %w", err)
	}
	a.sessionsEnded(ctx, ended)
	return nil
}

// LogoutSSO records the local logout of a session opened through the
// provider ("sso.logout", "local") and returns where the browser goes
// next so that the provider's session ends too: its
// end_session_endpoint, with the client and postLogout (a registered
// address) to come back to. "" for any other session, or a provider
// without one.
func (s *SSO) LogoutSSO(ctx context.Context, sessionID int64, postLogout, ip string) (string, error) {
	var rows []ssoSessionRow
	if err := s.Accounts.DB.NewSelect().Model(&rows).Where("session_id = ?", sessionID).Scan(ctx); err != nil {
		return "", fmt.Errorf("sso: load session: %w", err)
	}
	if len(rows) == 0 {
		return "", nil
	}
	r := rows[0]
	if err := Audit(ctx, s.Accounts.DB, AuditEntry{UserID: &r.UserID, OrgID: &r.OrgID, Kind: "sso.logout", Detail: "local", IP: ip,
		Now: s.Accounts.Now()}); err != nil {
		return "", err
	}
	row, ok, err := s.load(ctx, s.Accounts.DB, r.OrgID)
	if err != nil || !ok {
		return "", err
	}
	p, err := s.provider(ctx, row.Issuer)
	if err != nil {
		return "", fmt.Errorf("sso: %w", err)
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&meta); err != nil || meta.EndSession == "" {
		return "", nil
	}
	u, err := url.Parse(meta.EndSession)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return "", nil
	}
	q := u.Query()
	q.Set("client_id", row.ClientID)
	if postLogout != "" {
		q.Set("post_logout_redirect_uri", postLogout)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// ssoRequired reports whether userID is linked to their organisation's
// provider while the organisation's single sign-on is on. Then the
// organisation decides who gets in: a Dialoog password or passkey kept
// from before the link would still open the account of someone who left
// it. With single sign-on off they are the way in that is left.
func ssoRequired(ctx context.Context, idb bun.IDB, userID int64) (bool, error) {
	ok, err := idb.NewSelect().TableExpr("sso_links AS l").Join("JOIN sso_providers AS p ON p.org_id = l.org_id").
		Where("l.user_id = ?", userID).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("sso: load link: %w", err)
	}
	return ok, nil
}

// errUseSSO refuses a password or passkey login of a person who logs in
// through their organisation (ssoRequired).
func errUseSSO() error { return apperr.New(apperr.Conflict, "login.use_sso") }

// SSOUser reports whether the user logs in through their organisation's
// provider.
func SSOUser(ctx context.Context, idb bun.IDB, userID int64) (bool, error) {
	ok, err := idb.NewSelect().Table("sso_links").Where("user_id = ?", userID).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("sso: load link: %w", err)
	}
	return ok, nil
}
