package auth_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/notify"
)

const recoveryPhone = "+31612345678"

// onboarded takes email through the whole first visit with SMS and returns
// a fully signed-in session token and the recovery codes.
func (f *accFixture) onboarded(t *testing.T, email string) (string, []string) {
	t.Helper()
	ctx := context.Background()
	cur := f.cur(t, f.throughPassword(t, f.invited(t, email)))
	if _, err := f.acc.SendSetupSMS(ctx, cur, "0612345678", "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	tok, err := f.acc.VerifySetupSMS(ctx, cur, f.lastSMSCode(t, recoveryPhone), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if tok, err = f.acc.SkipApp(ctx, f.cur(t, tok)); err != nil {
		t.Fatal(err)
	}
	codes, err := f.acc.NewRecoveryCodes(ctx, f.cur(t, tok))
	if err != nil {
		t.Fatal(err)
	}
	if tok, err = f.acc.ConfirmRecoveryCodes(ctx, f.cur(t, tok), true, codes, "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	tok, err = f.acc.SaveProfile(ctx, f.cur(t, tok), auth.Profile{Initials: "J.", FirstName: "Jan", LastName: "Berg"}, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if c := f.cur(t, tok); c.Stage != auth.StageDone {
		t.Fatalf("onboarded: stage %s", c.Stage)
	}
	return tok, codes
}

// passwordOnly logs in with the password alone.
func (f *accFixture) passwordOnly(t *testing.T, email string) *auth.Current {
	t.Helper()
	res, err := f.acc.Login(context.Background(), email, goodPassword, "127.0.0.1", "t")
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	return f.cur(t, res.Token)
}

// wantNoEnrolment checks that cur can set up no factor at all.
func (f *accFixture) wantNoEnrolment(t *testing.T, cur *auth.Current, what string) {
	t.Helper()
	ctx := context.Background()
	if !cur.NeedsSecondFactor {
		t.Fatalf("%s: the session passed the second step (stage %s)", what, cur.Stage)
	}
	if _, err := f.acc.TOTPSetup(ctx, cur, "OSAW"); err == nil {
		t.Fatalf("%s: may set up an app", what)
	}
	if _, err := f.acc.SendSetupSMS(ctx, cur, "0699999999", "127.0.0.1"); err == nil {
		t.Fatalf("%s: may set up SMS", what)
	}
}

