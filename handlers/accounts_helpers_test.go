package handlers

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"dialoog/auth"
	"dialoog/blob"
	"dialoog/components"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/notify"
	"dialoog/seal"
	"dialoog/vault"
)

// This file wires the handlers to the real services, as main does, over a
// fresh database with a clock the test moves: the tests in
// accounts_*_test.go drive the first visit and logins through HTTP only, and
// read the "sent" texts and mail from the dev outbox.

const (
	testBase     = "http://dialoog.test"
	testPassword = "paard batterij nietje correct"
	testPhone    = "+31612345678"
)

// testClock is the services' clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// realApp is the web app over real services.
type realApp struct {
	*testApp
	d   *db.DB
	v   *vault.Vault
	clk *testClock
	inv *auth.Invitations
	acc *auth.Accounts
	msg *messaging.Service
	adm *auth.Admin
	org *db.Organisation
	req *auth.MailRequests
	// setupLink is the path of the first start's link to choose the first
	// admin.
	setupLink string
}

func newRealApp(t testing.TB) *realApp { return newRealAppOn(t, dbtest.MustOpenSQLite(t)) }

// newRealAppOn wires the app over d; opts adjust the Deps (the live layer).
func newRealAppOn(t testing.TB, d *db.DB, opts ...func(*Deps)) *realApp {
	t.Helper()
	ctx := context.Background()
	v, err := vault.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	clk := &testClock{t: time.Date(2026, 2, 23, 9, 0, 0, 0, time.UTC)}
	cfg := testConfig(t, testBase)
	cfg.OrgName = "OSAW"
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sessions := &auth.Sessions{DB: d, Now: clk.Now}
	limiter := &auth.Limiter{DB: d, Now: clk.Now}
	inv := &auth.Invitations{DB: d, Outbox: notify.NewOutbox(v).WithClock(clk.Now), Mail: testMail{}, Sessions: sessions, Limiter: limiter,
		BaseURL: cfg.BaseURL, Now: clk.Now, Log: log}
	acc := &auth.Accounts{DB: d, Vault: v, Outbox: notify.NewOutbox(v).WithClock(clk.Now), Sessions: sessions, Limiter: limiter, Now: clk.Now, Log: log,
		SMSText: func(lang, code string) string { return components.SMSCodeText(lang, cfg.BaseURL.Hostname(), code) },
		BaseURL: testBase, ResetMail: testMail{}, Mail: testMail{}, VAPIDPublic: testVAPIDKey(t)}
	// Mail requests ("Wachtwoord vergeten", a new sign-up link) are worked
	// off within the request, as if the background worker were instant;
	// tests of the background path set Requested to nil and run req.
	req := auth.NewMailRequests()
	req.DB, req.Accounts, req.Invitations, req.Log = d, acc, inv, log
	inv.Requested = func() {
		if _, err := req.RunOnce(context.Background()); err != nil {
			t.Errorf("mail requests: %v", err)
		}
	}
	acc.Requested = inv.Requested
	if err := auth.EnsureTerms(ctx, d, clk.Now); err != nil {
		t.Fatal(err)
	}
	org, setupLink, err := auth.Bootstrap(ctx, inv, "OSAW")
	if err != nil {
		t.Fatal(err)
	}
	msg := &messaging.Service{
		DB: d, Vault: v, Files: &messaging.Files{Store: &blob.Dir{Root: filepath.Join(cfg.DataDir, "attachments")}, Vault: v},
		Outbox: notify.NewOutbox(v).WithClock(clk.Now), Invitations: inv, Mail: testMail{}, BaseURL: testBase, Now: clk.Now, Log: log,
	}
	deps := Deps{
		Config: cfg, Logger: log, Health: d,
		Invitations: testInvitations{inv}, Accounts: acc, Sessions: sessions, Terms: testTerms{d, clk.Now},
		Messages: msg, Now: clk.Now, FirstAdmin: inv,
	}
	adm := &auth.Admin{Accounts: acc, Invitations: inv, HelpdeskMail: testMail{}, Teams: msg}
	deps.Admin = adm
	deps.Branding = &auth.Branding{DB: d, Now: clk.Now}
	deps.Seals = seal.NewStore(d, v, seal.Config{Now: clk.Now})
	for _, o := range opts {
		o(&deps)
	}
	app := New(deps)
	return &realApp{testApp: &testApp{app: app, logs: &logs}, d: d, v: v, clk: clk, inv: inv, acc: acc, msg: msg, adm: adm, org: org, req: req,
		setupLink: strings.TrimPrefix(setupLink, testBase)}
}

// testInvitations, testTerms and testMail are the adapters main has in
// wiring.go.
type testInvitations struct{ inv *auth.Invitations }

