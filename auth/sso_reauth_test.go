package auth_test

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
)

const reauthNext = "/account/tweede-stap"

// signedIn logs anna in through the provider as an existing colleague
// (past every stage) and returns her session's token.
func (f *ssoFixture) signedIn(t *testing.T) string {
	t.Helper()
	tok, err := f.login(t, "anna@osaw.example", "anna")
	if err != nil {
		t.Fatal(err)
	}
	if cur := f.cur(t, tok); cur.Stage != auth.StageDone || cur.NeedsSecondFactor {
		t.Fatalf("stage %s, needs factor %v", cur.Stage, cur.NeedsSecondFactor)
	}
	return tok
}

// reauthAt starts a confirmation for the session of tok and logs in at
// the provider as username; it returns the state the browser keeps and
// the state and code of the provider's return.
func (f *ssoFixture) reauthAt(t *testing.T, tok, username string) (bound, state, code string) {
	t.Helper()
	ctx := context.Background()
	start, err := f.sso.BeginReauth(ctx, f.cur(t, tok), reauthNext, "127.0.0.1")
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	q, err := url.Parse(start.URL)
	if err != nil {
		t.Fatal(err)
	}
	if p := q.Query(); p.Get("prompt") != "login" || p.Get("max_age") != "0" || p.Get("code_challenge_method") != "S256" ||
		p.Get("nonce") == "" || p.Get("state") != start.State {
		t.Fatalf("authorisation request %s", start.URL)
	}
	back, err := f.op.LogIn(ctx, start.URL, username)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(back)
	if err != nil {
		t.Fatal(err)
	}
	return start.State, u.Query().Get("state"), u.Query().Get("code")
}

func (f *ssoFixture) auditDetailCount(t *testing.T, kind, detail string) int {
	t.Helper()
	n, err := f.d.NewSelect().Model((*db.AuditEvent)(nil)).Where("kind = ? AND detail = ?", kind, detail).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

func (f *ssoFixture) wantReauthRefused(t *testing.T, tok string, err error, reason string) {
	t.Helper()
	if apperr.CodeOf(err) != apperr.Unauthorized || keyOf(err) != "sso.reauth."+reason {
		t.Fatalf("want refused %s, got %v", reason, err)
	}
	if f.acc.RecentlyConfirmed(f.cur(t, tok)) {
		t.Fatal("refused confirmation marked the session")
	}
	if f.kindCount(t, "reauth.failed") == 0 {
		t.Fatalf("refusal %s not audited", reason)
	}
}

func TestSSOReauth(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) { testSSOReauth(t, engine) })
	}
}

