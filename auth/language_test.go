package auth_test

import (
	"context"
	"testing"

	"dialoog/apperr"
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