func (a testInvitations) Check(ctx context.Context, token string) (InvitationInfo, error) {
	i, err := a.inv.Check(ctx, token)
	return InvitationInfo{Email: i.Email, OrgID: i.OrgID, OrgName: i.OrgName, Language: i.Language, ExpiresAt: i.ExpiresAt}, err
}

func (a testInvitations) Accept(ctx context.Context, token, ip, userAgent, lang string) (string, string, error) {
	tok, stage, err := a.inv.AcceptIn(ctx, token, ip, userAgent, lang)
	return tok, string(stage), err
}

func (a testInvitations) IsFor(ctx context.Context, token string, userID int64) (bool, error) {
	return a.inv.IsFor(ctx, token, userID)
}

func (a testInvitations) RequestNewLink(ctx context.Context, email, ip, _ string) error {
	return a.inv.RequestNewLink(ctx, email, ip)
}

type testTerms struct {
	d   *db.DB
	now func() time.Time
}

func (s testTerms) Current(ctx context.Context) (TermsVersion, error) {
	t, err := auth.CurrentTerms(ctx, s.d)
	if err != nil {
		return TermsVersion{}, err
	}
	return TermsVersion{ID: t.ID, Version: t.Version, NL: t.Body, EN: t.BodyEN, PublishedAt: t.PublishedAt}, nil
}

func (s testTerms) Version(ctx context.Context, version int) (TermsVersion, error) {
	t, err := auth.TermsByVersion(ctx, s.d, version)
	if err != nil {
		return TermsVersion{}, err
	}
	return TermsVersion{ID: t.ID, Version: t.Version, NL: t.Body, EN: t.BodyEN, PublishedAt: t.PublishedAt}, nil
}

func (s testTerms) Publish(ctx context.Context, cur *auth.Current, nl, en string) (TermsVersion, error) {
	t, err := auth.PublishTermsInBeheer(ctx, s.d, cur, nl, en, s.now)
	if err != nil {
		return TermsVersion{}, err
	}
	return TermsVersion{ID: t.ID, Version: t.Version, NL: t.Body, EN: t.BodyEN, PublishedAt: t.PublishedAt}, nil
}

func (s testTerms) Shared(ctx context.Context) (bool, error) { return auth.TermsShared(ctx, s.d) }

type testMail struct{}

func (testMail) InvitationMail(lang, orgName, link, baseURL string) (notify.Mail, error) {
	v := components.InvitationMail{Lang: lang, OrgName: orgName, SignUpURL: link, LoginURL: baseURL}
	return notify.Mail{Subject: components.InvitationMailSubject(v), Text: components.InvitationMailText(v)}, nil
}

// BrandedInvitationMail renders the real mail in the organisation's house
// style, so tests can check what it shows and that it is escaped.
func (testMail) BrandedInvitationMail(lang string, b auth.OrgBrand, link, baseURL string) (notify.Mail, error) {
	v := components.BrandedInvitationMail(lang, b.Name, b.Colour, b.LogoPath(), link, baseURL)
	var html bytes.Buffer
	if err := components.InvitationMailHTML(v).Render(context.Background(), &html); err != nil {
		return notify.Mail{}, err
	}
	return notify.Mail{Subject: components.InvitationMailSubject(v), HTML: html.String(), Text: components.InvitationMailText(v)}, nil
}

// NewMessageMail renders the real mail, so tests can check that it holds
// nothing of the message.
func (testMail) NewMessageMail(lang, from, link string) (notify.Mail, error) {
	v := components.NewMessageMail{Lang: lang, From: from, LoginURL: link}
	var html bytes.Buffer
	if err := components.NewMessageMailHTML(v).Render(context.Background(), &html); err != nil {
		return notify.Mail{}, err
	}
	return notify.Mail{Subject: components.NewMessageMailSubject(v), HTML: html.String(), Text: components.NewMessageMailText(v)}, nil
}

func (testMail) PasswordResetMail(lang, link string) (notify.Mail, error) {
	v := components.PasswordResetMail{Lang: lang, ResetURL: link}
	var html bytes.Buffer
	if err := components.PasswordResetMailHTML(v).Render(context.Background(), &html); err != nil {
		return notify.Mail{}, err
	}
	return notify.Mail{Subject: components.PasswordResetMailSubject(v), HTML: html.String(), Text: components.PasswordResetMailText(v)}, nil
}

func (testMail) HelpdeskResetMail(lang, link string) (notify.Mail, error) {
	v := components.HelpdeskResetMail{Lang: lang, Link: link}
	return notify.Mail{Subject: components.HelpdeskResetMailSubject(v), Text: components.HelpdeskResetMailText(v)}, nil
}

