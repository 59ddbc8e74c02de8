package auth_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/oidctest"
)

const (
	ssoClient   = "dialoog"
	ssoSecret   = "client-secret-of-dialoog"
	ssoCallback = "http://dialoog.test" + auth.PathSSOCallback
)

type ssoFixture struct {
	*accFixture
	sso   *auth.SSO
	op    *oidctest.Provider
	ended [][]int64
}

// newSSOFixture starts a provider that knows anna (osaw.example,
// verified), piet (unverified mail), eve (a domain the organisation does
// not allow) and ext (an address of an external user), and sets it as the
// organisation's provider.
func newSSOFixture(t *testing.T, d *db.DB, createUsers bool) *ssoFixture {
	t.Helper()
	f := &ssoFixture{accFixture: newAccFixture(t, d)}
	// ID tokens carry the real time.
	f.clk.mu.Lock()
	f.clk.t = time.Now()
	f.clk.mu.Unlock()
	f.acc.SessionsEnded = func(_ context.Context, ids []int64) { f.ended = append(f.ended, ids) }
	f.op = oidctest.Start(t, ssoClient, ssoSecret, ssoCallback)
	f.op.AddUser("sub-anna", "anna", "anna@osaw.example", true, "Anna", "de Boer")
	f.op.AddUser("sub-piet", "piet", "piet@osaw.example", false, "Piet", "Jansen")
	f.op.AddUser("sub-eve", "eve", "eve@elders.example", true, "Eve", "Elders")
	f.op.AddUser("sub-ext", "ext", "jan@osaw.example", true, "Jan", "Extern")
	f.sso = &auth.SSO{Accounts: f.acc, RedirectURL: ssoCallback}
	if err := f.sso.SaveForOrg(context.Background(), f.org.ID, auth.SSOInput{Issuer: f.op.Issuer, ClientID: ssoClient,
		ClientSecret: ssoSecret, Domains: "osaw.example, zorg.example", CreateUsers: createUsers}); err != nil {
		t.Fatal(err)
	}
	return f
}

// login goes through the provider as username and returns what Dialoog
// answers to the browser's return.
func (f *ssoFixture) login(t *testing.T, typed, username string) (string, error) {
	t.Helper()
	return f.loginIn(t, typed, username, "")
}

// loginIn is login from a browser whose pages are in lang.
func (f *ssoFixture) loginIn(t *testing.T, typed, username, lang string) (string, error) {
	t.Helper()
	ctx := context.Background()
	start, err := f.sso.BeginSSO(ctx, typed, "127.0.0.1")
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	back, err := f.op.LogIn(ctx, start.URL, username)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(back)
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Scheme + "://" + u.Host + u.Path; got != ssoCallback {
		t.Fatalf("provider sent the browser to %s", got)
	}
	return f.sso.CompleteSSO(ctx, u.Query().Get("state"), start.State, u.Query().Get("code"), "127.0.0.1", "test", lang)
}

func (f *ssoFixture) wantRefused(t *testing.T, err error, reason string) {
	t.Helper()
	if apperr.CodeOf(err) != apperr.Unauthorized || keyOf(err) != "sso.refused."+reason {
		t.Fatalf("want refused %s, got %v", reason, err)
	}
	if n := f.kindCount(t, "sso.refused"); n == 0 {
		t.Fatalf("refusal %s not audited", reason)
	}
}

func (f *ssoFixture) userExists(t *testing.T, email string) bool {
	t.Helper()
	ok, err := f.d.NewSelect().Model((*db.User)(nil)).Where("email = ?", email).Exists(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestSSO(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) { testSSO(t, engine) })
	}
}

