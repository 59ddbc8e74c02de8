package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/config"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/handlers"
	"dialoog/messaging"
	"dialoog/realtime"
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
	stale, err := a.messages.Upload(ctx, u.Identity(), "oud.pdf", pdf)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := a.messages.Upload(ctx, u.Identity(), "nieuw.pdf", pdf)
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
		left, err := a.messages.PendingUploads(ctx, u.Identity(), []int64{stale.ID, fresh.ID})
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
	org := &db.Organisation{Name: "OSAW", CreatedAt: now()}
	if _, err := d.NewInsert().Model(org).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	admin := &db.User{Email: "hr@example.nl", Kind: db.KindInternal, OrgID: &org.ID, IsAdmin: true, Status: db.StatusActive, Language: "nl", Gender: "unknown", CreatedAt: now(), UpdatedAt: now()}
	if _, err := d.NewInsert().Model(admin).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	by := &auth.Current{User: admin.Identity()}
	s := termsStore{d, now}
	cur, err := s.Current(ctx)
	if err != nil || cur.Version != 1 || cur.NL == "" || cur.ID == 0 {
		t.Fatalf("current: %+v %v", cur, err)
	}
	if _, err := s.Publish(ctx, by, " ", ""); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("empty text: %v", err)
	}
	v2, err := s.Publish(ctx, by, "Tweede versie", "Second version")
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

// TestDeadLiveSessions: the sweep finds the connected sessions that ended,
// expired (idle or absolute), are gone, or belong to a disabled user or
// one whose stage went back (factors removed; new terms in
// TestOpenSocketAfterNewTerms), and leaves live ones alone.
func TestDeadLiveSessions(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testDeadLiveSessions(t, "") })
	t.Run("postgres", func(t *testing.T) { testDeadLiveSessions(t, dbtest.NewTestSchema(t)) })
}

