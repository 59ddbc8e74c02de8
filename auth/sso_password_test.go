package auth_test

import (
	"context"
	"strings"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/notify"
)

// TestSSOUserKeepsNoSideDoor: a colleague who had a Dialoog password, a
// second factor and a passkey before their first login through the
// organisation logs in through the organisation from then on. When they
// leave it, the provider no longer lets them in; the password and the
// passkey must not either. Only while the organisation's single sign-on
// is switched off do they work again, as the way in that is left.
func TestSSOUserKeepsNoSideDoor(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		f := newSSOFixture(t, d, false)
		ctx := context.Background()
		tok, _ := f.onboarded(t, "anna@osaw.example")
		if _, err := d.NewUpdate().Model((*db.User)(nil)).Set("kind = ?", db.KindInternal).Set("org_id = ?", f.org.ID).
			Where("email = ?", "anna@osaw.example").Exec(ctx); err != nil {
			t.Fatal(err)
		}
		p := f.passkeys(t)
		k := newSoftKey(t)
		f.confirm(t, tok)
		f.addPasskey(t, p, tok, k, "Laptop")
		// Before the first login through the organisation both still work.
		if _, err := f.acc.Login(ctx, "anna@osaw.example", goodPassword, "127.0.0.1", "t"); err != nil {
			t.Fatalf("password login before the link: %v", err)
		}
		if _, err := passkeyLogin(p, k); err != nil {
			t.Fatalf("passkey login before the link: %v", err)
		}
		if err := f.acc.RequestPasswordReset(ctx, "anna@osaw.example", "ip"); err != nil {
			t.Fatal(err)
		}
		oldLink := annaResetToken(t, f)
		if _, err := f.login(t, "anna@osaw.example", "anna"); err != nil {
			t.Fatal(err)
		}
		// A reset link, older or asked for now, opens nothing either: it
		// would start a session that the second factor completes.
		if _, err := f.acc.ResetPassword(ctx, oldLink, "een heel nieuw wachtwoord graag", "een heel nieuw wachtwoord graag", "ip", "t"); keyOf(err) != "reset.invalid" {
			t.Fatalf("reset link of a linked colleague: %v", err)
		}
		if err := f.acc.RequestPasswordReset(ctx, "anna@osaw.example", "ip"); err != nil {
			t.Fatal(err)
		}
		if got := annaResetToken(t, f); got != oldLink {
			t.Fatal("a reset link was mailed to a colleague who logs in through the organisation")
		}
		before := f.kindCount(t, "login.password")
		_, err := f.acc.Login(ctx, "anna@osaw.example", goodPassword, "127.0.0.1", "t")
		if keyOf(err) != "login.use_sso" {
			t.Fatalf("password login of a linked colleague: %v, want login.use_sso", err)
		}
		if _, err := passkeyLogin(p, k); keyOf(err) != "login.use_sso" {
			t.Fatalf("passkey login of a linked colleague: %v, want login.use_sso", err)
		}
		if n := f.kindCount(t, "login.password"); n != before {
			t.Fatalf("a refused login was recorded as one (%d -> %d)", before, n)
		}
		// A wrong password still says only that it is wrong.
		if _, err := f.acc.Login(ctx, "anna@osaw.example", "wrong password", "127.0.0.1", "t"); keyOf(err) != "login.failed" {
			t.Fatalf("wrong password of a linked colleague: %v", err)
		}
		if err := f.sso.RemoveForOrg(ctx, f.org.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.acc.Login(ctx, "anna@osaw.example", goodPassword, "127.0.0.1", "t"); err != nil {
			t.Fatalf("password login with single sign-on off: %v", err)
		}
		if _, err := passkeyLogin(p, k); err != nil {
			t.Fatalf("passkey login with single sign-on off: %v", err)
		}
		if err := f.acc.RequestPasswordReset(ctx, "anna@osaw.example", "ip"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.acc.ResetPassword(ctx, annaResetToken(t, f), "een heel nieuw wachtwoord graag", "een heel nieuw wachtwoord graag", "ip", "t"); err != nil {
			t.Fatalf("reset with single sign-on off: %v", err)
		}
	})
}

func annaResetToken(t *testing.T, f *ssoFixture) string {
	t.Helper()
	m, err := notify.LatestDevMailTo(context.Background(), f.d, f.v, "anna@osaw.example")
	if err != nil {
		t.Fatal(err)
	}
	return token(strings.TrimSpace(m.Text[strings.Index(m.Text, "http"):]))
}
