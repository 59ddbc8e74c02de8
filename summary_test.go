package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/auth"
	"dialoog/config"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/i18n"
	"dialoog/messaging"
	"dialoog/notify/notifytest"
)

// TestDailySummaryMail: the serve loop's summary run, with the real mail
// renderer, through the outbox worker to a real SMTP server: at 07:59
// Dutch time nothing, from 08:00 one mail per person in their language
// with the number of unread messages and a link, nothing of the messages,
// and no second one on later runs that day.
func TestDailySummaryMail(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testDailySummaryMail(t, "") })
	t.Run("postgres", func(t *testing.T) { testDailySummaryMail(t, dbtest.NewTestSchema(t)) })
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func testDailySummaryMail(t *testing.T, databaseURL string) {
	ctx := context.Background()
	smtpSrv := notifytest.StartSMTP(t, "127.0.0.1:0", "", "")
	cfg, _, err := config.Load(func(k string) string {
		return map[string]string{"DIALOOG_DATA_DIR": t.TempDir(), "DIALOOG_BASE_URL": "http://dialoog.test", "DIALOOG_DATABASE_URL": databaseURL,
			"DIALOOG_SMTP_URL": "smtp://" + smtpSrv.Addr + "?tls=none", "DIALOOG_ORG_NAME": "OSAW"}[k]
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
	clk := &testClock{t: time.Date(2026, 2, 23, 7, 0, 0, 0, i18n.Zone)}
	a.messages.Now = clk.Now
	user := func(email, lang, kind, notifySetting string) *db.User {
		now := clk.Now()
		u := &db.User{Email: email, Kind: kind, Status: db.StatusActive, Language: lang, Gender: "unknown", Initials: "H.",
			FirstName: "Hanna", NamePrefix: "de", LastName: "Vries", Notify: notifySetting, CreatedAt: now, UpdatedAt: now,
			ProfileCompletedAt: bun.NullTime{Time: now}}
		if kind == db.KindInternal {
			u.OrgID = &org.ID
		}
		if _, err := a.db.NewInsert().Model(u).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		return u
	}
	// The organisation has a house style; the summary is about all of a
	// person's organisations, so it stays neutral (and so do the security
	// mails): no sender name, colour, logo or support text.
	if _, err := a.db.NewRaw(`INSERT INTO organisation_branding (org_id, sender_name, support_text, colour, logo_type, logo_hash, updated_at)
VALUES (?, 'OSAW Verzuimdienst', 'Bel de OSAW-helpdesk', '#8a1538', 'image/png', 'abc123', ?)`, org.ID, clk.Now()).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	branded := []string{"OSAW", "Verzuimdienst", "helpdesk", "8a1538", "/huisstijl/", "abc123"}
	hr := user("hr@osaw.nl", "nl", db.KindInternal, auth.NotifyMessage)
	jan := user("jan@example.nl", "en", db.KindExternal, auth.NotifyDaily)
	kim := user("kim@example.nl", "nl", db.KindExternal, auth.NotifyDaily)
	const subject, body = "Uitslag keuring", "Vertrouwelijke uitslag van de keuring"
	if _, err := a.messages.Compose(ctx, hr.Identity(), messaging.ComposeInput{To: []string{jan.Email, kim.Email}, Subject: subject, Body: body}); err != nil {
		t.Fatal(err)
	}
	// (The first admin's invitation goes out too.)
	summaries := func() int {
		n := 0
		for _, m := range smtpSrv.Messages() {
			for _, to := range m.To {
				if to == jan.Email || to == kim.Email {
					n++
				}
			}
		}
		return n
	}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	go a.worker.Run(wctx)

	clk.Set(time.Date(2026, 2, 23, 7, 59, 0, 0, i18n.Zone))
	loopDone := make(chan struct{})
	go func() { a.sendDailySummaries(wctx, 10*time.Millisecond); close(loopDone) }()
	time.Sleep(300 * time.Millisecond)
	if n := summaries(); n != 0 {
		t.Fatalf("%d summaries before 08:00", n)
	}

	clk.Set(time.Date(2026, 2, 23, 8, 0, 0, 0, i18n.Zone))
	for _, tc := range []struct{ to, subject, lead, link string }{
		{jan.Email, "You have 1 unread message in Dialoog", "To protect your privacy, the messages themselves are not in this email.", "LOG IN:\nhttp://dialoog.test/berichten\n"},
		{kim.Email, "Je hebt 1 ongelezen bericht in Dialoog", "Om je privacy te beschermen staan de berichten zelf niet in deze e-mail.", "INLOGGEN:\nhttp://dialoog.test/berichten\n"},
	} {
		got := readMail(t, smtpSrv.WaitMail(t, tc.to, 0, 10*time.Second).Data)
		if got.subject != tc.subject || !strings.Contains(got.text, tc.lead) || !strings.Contains(got.text, tc.link) ||
			!strings.Contains(got.html, `href="http://dialoog.test/berichten"`) {
			t.Errorf("summary to %s: %q\n%s", tc.to, got.subject, got.text)
		}
		if a, err := mail.ParseAddress(got.from); err != nil || a.Name != "Dialoog" || a.Address != "no-reply@localhost" {
			t.Errorf("summary to %s is from %q", tc.to, got.from)
		}
		for _, secret := range append([]string{subject, body, "keuring", "Hanna", "Vries", hr.Email}, branded...) {
			if strings.Contains(got.subject+got.text+got.html, secret) {
				t.Errorf("summary to %s contains %q", tc.to, secret)
			}
		}
	}
	// A security mail to a member of the branded organisation, rendered
	// and sent as the accounts service does: neutral too.
	sec, err := mailRenderer{}.SecurityMail("nl", auth.SecurityFactorAdded, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	sec.To = hr.Email
	if err := a.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		_, err := a.messages.Outbox.QueueMail(ctx, tx, sec)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	got := smtpSrv.WaitMail(t, hr.Email, 0, 10*time.Second)
	secMsg, err := mail.ReadMessage(bytes.NewReader(got.Data))
	if err != nil {
		t.Fatal(err)
	}
	secBody, _ := io.ReadAll(secMsg.Body)
	if a, err := mail.ParseAddress(secMsg.Header.Get("From")); err != nil || a.Name != "Dialoog" || a.Address != "no-reply@localhost" {
		t.Errorf("security mail is from %q", secMsg.Header.Get("From"))
	}
	for _, secret := range append([]string{subject, body}, branded...) {
		if strings.Contains(string(got.Data)+string(secBody), secret) {
			t.Errorf("security mail contains %q", secret)
		}
	}
	time.Sleep(300 * time.Millisecond) // many more runs at 08:00
	clk.Set(time.Date(2026, 2, 23, 12, 0, 0, 0, i18n.Zone))
	time.Sleep(100 * time.Millisecond)
	if n := summaries(); n != 2 {
		t.Fatalf("%d summaries after later runs the same day, want 2", n)
	}
	stop()
	select {
	case <-loopDone:
	case <-time.After(5 * time.Second):
		t.Fatal("summary loop did not stop")
	}
}

// deliveredMail is a delivered mail's decoded subject and parts.
type deliveredMail struct{ from, subject, text, html string }

func readMail(t *testing.T, data []byte) deliveredMail {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse mail: %v", err)
	}
	var m deliveredMail
	if m.from, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("From")); err != nil {
		t.Fatal(err)
	}
	if m.subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return m
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(part) // quoted-printable is decoded by the reader
		b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
		if strings.HasPrefix(part.Header.Get("Content-Type"), "text/html") {
			m.html = string(b)
		} else {
			m.text = string(b)
		}
	}
}