func testDeadLiveSessions(t *testing.T, databaseURL string) {
	ctx := context.Background()
	cfg, _, err := config.Load(func(k string) string {
		return map[string]string{"DIALOOG_DATA_DIR": t.TempDir(), "DIALOOG_BASE_URL": "http://dialoog.test", "DIALOOG_DATABASE_URL": databaseURL}[k]
	}, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a, err := openApp(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	now := time.Now().UTC()
	if err := auth.EnsureTerms(ctx, a.db, time.Now); err != nil {
		t.Fatal(err)
	}
	terms, err := auth.CurrentTerms(ctx, a.db)
	if err != nil {
		t.Fatal(err)
	}
	// Users who finished the first visit: a socket is theirs to keep.
	done := bun.NullTime{Time: now}
	user := func(email, status string) int64 {
		u := &db.User{Email: email, Kind: db.KindExternal, Status: status, Language: "nl", Gender: "unknown", CreatedAt: now, UpdatedAt: now,
			SecondFactorDoneAt: done, RecoveryConfirmedAt: done, ProfileCompletedAt: done}
		if _, err := a.db.NewInsert().Model(u).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := a.db.NewUpdate().Model(&db.Password{ID: u.ID, Hash: "x"}).WherePK().Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := a.db.NewInsert().Model(&db.TermsAcceptance{UserID: u.ID, TermsVersionID: terms.ID, IP: "127.0.0.1", AcceptedAt: now}).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := a.db.NewInsert().Model(&db.SecondFactor{UserID: u.ID, Kind: db.FactorSMS, Phone: "+31612345678", VerifiedAt: done, CreatedAt: now}).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	session := func(userID int64, created, lastSeen time.Time, ended bool) int64 {
		s := &db.Session{TokenHash: []byte(fmt.Sprint(userID, created, lastSeen, ended)), UserID: userID, CreatedAt: created,
			LastSeenAt: lastSeen, ExpiresAt: created.Add(auth.SessionAbsolute), IP: "127.0.0.1"}
		if ended {
			s.EndedAt = bun.NullTime{Time: now}
		}
		if _, err := a.db.NewInsert().Model(s).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		return s.ID
	}
	jan, kim, piet := user("jan@example.nl", db.StatusActive), user("kim@example.nl", db.StatusDisabled), user("piet@example.nl", db.StatusActive)
	live := session(jan, now.Add(-time.Hour), now.Add(-time.Minute), false)
	ended := session(jan, now.Add(-time.Hour), now.Add(-time.Minute), true)
	idle := session(jan, now.Add(-time.Hour), now.Add(-auth.SessionIdle-time.Minute), false)
	expired := session(jan, now.Add(-auth.SessionAbsolute-time.Minute), now.Add(-time.Minute), false)
	disabled := session(kim, now.Add(-time.Hour), now.Add(-time.Minute), false)
	session(piet, now.Add(-time.Hour), now.Add(-time.Minute), true) // not connected here
	// A user whose factors were removed is back at the second-factor stage.
	noFactor := user("anna@example.nl", db.StatusActive)
	if _, err := a.db.NewDelete().Model((*db.SecondFactor)(nil)).Where("user_id = ?", noFactor).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	stageBack := session(noFactor, now.Add(-time.Hour), now.Add(-time.Minute), false)

	// A session whose row is gone (the account was deleted).
	gone := session(piet, now.Add(-time.Hour), now.Add(-time.Minute), false)
	if _, err := a.db.NewDelete().Model((*db.Session)(nil)).Where("id = ?", gone).Exec(ctx); err != nil {
		t.Fatal(err)
	}

	got, err := a.deadSessions(ctx, []int64{live, ended, idle, expired, disabled, stageBack, gone}, now)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if want := []int64{ended, idle, expired, disabled, stageBack, gone}; !slices.Equal(got, want) {
		t.Fatalf("dead sessions %v, want %v (live one: %d)", got, want, live)
	}
	if got, err := a.deadSessions(ctx, nil, now); err != nil || len(got) != 0 {
		t.Fatalf("no users: %v, %v", got, err)
	}
}

// TestLiveEventsAdapter: messaging's events reach the broker as ids.
func TestLiveEventsAdapter(t *testing.T) {
	b := realtime.NewLocalBroker()
	defer b.Close()
	got := make(chan realtime.Event, 1)
	cancel := b.Subscribe(func(ev realtime.Event) { got <- ev })
	defer cancel()
	handlers.LiveEvents{Broker: b, Log: slog.New(slog.DiscardHandler)}.Publish(context.Background(),
		messaging.Event{Kind: messaging.EventAutoReply, ThreadID: 3, MessageID: 5, UserIDs: []int64{1, 2}, ActorID: 2})
	select {
	case ev := <-got:
		want := realtime.Event{Kind: realtime.KindAutoReply, ThreadID: 3, MessageID: 5, UserIDs: []int64{1, 2}, ActorID: 2}
		if ev.Kind != want.Kind || ev.ThreadID != 3 || ev.MessageID != 5 || ev.ActorID != 2 || !slices.Equal(ev.UserIDs, want.UserIDs) {
			t.Fatalf("got %+v, want %+v", ev, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("event not delivered")
	}
}

// TestSigningTakesPartInAccountDeletion: with Ondertekenen on (the default:
// a self-signed seal), deleting an account lets it end the requests that
// waited for the person (signing.Service.Leave).
func TestSigningTakesPartInAccountDeletion(t *testing.T) {
	cfg, _, err := config.Load(func(k string) string {
		return map[string]string{"DIALOOG_DATA_DIR": t.TempDir(), "DIALOOG_BASE_URL": "http://dialoog.test"}[k]
	}, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a, err := openApp(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.signing == nil {
		t.Fatal("Ondertekenen is off by default")
	}
	if a.messages.AccountLeaving == nil {
		t.Fatal("deleting an account does not tell Ondertekenen")
	}
	if a.messages.TeamLeaving == nil {
		t.Fatal("leaving a team does not tell Ondertekenen")
	}
}
