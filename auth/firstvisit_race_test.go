package auth_test

import (
	"context"
	"fmt"
	"testing"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
)

// userAudits counts the audit rows of kind of the user behind cur.
func (f *accFixture) userAudits(t *testing.T, cur *auth.Current, kind string) int {
	t.Helper()
	n, err := f.d.NewSelect().Model((*db.AuditEvent)(nil)).Where("user_id = ? AND kind = ?", cur.User.ID, kind).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// oneStep runs the two posts of one step at once, both from cur (two tabs,
// or a double click, sent with the same cookie before either was
// answered), and checks that exactly one went through, that the other was
// told the step is no longer next, and that the winner's new session
// token still works: the loser must not rotate the session under it. It
// returns the index of the winner and its token.
func (f *accFixture) oneStep(t *testing.T, what string, a, b func() (string, error)) (int, string) {
	t.Helper()
	toks := make([]string, 2)
	ok, errs := parallel(
		func() (err error) { toks[0], err = a(); return err },
		func() (err error) { toks[1], err = b(); return err },
	)
	if ok != 1 {
		// Go on with a token that works, so that every later step is
		// checked too.
		t.Errorf("%s: %d of two posts went through (%v)", what, ok, errs)
		for i, tok := range toks {
			if _, err := f.acc.Resolve(context.Background(), tok); err == nil && errs[i] == nil {
				return i, tok
			}
		}
		t.Fatalf("%s: no working session left", what)
	}
	win := 0
	if errs[0] != nil {
		win = 1
	}
	wantKey(t, errs[1-win], "stage.wrong")
	if _, err := f.acc.Resolve(context.Background(), toks[win]); err != nil {
		t.Fatalf("%s: the winner's session: %v", what, err)
	}
	return win, toks[win]
}

// TestFirstVisitStepPostedTwice, on both engines: each step of the first
// visit posted twice at once, or a second time from a tab that still
// showed it (on SQLite, whose writers take turns, the second post always
// comes after the first, as from a stale tab), goes through once: the
// stage is checked in the transaction that moves it on. Before, both
// posts went through: two password hashes (the later one won), two
// profiles, each step audited twice, and the session rotated twice, so
// that the first answer's cookie was dead.
func TestFirstVisitStepPostedTwice(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		for round := range 3 {
			email := fmt.Sprintf("jan%d@example.nl", round)
			cur := f.cur(t, f.invited(t, email))
			terms, err := auth.CurrentTerms(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			accept := func() (string, error) { return f.acc.AcceptTerms(ctx, cur, terms.ID, true, "127.0.0.1") }
			_, tok := f.oneStep(t, "terms", accept, accept)
			if n := f.userAudits(t, cur, "terms.accepted"); n != 1 {
				t.Errorf("terms accepted %d times", n)
			}

			cur = f.cur(t, tok)
			passwords := []string{goodPassword, "zeven zwanen zwemmen zacht"}
			pwWin, tok := f.oneStep(t, "password",
				func() (string, error) {
					return f.acc.SetPassword(ctx, cur, passwords[0], passwords[0], "127.0.0.1")
				},
				func() (string, error) {
					return f.acc.SetPassword(ctx, cur, passwords[1], passwords[1], "127.0.0.1")
				})
			if n := f.userAudits(t, cur, "password.set"); n != 1 {
				t.Errorf("password set %d times", n)
			}

			cur = f.cur(t, tok)
			if _, err := f.acc.SendSetupSMS(ctx, cur, "0612345678", "127.0.0.1"); err != nil {
				t.Fatal(err)
			}
			if tok, err = f.acc.VerifySetupSMS(ctx, cur, f.lastSMSCode(t, recoveryPhone), "127.0.0.1"); err != nil {
				t.Fatal(err)
			}
			cur = f.cur(t, tok)
			skip := func() (string, error) { return f.acc.SkipApp(ctx, cur) }
			_, tok = f.oneStep(t, "skip app", skip, skip)

			cur = f.cur(t, tok)
			codes, err := f.acc.NewRecoveryCodes(ctx, cur)
			if err != nil {
				t.Fatal(err)
			}
			confirm := func() (string, error) { return f.acc.ConfirmRecoveryCodes(ctx, cur, true, codes, "127.0.0.1") }
			_, tok = f.oneStep(t, "recovery codes", confirm, confirm)

			cur = f.cur(t, tok)
			names := []string{"Jan", "Johannes"}
			win, tok := f.oneStep(t, "profile",
				func() (string, error) {
					return f.acc.SaveProfile(ctx, cur, auth.Profile{Initials: "J.", FirstName: names[0], LastName: "Berg"}, "127.0.0.1")
				},
				func() (string, error) {
					return f.acc.SaveProfile(ctx, cur, auth.Profile{Initials: "J.", FirstName: names[1], LastName: "Berg"}, "127.0.0.1")
				})
			if n := f.userAudits(t, cur, "profile.completed"); n != 1 {
				t.Errorf("profile completed %d times", n)
			}
			done := f.cur(t, tok)
			if done.Stage != auth.StageDone || done.User.FirstName != names[win] {
				t.Errorf("after the profile: stage %s, first name %q, want %q", done.Stage, done.User.FirstName, names[win])
			}
			// The password the winner was told is set is the one stored.
			if _, err := f.acc.Login(ctx, email, passwords[pwWin], "127.0.0.1", "t"); err != nil {
				t.Errorf("login with the password that won: %v", err)
			}
		}
	})
}