func testSSO(t *testing.T, engine string) {
	{
		t.Run("FirstLoginInTheLanguageOfThePage", func(t *testing.T) {
			// A colleague created by their first login reads on in the
			// language the login page spoke; an existing one keeps theirs.
			f := newSSOFixture(t, dbtest.MustOpen(t, engine), true)
			tok, err := f.loginIn(t, "anna@osaw.example", "anna", "en")
			if err != nil {
				t.Fatal(err)
			}
			if got := f.cur(t, tok).User.Language; got != "en" {
				t.Fatalf("created in language %q, want en", got)
			}
			tok, err = f.loginIn(t, "anna@osaw.example", "anna", "nl")
			if err != nil {
				t.Fatal(err)
			}
			if got := f.cur(t, tok).User.Language; got != "en" {
				t.Fatalf("language %q after a later login from a Dutch page, want en", got)
			}
		})
		t.Run("FirstLoginCreatesUser", func(t *testing.T) {
			f := newSSOFixture(t, dbtest.MustOpen(t, engine), true)
			tok, err := f.login(t, "anna@osaw.example", "anna")
			if err != nil {
				t.Fatal(err)
			}
			cur := f.cur(t, tok)
			if cur.NeedsSecondFactor || cur.User.Kind != db.KindInternal || cur.User.IsAdmin || *cur.User.OrgID != f.org.ID {
				t.Fatalf("session: %+v user %+v", cur, cur.User)
			}
			if cur.Stage != auth.StageTerms {
				t.Fatalf("stage %s, want terms", cur.Stage)
			}
			if cur.User.FirstName != "Anna" || cur.User.LastName != "de Boer" || cur.User.Initials != "A." {
				t.Fatalf("names %q %q %q", cur.User.Initials, cur.User.FirstName, cur.User.LastName)
			}
			terms, err := auth.CurrentTerms(context.Background(), f.d)
			if err != nil {
				t.Fatal(err)
			}
			tok, err = f.acc.AcceptTerms(context.Background(), cur, terms.ID, true, "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			if cur = f.cur(t, tok); cur.Stage != auth.StageDone || cur.NeedsSecondFactor {
				t.Fatalf("after terms: stage %s, needs factor %v", cur.Stage, cur.NeedsSecondFactor)
			}
			admitted, err := auth.LiveAdmitted(context.Background(), f.d, []int64{cur.User.ID})
			if err != nil || len(admitted) != 1 {
				t.Fatalf("live admitted: %v %v", admitted, err)
			}
			if f.kindCount(t, "sso.user_created") != 1 || f.auditCount(t, "sso.login", "sso amr=pwd acr=-") != 1 {
				t.Fatal("creation and login not audited with amr")
			}
			ev, _, err := f.acc.Activity(context.Background(), cur.User.ID, 1)
			if err != nil {
				t.Fatal(err)
			}
			kinds := map[string]bool{}
			for _, e := range ev {
				kinds[e.Kind] = true
			}
			if !kinds["sso.login"] || !kinds["sso.user_created"] {
				t.Fatalf("security activity: %+v", ev)
			}
			// A second login finds the same person; a password login does
			// not open the account (it has no password).
			if _, err := f.login(t, "osaw.example", "anna"); err != nil {
				t.Fatal(err)
			}
			if _, err := f.acc.Login(context.Background(), "anna@osaw.example", "", "127.0.0.1", "test"); apperr.CodeOf(err) != apperr.Unauthorized {
				t.Fatalf("password login of an sso user: %v", err)
			}
		})
		t.Run("FirstLoginWithoutNames", func(t *testing.T) {
			f := newSSOFixture(t, dbtest.MustOpen(t, engine), true)
			f.op.AddUser("sub-kees", "kees", "kees@osaw.example", true, "", "")
			ctx := context.Background()
			tok, err := f.login(t, "kees@osaw.example", "kees")
			if err != nil {
				t.Fatal(err)
			}
			terms, err := auth.CurrentTerms(ctx, f.d)
			if err != nil {
				t.Fatal(err)
			}
			if tok, err = f.acc.AcceptTerms(ctx, f.cur(t, tok), terms.ID, true, "127.0.0.1"); err != nil {
				t.Fatal(err)
			}
			// Without names from the provider the profile form comes next.
			cur := f.cur(t, tok)
			if cur.Stage != auth.StageProfile || cur.NeedsSecondFactor {
				t.Fatalf("stage %s, needs factor %v", cur.Stage, cur.NeedsSecondFactor)
			}
			if tok, err = f.acc.SaveProfile(ctx, cur, auth.Profile{Initials: "K.", FirstName: "Kees", LastName: "Smit"}, "127.0.0.1"); err != nil {
				t.Fatal(err)
			}
			if cur = f.cur(t, tok); cur.Stage != auth.StageDone || cur.User.Status != db.StatusActive {
				t.Fatalf("after profile: stage %s, status %s", cur.Stage, cur.User.Status)
			}
		})
		t.Run("ExistingUser", func(t *testing.T) {
			f := newSSOFixture(t, dbtest.MustOpen(t, engine), false)
			f.colleague(t, "anna@osaw.example", db.StatusActive)
			tok, err := f.login(t, "anna@osaw.example", "anna")
			if err != nil {
				t.Fatal(err)
			}
			if cur := f.cur(t, tok); cur.Stage != auth.StageDone || cur.NeedsSecondFactor {
				t.Fatalf("stage %s, needs factor %v", cur.Stage, cur.NeedsSecondFactor)
			}
			if f.kindCount(t, "sso.user_created") != 0 {
				t.Fatal("existing user created again")
			}
		})
		t.Run("CreationNotAllowed", func(t *testing.T) {
			f := newSSOFixture(t, dbtest.MustOpen(t, engine), false)
			_, err := f.login(t, "anna@osaw.example", "anna")
			f.wantRefused(t, err, auth.SSORefusedNoCreate)
			if f.userExists(t, "anna@osaw.example") {
				t.Fatal("user created although not allowed")
			}
		})
		t.Run("UnverifiedMail", func(t *testing.T) {
			f := newSSOFixture(t, dbtest.MustOpen(t, engine), true)
			_, err := f.login(t, "piet@osaw.example", "piet")
			f.wantRefused(t, err, auth.SSORefusedUnverified)
			if f.userExists(t, "piet@osaw.example") {
				t.Fatal("user created from an unverified address")
			}
		})
		t.Run("DomainNotAllowed", func(t *testing.T) {
			f := newSSOFixture(t, dbtest.MustOpen(t, engine), true)
			// The person starts at an allowed domain but the provider says
			// they are someone of another.
			_, err := f.login(t, "osaw.example", "eve")
			f.wantRefused(t, err, auth.SSORefusedDomain)
			if _, err := f.sso.BeginSSO(context.Background(), "eve@elders.example", "127.0.0.1"); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("begin at a domain without sso: %v", err)
			}
		})
		t.Run("ExternalUser", func(t *testing.T) {
			f := newSSOFixture(t, dbtest.MustOpen(t, engine), true)
			if _, _, err := f.inv.Invite(context.Background(), auth.InviteInput{Email: "jan@osaw.example", OrgID: f.org.ID}); err != nil {
				t.Fatal(err)
			}
			_, err := f.login(t, "jan@osaw.example", "ext")
			f.wantRefused(t, err, auth.SSORefusedExternal)
			if n := f.auditCount(t, "sso.refused", auth.SSORefusedExternal); n != 1 {
				t.Fatalf("refusal in the person's audit: %d", n)
			}
		})
		t.Run("DisabledUser", func(t *testing.T) {
			f := newSSOFixture(t, dbtest.MustOpen(t, engine), true)
			f.colleague(t, "anna@osaw.example", db.StatusDisabled)
			_, err := f.login(t, "anna@osaw.example", "anna")
			f.wantRefused(t, err, auth.SSORefusedDisabled)
		})
		t.Run("BadIDTokens", func(t *testing.T) {
			f := newSSOFixture(t, dbtest.MustOpen(t, engine), true)
			cases := map[string]func(c map[string]any) string{
				"WrongAudience": func(c map[string]any) string { c["aud"] = []string{"someone-else"}; return "RS256" },
				"Expired":       func(c map[string]any) string { c["exp"] = time.Now().Add(-time.Minute).Unix(); return "RS256" },
				"Unsigned":      func(c map[string]any) string { return "none" },
				"WrongIssuer":   func(c map[string]any) string { c["iss"] = "https://evil.example"; return "RS256" },
				"WrongNonce":    func(c map[string]any) string { c["nonce"] = "another"; return "RS256" },
			}
			want := map[string]string{"WrongAudience": "audience", "Expired": "expired", "Unsigned": "alg",
				"WrongIssuer": "issue", "WrongNonce": "nonce"}
			for name, tamper := range cases {
				t.Run(name, func(t *testing.T) {
					f.op.Tamper(tamper)
					defer f.op.Tamper(nil)
					_, err := f.login(t, "anna@osaw.example", "anna")
					f.wantRefused(t, err, auth.SSORefusedToken)
					var last db.AuditEvent
					if err := f.d.NewSelect().Model(&last).Where("kind = ?", "sso.refused").OrderExpr("id DESC").Limit(1).Scan(context.Background()); err != nil {
						t.Fatal(err)
					}
					if !strings.Contains(last.Detail, want[name]) {
						t.Fatalf("refused for %q, want %q", last.Detail, want[name])
					}
				})
			}
			if f.userExists(t, "anna@osaw.example") {
				t.Fatal("a bad token created the user")
			}
			// The provider's own token still works.
			if _, err := f.login(t, "anna@osaw.example", "anna"); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("StateUsedOnce", func(t *testing.T) {
			f := newSSOFixture(t, dbtest.MustOpen(t, engine), true)
			ctx := context.Background()
			start, err := f.sso.BeginSSO(ctx, "anna@osaw.example", "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			back, err := f.op.LogIn(ctx, start.URL, "anna")
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(back)
			q := u.Query()
			// Another browser (without this one's cookie) cannot finish it.
			if _, err := f.sso.CompleteSSO(ctx, q.Get("state"), "", q.Get("code"), "127.0.0.1", "test", ""); keyOf(err) != "sso.refused.state" {
				t.Fatalf("unbound state: %v", err)
			}
			if _, err := f.sso.CompleteSSO(ctx, q.Get("state"), start.State, q.Get("code"), "127.0.0.1", "test", ""); err != nil {
				t.Fatal(err)
			}
			if _, err := f.sso.CompleteSSO(ctx, q.Get("state"), start.State, q.Get("code"), "127.0.0.1", "test", ""); keyOf(err) != "sso.refused.state" {
				t.Fatalf("state used twice: %v", err)
			}
			// A login not finished within SSOLoginTTL expires.
			start, err = f.sso.BeginSSO(ctx, "anna@osaw.example", "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			f.clk.Add(auth.SSOLoginTTL + time.Second)
			if _, err := f.sso.CompleteSSO(ctx, start.State, start.State, "code", "127.0.0.1", "test", ""); keyOf(err) != "sso.refused.state" {
				t.Fatalf("expired state: %v", err)
			}
			// The daily cleanup removes them a day after they expired.
			if n, err := auth.PurgeSSOLogins(ctx, f.d, f.clk.Now()); err != nil || n != 0 {
				t.Fatalf("purged too early: %d %v", n, err)
			}
			if n, err := auth.PurgeSSOLogins(ctx, f.d, f.clk.Now().Add(25*time.Hour)); err != nil || n != 2 {
				t.Fatalf("purged %d, want 2: %v", n, err)
			}
		})
		t.Run("BackChannelLogout", func(t *testing.T) {
			f := newSSOFixture(t, dbtest.MustOpen(t, engine), true)
			ctx := context.Background()
			tok, err := f.login(t, "anna@osaw.example", "anna")
			if err != nil {
				t.Fatal(err)
			}
			other, err := f.login(t, "anna@osaw.example", "anna")
			if err != nil {
				t.Fatal(err)
			}
			// Refused: another client's token, an unsigned one, one for
			// another subject ends nothing.
			for name, raw := range map[string]string{
				"OtherAudience": f.op.LogoutToken("someone-else", "sub-anna", ""),
				"Unsigned":      oidctest.Unsigned(map[string]any{"iss": f.op.Issuer, "aud": ssoClient, "sub": "sub-anna", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix(), "events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}}}),
				"NoEvent":       f.op.Sign(map[string]any{"iss": f.op.Issuer, "aud": ssoClient, "sub": "sub-anna", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix()}),
			} {
				if err := f.sso.BackChannelLogout(ctx, f.org.ID, raw, "127.0.0.1"); apperr.CodeOf(err) != apperr.Invalid {
					t.Fatalf("%s: %v", name, err)
				}
			}
			if err := f.sso.BackChannelLogout(ctx, f.org.ID, f.op.LogoutToken(ssoClient, "sub-piet", ""), "127.0.0.1"); err != nil {
				t.Fatal(err)
			}
			f.cur(t, tok)
			if err := f.sso.BackChannelLogout(ctx, f.org.ID, f.op.LogoutToken(ssoClient, "sub-anna", ""), "127.0.0.1"); err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{tok, other} {
				if _, err := f.acc.Resolve(ctx, s); apperr.CodeOf(err) != apperr.Unauthorized {
					t.Fatalf("session still open after back-channel logout: %v", err)
				}
			}
			if len(f.ended) != 1 || len(f.ended[0]) != 2 {
				t.Fatalf("live connections told: %v", f.ended)
			}
			if f.auditCount(t, "sso.logout", "back-channel") != 1 {
				t.Fatal("logout not audited")
			}
		})
		t.Run("BackChannelLogoutOfEndedSessions", func(t *testing.T) {
			// The provider's logout after the person logged out of
			// Dialoog (or a second token for the same person) ends
			// nothing, so their security activity does not say that
			// their organisation logged them out.
			f := newSSOFixture(t, dbtest.MustOpen(t, engine), true)
			ctx := context.Background()
			tok, err := f.login(t, "anna@osaw.example", "anna")
			if err != nil {
				t.Fatal(err)
			}
			if err := f.acc.Sessions.End(ctx, tok); err != nil {
				t.Fatal(err)
			}
			if err := f.sso.BackChannelLogout(ctx, f.org.ID, f.op.LogoutToken(ssoClient, "sub-anna", ""), "127.0.0.1"); err != nil {
				t.Fatal(err)
			}
			if n := f.kindCount(t, "sso.logout"); n != 0 {
				t.Fatalf("%d sso.logout rows for a logout that ended nothing", n)
			}
			tok, err = f.login(t, "anna@osaw.example", "anna")
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if err := f.sso.BackChannelLogout(ctx, f.org.ID, f.op.LogoutToken(ssoClient, "sub-anna", ""), "127.0.0.1"); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := f.acc.Resolve(ctx, tok); apperr.CodeOf(err) != apperr.Unauthorized {
				t.Fatalf("session still open: %v", err)
			}
			if n := f.kindCount(t, "sso.logout"); n != 1 {
				t.Fatalf("%d sso.logout rows, want 1", n)
			}
		})
		t.Run("BackChannelLogoutBySID", func(t *testing.T) {
			f := newSSOFixture(t, dbtest.MustOpen(t, engine), true)
			ctx := context.Background()
			withSID := func(sid string) string {
				f.op.Tamper(func(c map[string]any) string { c["sid"] = sid; return "RS256" })
				defer f.op.Tamper(nil)
				tok, err := f.login(t, "anna@osaw.example", "anna")
				if err != nil {
					t.Fatal(err)
				}
				return tok
			}
			first, second := withSID("provider-session-1"), withSID("provider-session-2")
			if err := f.sso.BackChannelLogout(ctx, f.org.ID, f.op.LogoutToken(ssoClient, "", "provider-session-1"), "127.0.0.1"); err != nil {
				t.Fatal(err)
			}
			if _, err := f.acc.Resolve(ctx, first); apperr.CodeOf(err) != apperr.Unauthorized {
				t.Fatalf("session of the sid still open: %v", err)
			}
			f.cur(t, second)
			// A token issued before a session started (a replay) does not end it.
			old := f.op.Sign(map[string]any{"iss": f.op.Issuer, "aud": ssoClient, "sub": "sub-anna", "jti": "old",
				"iat": time.Now().Add(-10 * time.Minute).Unix(), "exp": time.Now().Add(time.Minute).Unix(),
				"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}}})
			if err := f.sso.BackChannelLogout(ctx, f.org.ID, old, "127.0.0.1"); err != nil {
				t.Fatal(err)
			}
			f.cur(t, second)
		})
		t.Run("Settings", func(t *testing.T) {
			f := newSSOFixture(t, dbtest.MustOpen(t, engine), false)
			ctx := context.Background()
			adminID := f.colleague(t, "beheer@osaw.example", db.StatusActive)
			admin := auth.ActingAs(&db.User{ID: adminID, Kind: db.KindInternal, IsAdmin: true, OrgID: &f.org.ID, Status: db.StatusActive})
			member := auth.ActingAs(&db.User{ID: adminID, Kind: db.KindInternal, OrgID: &f.org.ID, Status: db.StatusActive})
			if _, _, err := f.sso.Settings(ctx, member); apperr.CodeOf(err) != apperr.NotFound {
				t.Fatalf("member sees the settings: %v", err)
			}
			if err := f.sso.Save(ctx, member, auth.SSOInput{}, "127.0.0.1"); apperr.CodeOf(err) != apperr.NotFound {
				t.Fatalf("member saves: %v", err)
			}
			// An empty secret keeps the stored one; http is only for loopback.
			in := auth.SSOInput{Issuer: f.op.Issuer, ClientID: ssoClient, Domains: "@OSAW.example", CreateUsers: true}
			if err := f.sso.Save(ctx, admin, in, "127.0.0.1"); err != nil {
				t.Fatal(err)
			}
			s, ok, err := f.sso.Settings(ctx, admin)
			if err != nil || !ok || !s.CreateUsers || len(s.Domains) != 1 || s.Domains[0] != "osaw.example" {
				t.Fatalf("settings %+v %v %v", s, ok, err)
			}
			if _, err := f.login(t, "anna@osaw.example", "anna"); err != nil {
				t.Fatalf("login with the kept secret: %v", err)
			}
			bad := auth.SSOInput{Issuer: "http://idp.example", ClientID: "", Domains: "not a domain!"}
			err = f.sso.Save(ctx, admin, bad, "127.0.0.1")
			if fields := apperr.FieldsOf(err); len(fields) != 3 {
				t.Fatalf("bad input: %v", err)
			}
			if f.kindCount(t, "admin.sso_changed") != 2 {
				t.Fatal("changes not audited")
			}
			if err := f.sso.Remove(ctx, admin, "127.0.0.1"); err != nil {
				t.Fatal(err)
			}
			if _, err := f.sso.BeginSSO(ctx, "anna@osaw.example", "127.0.0.1"); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("begin after removal: %v", err)
			}
		})
	}
}

// colleague stores an internal user of the organisation with status and
// returns their id.
func (f *ssoFixture) colleague(t *testing.T, email, status string) int64 {
	t.Helper()
	now := f.clk.Now()
	u := &db.User{Email: email, Kind: db.KindInternal, OrgID: &f.org.ID, Status: status, Language: "nl", Gender: "unknown",
		Initials: "A.", FirstName: "Anna", LastName: "Bestaand", CreatedAt: now, UpdatedAt: now}
	if status != db.StatusInvited {
		u.ProfileCompletedAt.Time = now
	}
	if _, err := f.d.NewInsert().Model(u).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	terms, err := auth.CurrentTerms(context.Background(), f.d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.NewInsert().Model(&db.TermsAcceptance{UserID: u.ID, TermsVersionID: terms.ID, AcceptedAt: now}).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func keyOf(err error) string {
	if e, ok := apperr.As(err); ok {
		return e.Key
	}
	return ""
}

func (f *ssoFixture) kindCount(t *testing.T, kind string) int {
	t.Helper()
	n, err := f.d.NewSelect().Model((*db.AuditEvent)(nil)).Where("kind = ?", kind).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}
