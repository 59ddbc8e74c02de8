package notify

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/notify/notifytest"
)

// parsedMail is what a test reads back from the DATA of a delivered mail.
type parsedMail struct {
	Header mail.Header
	Parts  map[string]string // media type -> decoded body
}

func parseMail(t *testing.T, data []byte) parsedMail {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse mail: %v\n%s", err, data)
	}
	p := parsedMail{Header: msg.Header, Parts: map[string]string{}}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("content type: %v", err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		b, _ := io.ReadAll(msg.Body)
		p.Parts[mt] = string(b)
		return p
	}
	if mt != "multipart/alternative" {
		t.Errorf("content type %s, want multipart/alternative", mt)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("mime part: %v", err)
		}
		pt, pp, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if cs := strings.ToLower(pp["charset"]); cs != "utf-8" {
			t.Errorf("part %s charset %q, want utf-8", pt, cs)
		}
		b, _ := io.ReadAll(part) // quoted-printable is decoded by the reader
		p.Parts[pt] = string(b)
	}
	return p
}

func decodeHeader(t *testing.T, h string) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(h)
	if err != nil {
		t.Fatalf("decode header %q: %v", h, err)
	}
	return s
}

// 1. A real SMTP conversation with AUTH PLAIN.
func TestSMTPDelivery(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		srv := notifytest.StartSMTP(t, "127.0.0.1:0", "mailer", "s3cret-pw")
		v := testVault(t, 1)
		m, err := NewMailer(mustURL(t, "smtp://mailer:s3cret-pw@"+srv.Addr), fromAddr())
		if err != nil {
			t.Fatal(err)
		}
		if m.Name() != "smtp" {
			t.Fatalf("Name %q", m.Name())
		}
		o := NewOutbox(v)
		var id int64
		err = d.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
			var err error
			id, err = o.QueueMail(ctx, tx, Mail{
				To:      "Jan de Vries <Jan@Example.org>",
				Subject: "Nieuw bericht – één",
				Text:    "Er staat een bericht voor u klaar.\nOpen Dialoog om het te lezen.",
				HTML:    "<p>Er staat een bericht voor u <b>klaar</b>.</p>",
			})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if r := row(t, d, id); r.Recipient != "Jan@Example.org" || r.Status != db.OutboxPending || r.Channel != db.ChannelMail {
			t.Fatalf("queued row: %+v", r)
		}
		clk := newClock()
		w := NewWorker(d, v, m, nil, testLogger(t), WorkerOptions{Now: clk.Now})
		if n := runOnce(t, w); n != 1 {
			t.Fatalf("delivered %d, want 1 (last_error %q)", n, row(t, d, id).LastError)
		}

		msgs := srv.Messages()
		if len(msgs) != 1 {
			t.Fatalf("server received %d mails, want 1", len(msgs))
		}
		got := msgs[0]
		if got.User != "mailer" {
			t.Errorf("authenticated as %q", got.User)
		}
		if got.From != "no-reply@dialoog.test" {
			t.Errorf("MAIL FROM %q", got.From)
		}
		if len(got.To) != 1 || got.To[0] != "Jan@Example.org" {
			t.Errorf("RCPT TO %q", got.To)
		}
		p := parseMail(t, got.Data)
		if from, err := p.Header.AddressList("From"); err != nil || len(from) != 1 || from[0].Address != "no-reply@dialoog.test" || from[0].Name != "Dialoog" {
			t.Errorf("From header %q (%v)", p.Header.Get("From"), err)
		}
		if to, err := p.Header.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != "Jan@Example.org" || to[0].Name != "Jan de Vries" {
			t.Errorf("To header %q (%v)", p.Header.Get("To"), err)
		}
		if s := decodeHeader(t, p.Header.Get("Subject")); s != "Nieuw bericht – één" {
			t.Errorf("Subject %q", s)
		}
		if _, err := p.Header.Date(); err != nil {
			t.Errorf("Date: %v", err)
		}
		r := row(t, d, id)
		msgID := p.Header.Get("Message-Id")
		if msgID != "<"+r.IdempotencyKey+"@dialoog.test>" {
			t.Errorf("Message-ID %q, want the idempotency key %s", msgID, r.IdempotencyKey)
		}
		if txt := p.Parts["text/plain"]; !strings.Contains(txt, "Open Dialoog om het te lezen.") {
			t.Errorf("text part %q", txt)
		}
		if html := p.Parts["text/html"]; !strings.Contains(html, "<b>klaar</b>") {
			t.Errorf("html part %q", html)
		}
		if r.Status != db.OutboxSent || r.Payload != nil || r.Transport != "smtp" || r.SentAt.IsZero() || r.Attempts != 1 {
			t.Errorf("row after delivery: status %s payload %d bytes transport %q sent_at %v attempts %d",
				r.Status, len(r.Payload), r.Transport, r.SentAt, r.Attempts)
		}
		if !r.SentAt.Time.Equal(clk.Now().Truncate(time.Microsecond)) {
			t.Errorf("sent_at %v, want the injected clock %v", r.SentAt.Time, clk.Now())
		}

		// Nothing is due any more.
		if n := runOnce(t, w); n != 0 {
			t.Fatalf("second pass delivered %d", n)
		}
		if len(srv.Messages()) != 1 {
			t.Fatal("mail delivered twice")
		}
	})
}