// loseFactors puts the account where yesterday's recovery code left it:
// every factor removed and the factor and recovery steps reopened, while
// the first visit was long finished.
func (f *accFixture) loseFactors(t *testing.T, email string) {
	t.Helper()
	ctx := context.Background()
	var u db.User
	if err := f.d.NewSelect().Model(&u).Where("email = ?", email).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.NewDelete().Model((*db.SecondFactor)(nil)).Where("user_id = ?", u.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.NewUpdate().Model((*db.User)(nil)).Set("second_factor_done_at = NULL").Set("recovery_confirmed_at = NULL").
		Where("id = ?", u.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestRecoveryCodeKeepsFactors: a recovery code is a way to log in, not a
// reset: the factors stay, and a password alone afterwards still needs
// one of them and can set up nothing.
func TestRecoveryCodeKeepsFactors(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		_, codes := f.onboarded(t, "jan@example.nl")
		rc := f.passwordOnly(t, "jan@example.nl")
		tok, err := f.acc.VerifyLoginFactor(ctx, rc, "recovery", codes[0], "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		cur := f.cur(t, tok)
		if cur.NeedsSecondFactor || cur.Stage != auth.StageDone {
			t.Fatalf("after a recovery code: stage %s, needs factor %v", cur.Stage, cur.NeedsSecondFactor)
		}
		if fs, _ := f.acc.LoginFactors(ctx, cur); len(fs) != 1 || fs[0].Kind != db.FactorSMS {
			t.Fatalf("a recovery code removed the factors: %+v", fs)
		}
		f.wantNoEnrolment(t, f.passwordOnly(t, "jan@example.nl"), "password after a recovery code")
	})
}

// TestNoFactorAccountOpensNothing: an account that finished its first
// visit but has no factor left (yesterday's recovery code, or an admin) is
// not onboarding: neither a password nor a password reset opens the factor
// setup; only a recovery code does, for that session, for 15 minutes.
func TestNoFactorAccountOpensNothing(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		_, codes := f.onboarded(t, "jan@example.nl")
		f.loseFactors(t, "jan@example.nl")

		f.wantNoEnrolment(t, f.passwordOnly(t, "jan@example.nl"), "password alone")

		if err := f.acc.RequestPasswordReset(ctx, "jan@example.nl", "ip"); err != nil {
			t.Fatal(err)
		}
		sess, err := f.acc.ResetPassword(ctx, resetToken(t, f), "een heel nieuw wachtwoord graag", "een heel nieuw wachtwoord graag", "ip", "t")
		if err != nil {
			t.Fatal(err)
		}
		f.wantNoEnrolment(t, f.cur(t, sess), "password reset")

		res, err := f.acc.Login(ctx, "jan@example.nl", "een heel nieuw wachtwoord graag", "127.0.0.1", "t")
		if err != nil {
			t.Fatal(err)
		}
		tok, err := f.acc.VerifyLoginFactor(ctx, f.cur(t, res.Token), "recovery", codes[1], "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		granted := f.cur(t, tok)
		if granted.NeedsSecondFactor || granted.Stage != auth.StageSecondFactor {
			t.Fatalf("after a recovery code: stage %s, needs factor %v", granted.Stage, granted.NeedsSecondFactor)
		}
		if _, err := f.acc.TOTPSetup(ctx, granted, "OSAW"); err != nil {
			t.Fatalf("the recovery session may set up a factor: %v", err)
		}
		// The grant lasts 15 minutes.
		f.clk.Add(15*time.Minute + time.Second)
		if _, err := f.acc.Resolve(ctx, tok); err == nil {
			f.wantNoEnrolment(t, f.cur(t, tok), "recovery session after 15 minutes")
		}
	})
}

func resetToken(t *testing.T, f *accFixture) string {
	t.Helper()
	m, err := notify.LatestDevMailTo(context.Background(), f.d, f.v, "jan@example.nl")
	if err != nil {
		t.Fatal(err)
	}
	return token(strings.TrimSpace(m.Text[strings.Index(m.Text, "http"):]))
}

// TestRecoveryGrantRace: eight password-only sessions try to set up a
// factor while a recovery code is used in another session; none of them
// may reach the factor setup, before, during or after it, nor may fresh
// password-only logins afterwards.
func TestRecoveryGrantRace(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		_, codes := f.onboarded(t, "jan@example.nl")
		var enrolled atomic.Int32
		try := func(token string) {
			cur, err := f.acc.Resolve(ctx, token)
			if err != nil {
				t.Errorf("resolve: %v", err)
				return
			}
			if _, err := f.acc.TOTPSetup(ctx, cur, "OSAW"); err == nil {
				enrolled.Add(1)
			}
			if _, err := f.acc.SendSetupSMS(ctx, cur, "0699999999", "127.0.0.1"); err == nil {
				enrolled.Add(1)
			}
		}
		login := func() string {
			res, err := f.acc.Login(ctx, "jan@example.nl", goodPassword, "127.0.0.1", "t")
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			return res.Token
		}
		var sessions []string
		for range 8 {
			sessions = append(sessions, login())
		}
		rc := f.cur(t, login())
		var wg sync.WaitGroup
		start := make(chan struct{})
		recovered := make(chan struct{})
		for _, tok := range sessions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				try(tok)
				<-recovered
				try(tok)
			}()
		}
		close(start)
		if _, err := f.acc.VerifyLoginFactor(ctx, rc, "recovery", codes[2], "127.0.0.1"); err != nil {
			t.Error(err)
		}
		close(recovered)
		wg.Wait()
		for range 8 {
			try(login())
		}
		if n := enrolled.Load(); n != 0 {
			t.Fatalf("%d factor setups reached by password-only sessions", n)
		}
	})
}