func (testMail) SecurityMail(lang string, event auth.SecurityEvent, at time.Time) (notify.Mail, error) {
	v := components.SecurityMail{Lang: lang, Event: string(event), At: at}
	return notify.Mail{Subject: components.SecurityMailSubject(v), Text: components.SecurityMailText(v)}, nil
}

// get and post are the browser's requests; post adds the CSRF token from
// the cookie, as the page's hidden field would.
func (b *browser) get(target string, headers ...string) (*http.Response, string) {
	b.t.Helper()
	return b.do(http.MethodGet, target, nil, headers...)
}

func (b *browser) post(target string, form url.Values, headers ...string) (*http.Response, string) {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set(csrfField, b.csrf())
	return b.do(http.MethodPost, target, form, headers...)
}

func (b *browser) csrf() string {
	b.t.Helper()
	if c, ok := b.cookies[csrfCookie]; ok {
		return c.Value
	}
	b.get("/")
	c, ok := b.cookies[csrfCookie]
	if !ok {
		b.t.Fatal("no CSRF cookie")
	}
	return c.Value
}

// session returns the session cookie's value, "" when there is none.
func (b *browser) session() string {
	if c, ok := b.cookies[sessionCookie]; ok {
		return c.Value
	}
	return ""
}

// wantRedirect checks a 303 to location.
func wantRedirect(t *testing.T, resp *http.Response, location string) {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != location {
		t.Fatalf("%s %s: status %d to %q, want 303 to %q", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, resp.Header.Get("Location"), location)
	}
}

// follow GETs the Location of a redirect.
func (b *browser) follow(resp *http.Response, headers ...string) (*http.Response, string) {
	b.t.Helper()
	loc := resp.Header.Get("Location")
	if loc == "" {
		b.t.Fatalf("%s %s: no Location (status %d)", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode)
	}
	return b.get(loc, headers...)
}

// invite creates an invitation and returns its link's path.
func (ra *realApp) invite(t *testing.T, in auth.InviteInput) string {
	t.Helper()
	if in.OrgID == 0 {
		in.OrgID = ra.org.ID
	}
	link, _, err := ra.inv.Invite(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(link, testBase)
}

// signUp opens an invitation link and presses AANMELDEN; the browser is
// then at the terms step.
func (ra *realApp) signUp(t *testing.T, in auth.InviteInput) *browser {
	t.Helper()
	b := ra.browser(t)
	link := ra.invite(t, in)
	resp, _ := b.get(link)
	wantStatus(t, resp, http.StatusOK)
	resp, _ = b.post(link, nil)
	wantRedirect(t, resp, pathTerms)
	if b.session() == "" {
		t.Fatal("no session after sign-up")
	}
	return b
}

var versionField = regexp.MustCompile(`name="version" value="(\d+)"`)

// acceptTerms accepts the terms shown; the browser then goes to the
// password step, or to then when given.
func acceptTerms(t *testing.T, b *browser, then ...string) {
	t.Helper()
	next := pathPassword
	if len(then) > 0 {
		next = then[0]
	}
	resp, page := b.get(pathTerms)
	wantStatus(t, resp, http.StatusOK)
	m := versionField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no version field:\n%s", page)
	}
	resp, _ = b.post(pathTerms, url.Values{"version": {m[1]}, "accept": {"yes"}})
	wantRedirect(t, resp, next)
}

func setPassword(t *testing.T, b *browser) {
	t.Helper()
	resp, _ := b.post(pathPassword, url.Values{"password": {testPassword}, "confirm": {testPassword}})
	wantRedirect(t, resp, pathSMS)
}

// setUpSMS texts a code to phone and confirms it; the app page is next.
func (ra *realApp) setUpSMS(t *testing.T, b *browser, phone string) {
	t.Helper()
	resp, _ := b.post(pathSMS, url.Values{"phone": {phone}})
	wantRedirect(t, resp, pathSMS)
	resp, _ = b.post(pathSMS+"/code", url.Values{"code": {ra.lastSMSCode(t, phone)}})
	wantRedirect(t, resp, pathApp)
}

var secretPattern = regexp.MustCompile(`<code id="app-secret" class="secret__value">([A-Z2-7 ]+)</code>`)

// appSecret reads the secret, in groups of four, from the app page.
func appSecret(t *testing.T, page string) string {
	t.Helper()
	m := secretPattern.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no secret on the app page:\n%s", page)
	}
	return m[1]
}

// setUpApp links an app and returns its secret; the recovery codes are next.
func (ra *realApp) setUpApp(t *testing.T, b *browser) string {
	t.Helper()
	resp, page := b.get(pathApp)
	wantStatus(t, resp, http.StatusOK)
	secret := appSecret(t, page)
	resp, _ = b.post(pathApp, url.Values{"code": {totp(t, secret, ra.clk.Now())}})
	wantRedirect(t, resp, pathRecovery)
	return secret
}