// A rejected login is recorded without the password.
func TestSMTPAuthFailureKeepsPasswordOut(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		srv := notifytest.StartSMTP(t, "127.0.0.1:0", "mailer", "right-password")
		v := testVault(t, 1)
		m, err := NewMailer(mustURL(t, "smtp://mailer:wrong-Pa55word@"+srv.Addr), fromAddr())
		if err != nil {
			t.Fatal(err)
		}
		id := queueMail(t, d, NewOutbox(v), Mail{To: "a@example.org", Subject: "s", Text: "t"})
		w := NewWorker(d, v, m, nil, testLogger(t), WorkerOptions{Now: newClock().Now})
		if n := runOnce(t, w); n != 0 {
			t.Fatal("delivered with a wrong password")
		}
		r := row(t, d, id)
		if r.Status != db.OutboxPending || r.LastError == "" {
			t.Fatalf("row %+v", r)
		}
		if strings.Contains(r.LastError, "wrong-Pa55word") {
			t.Fatalf("password in last_error: %q", r.LastError)
		}
		t.Logf("last_error: %s", r.LastError)
		if len(srv.Messages()) != 0 {
			t.Fatal("server accepted the mail")
		}
	})
}

// 2. The SMTP server is down, then back.
func TestSMTPServerDownThenBack(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		addr := freeAddr(t)
		v := testVault(t, 1)
		m, err := NewMailer(mustURL(t, "smtp://"+addr), fromAddr())
		if err != nil {
			t.Fatal(err)
		}
		id := queueMail(t, d, NewOutbox(v), Mail{To: "b@example.org", Subject: "Hallo", Text: "tekst", HTML: "<p>tekst</p>"})
		clk := newClock()
		base := 10 * time.Second
		w := NewWorker(d, v, m, nil, testLogger(t), WorkerOptions{Now: clk.Now, BaseBackoff: base, MaxBackoff: time.Hour})

		if n := runOnce(t, w); n != 0 {
			t.Fatalf("delivered %d while the server is down", n)
		}
		r := row(t, d, id)
		if r.Status != db.OutboxPending || r.LastError == "" || r.Attempts != 1 || r.Payload == nil {
			t.Fatalf("row after failure: %+v", r)
		}
		t.Logf("last_error: %s", r.LastError)
		now := clk.Now()
		if !r.NextAttemptAt.After(now) || r.NextAttemptAt.After(now.Add(base)) {
			t.Fatalf("next_attempt_at %v, want in (%v, %v]", r.NextAttemptAt, now, now.Add(base))
		}

		// Not due yet: no new attempt.
		if n := runOnce(t, w); n != 0 || row(t, d, id).Attempts != 1 {
			t.Fatal("retried before the backoff passed")
		}

		srv := notifytest.StartSMTP(t, addr, "", "")
		if n := runOnce(t, w); n != 0 || len(srv.Messages()) != 0 {
			t.Fatal("retried before the backoff passed")
		}
		clk.Advance(base)
		if n := runOnce(t, w); n != 1 {
			t.Fatalf("delivered %d after the server came back (last_error %q)", n, row(t, d, id).LastError)
		}
		clk.Advance(time.Hour)
		if n := runOnce(t, w); n != 0 {
			t.Fatalf("delivered again: %d", n)
		}
		if got := len(srv.Messages()); got != 1 {
			t.Fatalf("server received %d mails, want exactly 1", got)
		}
		r = row(t, d, id)
		if r.Status != db.OutboxSent || r.Attempts != 2 || r.Payload != nil || r.LastError != "" {
			t.Fatalf("row after delivery: %+v", r)
		}
	})
}

// tls=required refuses a server without STARTTLS instead of sending in the clear.
func TestSMTPTLSRequired(t *testing.T) {
	srv := notifytest.StartSMTP(t, "127.0.0.1:0", "", "")
	m, err := NewMailer(mustURL(t, "smtp://"+srv.Addr+"?tls=required"), fromAddr())
	if err != nil {
		t.Fatal(err)
	}
	err = m.Send(context.Background(), "k1", Mail{To: "c@example.org", Subject: "s", Text: "t"})
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("err = %v, want a STARTTLS error", err)
	}
	if len(srv.Messages()) != 0 {
		t.Fatal("mail sent without TLS")
	}
	// Opportunistic (the default) goes ahead in the clear on loopback.
	m, _ = NewMailer(mustURL(t, "smtp://"+srv.Addr), fromAddr())
	if err := m.Send(context.Background(), "k2", Mail{To: "c@example.org", Subject: "s", Text: "t"}); err != nil {
		t.Fatal(err)
	}
}

func TestNewMailerURLs(t *testing.T) {
	if m, err := NewMailer(nil, nil); err != nil || m.Name() != DevTransport {
		t.Fatalf("nil URL: %v %v", m, err)
	}
	for _, bad := range []string{
		"http://host", "smtp://", "smtp://host?tls=sometimes", "smtp://host:99999",
	} {
		if _, err := NewMailer(mustURL(t, bad), fromAddr()); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	if _, err := NewMailer(mustURL(t, "smtp://host"), nil); err == nil {
		t.Error("no sender: no error")
	}
	for in, want := range map[string]int{"smtp://h": 587, "smtps://h": 465, "smtp://h:2525": 2525} {
		m, err := NewMailer(mustURL(t, in), fromAddr())
		if err != nil {
			t.Fatal(err)
		}
		if p := m.(*smtpMailer).port; p != want {
			t.Errorf("%s: port %d, want %d", in, p, want)
		}
	}
	if m, _ := NewMailer(mustURL(t, "smtps://h"), fromAddr()); !m.(*smtpMailer).implicitTLS {
		t.Error("smtps without implicit TLS")
	}
}