func testSSOReauth(t *testing.T, engine string) {
	ctx := context.Background()
	newF := func(t *testing.T) *ssoFixture {
		f := newSSOFixture(t, dbtest.MustOpen(t, engine), false)
		f.colleague(t, "anna@osaw.example", db.StatusActive)
		return f
	}
	t.Run("OK", func(t *testing.T) {
		f := newF(t)
		tok := f.signedIn(t)
		if f.acc.RecentlyConfirmed(f.cur(t, tok)) {
			t.Fatal("confirmed before confirming")
		}
		ways, err := f.sso.ReauthWays(ctx, f.cur(t, tok))
		if err != nil || !ways.SSO || ways.Password {
			t.Fatalf("ways %+v %v", ways, err)
		}
		bound, state, code := f.reauthAt(t, tok, "anna")
		next, err := f.sso.CompleteReauth(ctx, f.cur(t, tok), state, bound, code, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if next != reauthNext {
			t.Fatalf("next %q", next)
		}
		if !f.acc.RecentlyConfirmed(f.cur(t, tok)) {
			t.Fatal("session not confirmed")
		}
		if f.auditDetailCount(t, "reauth.ok", "sso") != 1 {
			t.Fatal("confirmation not audited as reauth.ok sso")
		}
		// The state is used once.
		_, err = f.sso.CompleteReauth(ctx, f.cur(t, tok), state, bound, code, "127.0.0.1")
		if apperr.CodeOf(err) != apperr.Unauthorized || keyOf(err) != "sso.reauth.state" {
			t.Fatalf("reused state: %v", err)
		}
		// Like a password confirmation it lapses.
		f.clk.mu.Lock()
		f.clk.t = f.clk.t.Add(auth.ConfirmTTL + time.Second)
		f.clk.mu.Unlock()
		if f.acc.RecentlyConfirmed(f.cur(t, tok)) {
			t.Fatal("confirmation did not lapse")
		}
	})
	t.Run("OtherUser", func(t *testing.T) {
		f := newF(t)
		f.colleague(t, "kees@osaw.example", db.StatusActive)
		f.op.AddUser("sub-kees", "kees", "kees@osaw.example", true, "Kees", "Smit")
		tok := f.signedIn(t)
		bound, state, code := f.reauthAt(t, tok, "kees")
		_, err := f.sso.CompleteReauth(ctx, f.cur(t, tok), state, bound, code, "127.0.0.1")
		f.wantReauthRefused(t, tok, err, auth.SSOReauthOtherUser)
	})
	t.Run("OldAuthTime", func(t *testing.T) {
		f := newF(t)
		tok := f.signedIn(t)
		f.op.Tamper(func(claims map[string]any) string {
			claims["auth_time"] = time.Now().Add(-auth.SSOReauthMaxAge - time.Minute).Unix()
			return "RS256"
		})
		bound, state, code := f.reauthAt(t, tok, "anna")
		_, err := f.sso.CompleteReauth(ctx, f.cur(t, tok), state, bound, code, "127.0.0.1")
		f.wantReauthRefused(t, tok, err, auth.SSOReauthTooOld)
	})
	t.Run("NoAuthTime", func(t *testing.T) {
		f := newF(t)
		tok := f.signedIn(t)
		f.op.Tamper(func(claims map[string]any) string {
			delete(claims, "auth_time")
			return "RS256"
		})
		bound, state, code := f.reauthAt(t, tok, "anna")
		_, err := f.sso.CompleteReauth(ctx, f.cur(t, tok), state, bound, code, "127.0.0.1")
		f.wantReauthRefused(t, tok, err, auth.SSOReauthTooOld)
	})
	t.Run("UnsignedToken", func(t *testing.T) {
		f := newF(t)
		tok := f.signedIn(t)
		f.op.Tamper(func(map[string]any) string { return "none" })
		bound, state, code := f.reauthAt(t, tok, "anna")
		_, err := f.sso.CompleteReauth(ctx, f.cur(t, tok), state, bound, code, "127.0.0.1")
		f.wantReauthRefused(t, tok, err, auth.SSOReauthToken)
	})
	t.Run("StateOfAnotherSession", func(t *testing.T) {
		f := newF(t)
		a := f.signedIn(t)
		b := f.signedIn(t)
		bound, state, code := f.reauthAt(t, a, "anna")
		// Session b with a's state (even with a's cookie) is refused...
		_, err := f.sso.CompleteReauth(ctx, f.cur(t, b), state, bound, code, "127.0.0.1")
		f.wantReauthRefused(t, b, err, auth.SSOReauthState)
		// ...and so is a state that is not this browser's.
		_, err = f.sso.CompleteReauth(ctx, f.cur(t, a), state, "other", code, "127.0.0.1")
		f.wantReauthRefused(t, a, err, auth.SSOReauthState)
		// The login's return does not take a confirmation's state.
		if _, err := f.sso.CompleteSSO(ctx, state, bound, code, "127.0.0.1", "test", ""); keyOf(err) != "sso.refused.state" {
			t.Fatalf("confirmation state at the login's return: %v", err)
		}
		// a's own flow still works.
		if _, err := f.sso.CompleteReauth(ctx, f.cur(t, a), state, bound, code, "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("NotAnSSOSession", func(t *testing.T) {
		f := newF(t)
		f.signedIn(t)
		var uid int64
		if err := f.d.NewSelect().Model((*db.User)(nil)).Column("id").Where("email = ?", "anna@osaw.example").Scan(ctx, &uid); err != nil {
			t.Fatal(err)
		}
		tok, err := f.acc.Sessions.Create(ctx, f.d, uid, "127.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		cur := f.cur(t, tok)
		if _, err := f.d.NewUpdate().Model((*db.Session)(nil)).Set("second_factor_at = ?", f.clk.Now()).Where("id = ?", cur.Session.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := f.sso.BeginReauth(ctx, f.cur(t, tok), reauthNext, "127.0.0.1"); keyOf(err) != "sso.reauth.not_sso" {
			t.Fatalf("password session: %v", err)
		}
	})
	t.Run("ProviderOff", func(t *testing.T) {
		f := newF(t)
		tok := f.signedIn(t)
		bound, state, code := f.reauthAt(t, tok, "anna")
		var org int64
		if err := f.d.NewSelect().Table("sso_providers").Column("org_id").Scan(ctx, &org); err != nil {
			t.Fatal(err)
		}
		if _, err := f.d.NewDelete().Table("sso_providers").Where("org_id = ?", org).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := f.sso.BeginReauth(ctx, f.cur(t, tok), reauthNext, "127.0.0.1"); keyOf(err) != "sso.reauth.off" {
			t.Fatalf("provider off: %v", err)
		}
		// Switched off while the person was at the provider.
		if _, err := f.sso.CompleteReauth(ctx, f.cur(t, tok), state, bound, code, "127.0.0.1"); keyOf(err) != "sso.reauth.off" {
			t.Fatalf("provider off at the return: %v", err)
		}
		if f.auditDetailCount(t, "reauth.failed", "sso off") != 1 || f.acc.RecentlyConfirmed(f.cur(t, tok)) {
			t.Fatal("return after switching off not refused and audited")
		}
	})
	t.Run("OpenRedirect", func(t *testing.T) {
		f := newF(t)
		tok := f.signedIn(t)
		for _, next := range []string{"https://evil.example/", "//evil.example", "/\\evil.example", ""} {
			if _, err := f.sso.BeginReauth(ctx, f.cur(t, tok), next, "127.0.0.1"); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("next %q: %v", next, err)
			}
		}
	})
	t.Run("Throttled", func(t *testing.T) {
		f := newF(t)
		tok := f.signedIn(t)
		var err error
		for i := 0; i < 50; i++ {
			_, err = f.sso.CompleteReauth(ctx, f.cur(t, tok), "x", "y", "code", "127.0.0.1")
			if isWait(err) {
				break
			}
		}
		if !isWait(err) {
			t.Fatalf("failed confirmations never throttled: %v", err)
		}
		if f.kindCount(t, "reauth.blocked") == 0 {
			t.Fatal("block not audited")
		}
	})
}

func isWait(err error) bool {
	var we *auth.WaitError
	return errors.As(err, &we)
}