var recoveryCodeInPage = regexp.MustCompile(`<li><code>([a-z2-7]{5}-[a-z2-7]{5})</code></li>`)

// storeRecoveryCodes shows the codes, confirms them and returns them.
func storeRecoveryCodes(t *testing.T, b *browser) []string {
	t.Helper()
	resp, page := b.get(pathRecovery)
	wantStatus(t, resp, http.StatusOK)
	var codes []string
	for _, m := range recoveryCodeInPage.FindAllStringSubmatch(page, -1) {
		codes = append(codes, m[1])
	}
	resp, _ = b.post(pathRecovery, url.Values{"stored": {"yes"}, "code": codes})
	wantRedirect(t, resp, pathProfile)
	return codes
}

func saveProfile(t *testing.T, b *browser) {
	t.Helper()
	resp, _ := b.post(pathProfile, url.Values{"gender": {"male"}, "initials": {"J."}, "first_name": {"Jan"}, "name_prefix": {"van der"}, "last_name": {"Berg"}})
	wantRedirect(t, resp, pathInbox)
}

// account is a user who completed the first visit.
type account struct {
	email         string
	b             *browser // signed in
	secret        string   // of the app, "" without
	recoveryCodes []string
}

// onboard takes a new user through the whole first visit with SMS and,
// when withApp, an app (verified a minute after SMS, so it is the last
// used factor).
func (ra *realApp) onboard(t *testing.T, in auth.InviteInput, withApp bool) *account {
	t.Helper()
	b := ra.signUp(t, in)
	acceptTerms(t, b)
	setPassword(t, b)
	ra.setUpSMS(t, b, testPhone)
	a := &account{email: in.Email, b: b}
	if withApp {
		ra.clk.Add(time.Minute)
		a.secret = ra.setUpApp(t, b)
	} else {
		resp, _ := b.post(pathApp+"/overslaan", nil)
		wantRedirect(t, resp, pathRecovery)
	}
	a.recoveryCodes = storeRecoveryCodes(t, b)
	saveProfile(t, b)
	return a
}

// login posts mail address and password in a fresh browser; the browser is
// then at the second step.
func (ra *realApp) login(t *testing.T, email string) *browser {
	t.Helper()
	b := ra.browser(t)
	resp, _ := b.post(pathLogin, url.Values{"email": {email}, "password": {testPassword}})
	wantRedirect(t, resp, pathLoginFactor)
	return b
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// lastSMS reads the newest text to phone from the outbox.
func (ra *realApp) lastSMS(t *testing.T, phone string) string {
	t.Helper()
	s, err := notify.LatestDevSMSTo(context.Background(), ra.d, ra.v, phone)
	if err != nil {
		t.Fatal(err)
	}
	return s.Body
}

// lastSMSCode reads the code of the newest text to phone.
func (ra *realApp) lastSMSCode(t *testing.T, phone string) string {
	t.Helper()
	return sixDigits.FindString(ra.lastSMS(t, phone))
}

// smsCount counts the texts queued for phone.
func (ra *realApp) smsCount(t *testing.T, phone string) int {
	t.Helper()
	n, err := ra.d.NewSelect().Model((*db.OutboxItem)(nil)).Where("channel = ? AND recipient = ?", db.ChannelSMS, phone).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// totp computes an app's code for secret (base32, maybe grouped) at a time
// independently of the code under test: RFC 6238 over RFC 4226 HOTP with
// HMAC-SHA1, 30-second steps, 6 digits.
func totp(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(strings.ToUpper(secret), " ", ""))
	if err != nil {
		t.Fatalf("secret %q: %v", secret, err)
	}
	return hotp(key, uint64(at.Unix()/30), 6)
}

func hotp(key []byte, counter uint64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := (uint32(sum[off])&0x7f)<<24 | uint32(sum[off+1])<<16 | uint32(sum[off+2])<<8 | uint32(sum[off+3])
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}

func TestHOTPVectors(t *testing.T) {
	// RFC 4226 appendix D and RFC 6238 appendix B (SHA1, 8 digits at 59 s).
	key := []byte("12345678901234567890")
	for i, want := range []string{"755224", "287082", "359152", "969429", "338314"} {
		if got := hotp(key, uint64(i), 6); got != want {
			t.Errorf("HOTP(%d) = %s, want %s", i, got, want)
		}
	}
	if got := hotp(key, 59/30, 8); got != "94287082" {
		t.Errorf("TOTP(59) = %s, want 94287082", got)
	}
}
