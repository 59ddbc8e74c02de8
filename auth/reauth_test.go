package auth_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
)

func (f *accFixture) auditCount(t *testing.T, kind, detail string) int {
	t.Helper()
	n, err := f.d.NewSelect().Model((*db.AuditEvent)(nil)).Where("kind = ? AND detail = ?", kind, detail).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// TestConfirmItIsYou: "confirm it is you" is throttled per account like a
// login, audited on success and failure, and counts for five minutes in
// its session only.
func TestConfirmItIsYou(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		tok, _ := f.onboarded(t, "jan@example.nl")
		cur := f.cur(t, tok)
		if f.acc.RecentlyConfirmed(cur) {
			t.Fatal("confirmed without confirming")
		}

		// Each guess from another address: the account's own allowance.
		checked, refused := 0, 0
		for i := range 30 {
			err := f.acc.Confirm(ctx, cur, auth.ConfirmPassword, "geraden wachtwoord", "10.0.0."+strconv.Itoa(i))
			var we *auth.WaitError
			switch {
			case errors.As(err, &we):
				refused++
			case err != nil:
				wantKey(t, err, "confirm.wrong_password")
				checked++
			default:
				t.Fatal("a wrong password confirmed")
			}
		}
		if checked != 5 || refused != 25 {
			t.Fatalf("%d guesses checked, %d refused; want 5 and 25", checked, refused)
		}
		if n := f.auditCount(t, "reauth.failed", "password"); n != checked {
			t.Fatalf("%d failures audited, want %d", n, checked)
		}
		// Blocked: even the right password waits, in every session.
		var we *auth.WaitError
		if err := f.acc.Confirm(ctx, cur, auth.ConfirmPassword, goodPassword, "10.0.1.1"); !errors.As(err, &we) {
			t.Fatalf("right password while blocked: %v", err)
		}
		res, err := f.acc.Login(ctx, "jan@example.nl", goodPassword, "10.0.1.2", "t")
		if err != nil {
			t.Fatal(err)
		}
		sms, err := f.acc.SendLoginSMS(ctx, f.cur(t, res.Token), "10.0.1.2")
		if err != nil {
			t.Fatal(err)
		}
		second, err := f.acc.VerifyLoginFactor(ctx, f.cur(t, res.Token), db.FactorSMS, f.lastSMSCode(t, sms.Verified), "10.0.1.2")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.acc.Confirm(ctx, f.cur(t, second), auth.ConfirmPassword, goodPassword, "10.0.1.2"); !errors.As(err, &we) {
			t.Fatalf("right password in another session while blocked: %v", err)
		}

		f.clk.Add(we.Wait)
		if err := f.acc.Confirm(ctx, cur, auth.ConfirmPassword, goodPassword, "10.0.1.3"); err != nil {
			t.Fatalf("right password: %v", err)
		}
		if n := f.auditCount(t, "reauth.ok", "password"); n != 1 {
			t.Fatalf("%d successes audited", n)
		}
		cur = f.cur(t, tok)
		if !f.acc.RecentlyConfirmed(cur) {
			t.Fatal("not confirmed after the right password")
		}
		other := f.passwordOnly(t, "jan@example.nl")
		if f.acc.RecentlyConfirmed(other) {
			t.Fatal("a confirmation counts in another session")
		}
		f.clk.Add(auth.ConfirmTTL - time.Second)
		if !f.acc.RecentlyConfirmed(f.cur(t, tok)) {
			t.Fatal("confirmation gone before five minutes")
		}
		f.clk.Add(time.Second)
		if f.acc.RecentlyConfirmed(f.cur(t, tok)) {
			t.Fatal("confirmation still counts after five minutes")
		}
		// The success forgot the failures: a new mistake is checked.
		if err := f.acc.Confirm(ctx, cur, auth.ConfirmPassword, "nog een gok", "10.0.1.4"); errors.As(err, &we) {
			t.Fatalf("blocked after a success: %v", err)
		}
	})
}

// TestConfirmWithApp: a current app code confirms too, once.
func TestConfirmWithApp(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		cur := f.cur(t, f.throughPassword(t, f.invited(t, "app@example.nl")))
		key, err := f.acc.TOTPSetup(ctx, cur, "OSAW")
		if err != nil {
			t.Fatal(err)
		}
		tok, err := f.acc.VerifySetupTOTP(ctx, cur, totpNow(t, key.Secret, f.clk.Now()), "ip")
		if err != nil {
			t.Fatal(err)
		}
		codes, _ := f.acc.NewRecoveryCodes(ctx, f.cur(t, tok))
		tok, _ = f.acc.ConfirmRecoveryCodes(ctx, f.cur(t, tok), true, codes, "ip")
		tok, err = f.acc.SaveProfile(ctx, f.cur(t, tok), auth.Profile{Initials: "A", FirstName: "Ada", LastName: "Peters"}, "ip")
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Add(time.Minute)
		cur = f.cur(t, tok)
		code := totpNow(t, key.Secret, f.clk.Now())
		if err := f.acc.Confirm(ctx, cur, auth.ConfirmTOTP, code, "ip"); err != nil {
			t.Fatal(err)
		}
		if !f.acc.RecentlyConfirmed(f.cur(t, tok)) {
			t.Fatal("not confirmed")
		}
		wantKey(t, f.acc.Confirm(ctx, cur, auth.ConfirmTOTP, code, "ip"), "confirm.wrong_code")
		if n := f.auditCount(t, "reauth.failed", "totp"); n != 1 {
			t.Fatalf("replay audited %d times", n)
		}
	})
}
