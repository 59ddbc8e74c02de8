package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/config"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
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

func TestNewMessageMailRenderer(t *testing.T) {
	const link = "http://dialoog.test/berichten"
	for lang, subject := range map[string]string{"nl": "Je hebt een nieuw bericht van OSAW", "en": "You have a new message from OSAW"} {
		m, err := mailRenderer{}.NewMessageMail(lang, "OSAW", link)
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != subject || !strings.Contains(m.Text, link) || !strings.Contains(m.HTML, `href="`+link+`"`) {
			t.Errorf("%s: %q\n%s", lang, m.Subject, m.Text)
		}
	}
}

// TestUploadJanitor: the serve loop's janitor deletes uploads that never
// got a message once they are stale, keeps fresh ones, and stops with its
// context.
func TestUploadJanitor(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg, _, err := config.Load(func(k string) string {
		return map[string]string{"DIALOOG_DATA_DIR": dir, "DIALOOG_BASE_URL": "http://dialoog.test"}[k]
	}, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a, err := openApp(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	now := time.Now()
	u := &db.User{Email: "hr@example.nl", Kind: db.KindExternal, Status: db.StatusActive, Language: "nl", Gender: "unknown", CreatedAt: now, UpdatedAt: now}
	if _, err := a.db.NewInsert().Model(u).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	pdf := []byte("%PDF-1.4\n%%EOF\n")
	stale, err := a.messages.Upload(ctx, u, "oud.pdf", pdf)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := a.messages.Upload(ctx, u, "nieuw.pdf", pdf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.db.NewUpdate().Model((*db.Attachment)(nil)).Set("created_at = ?", now.UTC().Add(-messaging.StaleUpload-time.Hour)).
		Where("id = ?", stale.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	jctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { a.purgeStaleUploads(jctx, time.Hour); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		left, err := a.messages.PendingUploads(ctx, u, []int64{stale.ID, fresh.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(left) == 1 && left[0].ID == fresh.ID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("uploads left: %+v", left)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("janitor did not stop")
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
