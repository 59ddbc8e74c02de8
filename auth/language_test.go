package auth_test

import (
	"context"
	"testing"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestSetLanguageFromFirstPage: the language switch stores the language of
// a signed-in person from the first step of the first visit on (so the
// texts and mails of the next steps follow it), audited; a session still
// waiting for its second factor changes nothing.
func TestSetLanguageFromFirstPage(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		tok := f.invited(t, "nieuw@example.nl")
		cur := f.cur(t, tok)
		if err := f.acc.SetLanguage(ctx, cur, "en", "127.0.0.1"); err != nil {
			t.Fatalf("at the terms step: %v", err)
		}
		if got := f.cur(t, tok).User.Language; got != "en" {
			t.Fatalf("language %q, want en", got)
		}
		n, err := d.NewSelect().Model((*db.AuditEvent)(nil)).Where("user_id = ? AND kind = ?", cur.User.ID, "language.changed").Count(ctx)
		if err != nil || n != 1 {
			t.Fatalf("%d audit rows (%v), want 1", n, err)
		}
		wantKey(t, f.acc.SetLanguage(ctx, cur, "de", "127.0.0.1"), "settings.language_invalid")

		half := *f.cur(t, tok)
		half.NeedsSecondFactor = true
		if err := f.acc.SetLanguage(ctx, &half, "nl", "127.0.0.1"); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("before the second factor: %v, want a conflict", err)
		}
		if got := f.cur(t, tok).User.Language; got != "en" {
			t.Fatalf("language %q after a refused change", got)
		}
	})
}

// TestSignUpInTheChosenLanguage: the language chosen in the browser
// before signing up becomes the account's at AANMELDEN, audited; no
// choice, or one Dialoog does not have, keeps the invitation's language.
func TestSignUpInTheChosenLanguage(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		for _, tc := range []struct{ email, invited, chosen, want string }{
			{"jan@example.nl", "nl", "en", "en"},
			{"piet@example.nl", "en", "nl", "nl"},
			{"kees@example.nl", "nl", "", "nl"},
			{"anne@example.nl", "en", "de", "en"},
			{"els@example.nl", "en", "en", "en"},
		} {
			link, user, err := f.inv.Invite(ctx, auth.InviteInput{Email: tc.email, OrgID: f.org.ID, Language: tc.invited})
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := f.inv.AcceptIn(ctx, token(link), "127.0.0.1", "test", tc.chosen); err != nil {
				t.Fatalf("%s: accept: %v", tc.email, err)
			}
			var u db.User
			if err := d.NewSelect().Model(&u).Where("id = ?", user.ID).Scan(ctx); err != nil {
				t.Fatal(err)
			}
			if u.Language != tc.want {
				t.Errorf("%s: invited in %q, chose %q: account language %q, want %q", tc.email, tc.invited, tc.chosen, u.Language, tc.want)
			}
			n, err := d.NewSelect().Model((*db.AuditEvent)(nil)).Where("user_id = ? AND kind = ?", user.ID, "language.changed").Count(ctx)
			if changed := tc.want != tc.invited; err != nil || (n == 1) != changed || n > 1 {
				t.Errorf("%s: %d language audit rows (%v), a change: %v", tc.email, n, err, changed)
			}
		}
	})
}