// TestAppLinkedWhileSkipped, on both engines: the authenticator app
// confirmed in one tab while "Overslaan" is pressed in another (SMS
// already set up) ends the step once: either the app is linked and the
// skip is told the step is done, or the step is skipped and the app's
// code is refused. Before, both went through, each rotating the session.
func TestAppLinkedWhileSkipped(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		for round := range 4 {
			email := fmt.Sprintf("jan%d@example.nl", round)
			cur := f.cur(t, f.throughPassword(t, f.invited(t, email)))
			if _, err := f.acc.SendSetupSMS(ctx, cur, fmt.Sprintf("06123456%02d", round), "127.0.0.1"); err != nil {
				t.Fatal(err)
			}
			tok, err := f.acc.VerifySetupSMS(ctx, cur, f.lastSMSCode(t, fmt.Sprintf("+316123456%02d", round)), "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			cur = f.cur(t, tok)
			key, err := f.acc.TOTPSetup(ctx, cur, "OSAW")
			if err != nil {
				t.Fatal(err)
			}
			code := totpNow(t, key.Secret, f.clk.Now())
			// Alternate which of the two starts first.
			verify := func() (string, error) { return f.acc.VerifySetupTOTP(ctx, cur, code, "127.0.0.1") }
			skip := func() (string, error) { return f.acc.SkipApp(ctx, cur) }
			if round%2 == 1 {
				verify, skip = skip, verify
			}
			_, tok = f.oneStep(t, "app or skip", verify, skip)
			if st := f.cur(t, tok).Stage; st != auth.StageRecovery {
				t.Fatalf("after the app step: stage %s", st)
			}
		}
	})
}

// TestSecondFactorNeverSkippedTwice, on both engines: "Overslaan" pressed
// in two tabs at once (one left on the SMS page, one on the app page)
// with no factor set up is refused in both: a second factor is always
// required, whatever the tabs.
func TestSecondFactorNeverSkippedTwice(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		tok := f.throughPassword(t, f.invited(t, "jan@example.nl"))
		cur := f.cur(t, tok)
		skip := func() error { _, err := f.acc.SkipApp(ctx, cur); return err }
		ok, errs := parallel(skip, skip)
		if ok != 0 {
			t.Fatalf("skipped without a factor: %v", errs)
		}
		for _, err := range errs {
			wantKey(t, err, "factor.required")
		}
		if st := f.cur(t, tok).Stage; st != auth.StageSecondFactor {
			t.Fatalf("stage %s", st)
		}
	})
}
