package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
)

func TestPasswordResetMailRenderer(t *testing.T) {
	const link = "http://dialoog.test/wachtwoord-vergeten/abc"
	for lang, subject := range map[string]string{"nl": "Nieuw wachtwoord instellen voor Dialoog", "en": "Set a new password for Dialoog"} {
		m, err := mailRenderer{}.PasswordResetMail(lang, link)
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != subject || !strings.Contains(m.Text, link) || !strings.Contains(m.HTML, `href="`+link+`"`) {
			t.Errorf("%s: %q\n%s", lang, m.Subject, m.Text)
		}
	}
}

func TestTermsStore(t *testing.T) {
	ctx := context.Background()
	d := dbtest.MustOpenSQLite(t)
	now := func() time.Time { return time.Date(2026, 2, 23, 9, 0, 0, 0, time.UTC) }
	if err := auth.EnsureTerms(ctx, d, now); err != nil {
		t.Fatal(err)
	}
	admin := &db.User{Email: "hr@example.nl", Kind: db.KindInternal, IsAdmin: true, Status: db.StatusActive, Language: "nl", Gender: "unknown", CreatedAt: now(), UpdatedAt: now()}
	if _, err := d.NewInsert().Model(admin).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	s := termsStore{d, now}
	cur, err := s.Current(ctx)
	if err != nil || cur.Version != 1 || cur.NL == "" || cur.ID == 0 {
		t.Fatalf("current: %+v %v", cur, err)
	}
	if _, err := s.Publish(ctx, " ", "", admin.ID); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("empty text: %v", err)
	}
	v2, err := s.Publish(ctx, "Tweede versie", "Second version", admin.ID)
	if err != nil || v2.Version != 2 || v2.EN != "Second version" {
		t.Fatalf("publish: %+v %v", v2, err)
	}
	if got, err := s.Version(ctx, 1); err != nil || got.Version != 1 {
		t.Fatalf("version 1: %+v %v", got, err)
	}
	if _, err := s.Version(ctx, 9); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("unknown version: %v", err)
	}
}