// TestConfirmRecoveryCodesShown: confirming that the codes are stored
// confirms the codes the page showed. When another view of the step (a
// second window, a reload) replaced them meanwhile, the confirmation is
// refused (apperr Conflict "recovery.replaced") instead of letting the
// person go on with ten codes that no longer work; the current set
// confirms.
func TestConfirmRecoveryCodesShown(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		step := recoveryStepOf(t, d)
		f, tok := step.f, step.tok
		first, err := f.acc.NewRecoveryCodes(ctx, f.cur(t, tok))
		if err != nil {
			t.Fatal(err)
		}
		second, err := f.acc.NewRecoveryCodes(ctx, f.cur(t, tok))
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.acc.ConfirmRecoveryCodes(ctx, f.cur(t, tok), true, first, "127.0.0.1")
		wantKey(t, err, "recovery.replaced")
		if c := f.cur(t, tok); c.Stage != auth.StageRecovery {
			t.Fatalf("replaced codes confirmed: stage %s", c.Stage)
		}
		_, err = f.acc.ConfirmRecoveryCodes(ctx, f.cur(t, tok), true, nil, "127.0.0.1")
		wantKey(t, err, "recovery.replaced")
		_, err = f.acc.ConfirmRecoveryCodes(ctx, f.cur(t, tok), true, append(second[:9:9], second[0]), "127.0.0.1")
		wantKey(t, err, "recovery.replaced")
		shown := make([]string, len(second))
		for i, c := range second {
			shown[i] = strings.ToUpper(c)
		}
		if tok, err = f.acc.ConfirmRecoveryCodes(ctx, f.cur(t, tok), true, shown, "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		if c := f.cur(t, tok); c.Stage != auth.StageProfile {
			t.Fatalf("after confirming: stage %s", c.Stage)
		}
	})
}

type recoveryStep struct {
	f   *accFixture
	tok string
}

// recoveryStepOf takes a new invitee to the recovery-code step.
func recoveryStepOf(t *testing.T, d *db.DB) recoveryStep {
	t.Helper()
	ctx := context.Background()
	f := newAccFixture(t, d)
	cur := f.cur(t, f.throughPassword(t, f.invited(t, "jan@example.nl")))
	if _, err := f.acc.SendSetupSMS(ctx, cur, "0612345678", "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	tok, err := f.acc.VerifySetupSMS(ctx, cur, f.lastSMSCode(t, recoveryPhone), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if tok, err = f.acc.SkipApp(ctx, f.cur(t, tok)); err != nil {
		t.Fatal(err)
	}
	return recoveryStep{f: f, tok: tok}
}

// TestRecoveryGrantBeforeProfile: a person who stored their recovery
// codes but left before saving the profile (the first visit unfinished)
// and then lost their phone logs in with a recovery code; its grant opens
// the setup of a new factor, as it does for anyone after the first visit,
// although the second-factor step of the first visit is long past.
func TestRecoveryGrantBeforeProfile(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		cur := f.cur(t, f.throughPassword(t, f.invited(t, "jan@example.nl")))
		if _, err := f.acc.SendSetupSMS(ctx, cur, "0612345678", "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		tok, err := f.acc.VerifySetupSMS(ctx, cur, f.lastSMSCode(t, recoveryPhone), "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if tok, err = f.acc.SkipApp(ctx, f.cur(t, tok)); err != nil {
			t.Fatal(err)
		}
		codes, err := f.acc.NewRecoveryCodes(ctx, f.cur(t, tok))
		if err != nil {
			t.Fatal(err)
		}
		if tok, err = f.acc.ConfirmRecoveryCodes(ctx, f.cur(t, tok), true, codes, "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		if c := f.cur(t, tok); c.Stage != auth.StageProfile {
			t.Fatalf("before the profile: stage %s", c.Stage)
		}
		tok, err = f.acc.VerifyLoginFactor(ctx, f.passwordOnly(t, "jan@example.nl"), "recovery", codes[0], "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		cur = f.cur(t, tok)
		if !cur.MayEnrolFactor {
			t.Fatalf("a recovery code's grant opens no setup (stage %s)", cur.Stage)
		}
		if _, err := f.acc.SendSetupSMS(ctx, cur, "0687654321", "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.acc.VerifySetupSMS(ctx, cur, f.lastSMSCode(t, "+31687654321"), "127.0.0.1"); err != nil {
			t.Fatalf("the new number under the grant: %v", err)
		}
	})
}
