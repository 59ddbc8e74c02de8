package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/mail"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/auth"
	"dialoog/config"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/notify/notifytest"
)

// TestNewMessageMailFromName: the mail that tells of a new message goes
// out, through the outbox worker and a real SMTP conversation, under the
// sender name of the conversation's organisation (encoded in the header,
// decoded back exactly, nothing injected), from the installation's
// address; a conversation of an organisation without a sender name goes
// out under the installation's own name.
func TestNewMessageMailFromName(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testNewMessageMailFromName(t, "") })
	t.Run("postgres", func(t *testing.T) { testNewMessageMailFromName(t, dbtest.NewTestSchema(t)) })
}

func testNewMessageMailFromName(t *testing.T, databaseURL string) {
	ctx := context.Background()
	smtpSrv := notifytest.StartSMTP(t, "127.0.0.1:0", "", "")
	cfg, _, err := config.Load(func(k string) string {
		return map[string]string{"DIALOOG_DATA_DIR": t.TempDir(), "DIALOOG_BASE_URL": "http://dialoog.test", "DIALOOG_DATABASE_URL": databaseURL,
			"DIALOOG_SMTP_URL": "smtp://" + smtpSrv.Addr + "?tls=none", "DIALOOG_ORG_NAME": "OSAW",
			"DIALOOG_MAIL_FROM": "Dialoog <no-reply@dialoog.test>"}[k]
	}, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a, err := openApp(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.bootstrap(ctx, io.Discard); err != nil {
		t.Fatal(err)
	}
	var org db.Organisation
	if err := a.db.NewSelect().Model(&org).Where("name = ?", "OSAW").Scan(ctx); err != nil {
		t.Fatal(err)
	}
	other := &db.Organisation{Name: "Ander", CreatedAt: time.Now()}
	if _, err := a.db.NewInsert().Model(other).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	user := func(email, kind string, orgID *int64, admin bool) *db.User {
		now := time.Now()
		u := &db.User{Email: email, Kind: kind, OrgID: orgID, IsAdmin: admin, Status: db.StatusActive, Language: "nl", Gender: "unknown",
			Initials: "H.", FirstName: "Hanna", NamePrefix: "de", LastName: "Vries", Notify: auth.NotifyMessage, CreatedAt: now, UpdatedAt: now,
			ProfileCompletedAt: bun.NullTime{Time: now}}
		if _, err := a.db.NewInsert().Model(u).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		return u
	}
	hr := user("hr@osaw.nl", db.KindInternal, &org.ID, true)
	bea := user("bea@ander.nl", db.KindInternal, &other.ID, false)
	jan := user("jan@example.nl", db.KindExternal, nil, false)
	kim := user("kim@example.nl", db.KindExternal, nil, false)
	const sender = "OSAW Verzuim & Zorg, één"
	br := &auth.Branding{DB: a.db, Now: time.Now}
	if err := br.Save(ctx, auth.ActingAs(hr), auth.BrandInput{Name: "OSAW", SenderName: sender}, "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	ours, err := a.messages.Compose(ctx, hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verzuim", Body: "Hoe gaat het?"})
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := a.messages.Compose(ctx, bea.Identity(), messaging.ComposeInput{To: []string{kim.Email}, Subject: "Elders", Body: "Van een ander"})
	if err != nil {
		t.Fatal(err)
	}
	// A reply reads the sender name with its conversation.
	if _, err := a.messages.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: ours, Body: "Goed, dank je"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.messages.Reply(ctx, kim.Identity(), messaging.ReplyInput{ThreadID: theirs, Body: "Prima"}); err != nil {
		t.Fatal(err)
	}
	// As if DIALOOG_NOTIFY_DELAY had passed, with every message unread.
	if _, err := a.db.NewUpdate().Model((*db.OutboxItem)(nil)).Set("next_attempt_at = ?", time.Now()).Where("1 = 1").Exec(ctx); err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	go a.worker.Run(wctx)

	for to, wantName := range map[string]string{jan.Email: sender, kim.Email: "Dialoog", hr.Email: sender, bea.Email: "Dialoog"} {
		got := smtpSrv.WaitMail(t, to, 0, 10*time.Second)
		if got.From != "no-reply@dialoog.test" {
			t.Errorf("envelope sender %q", got.From)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(got.Data))
		if err != nil {
			t.Fatal(err)
		}
		from, err := msg.Header.AddressList("From")
		if err != nil || len(from) != 1 || from[0].Address != "no-reply@dialoog.test" || from[0].Name != wantName {
			t.Errorf("mail to %s: From %q (%v), want name %q", to, msg.Header.Get("From"), err, wantName)
		}
		if raw := msg.Header.Get("From"); bytes.ContainsAny([]byte(raw), "éë") {
			t.Errorf("From header not encoded: %q", raw)
		}
	}
}
