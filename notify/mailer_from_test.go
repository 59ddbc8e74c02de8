package notify

import (
	"context"
	"testing"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/notify/notifytest"
)

// TestSMTPFromName: a mail of an organisation goes out under its sender
// name through a real SMTP conversation, from the installation's address;
// a line break in the name never reaches the header.
func TestSMTPFromName(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		srv := notifytest.StartSMTP(t, "127.0.0.1:0", "", "")
		v := testVault(t, 1)
		m, err := NewMailer(mustURL(t, "smtp://"+srv.Addr), fromAddr())
		if err != nil {
			t.Fatal(err)
		}
		o := NewOutbox(v)
		err = d.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
			for _, name := range []string{"OSAW via Dialoog", "Evil\r\nBcc: x@evil.test"} {
				if _, err := o.QueueMail(ctx, tx, Mail{To: "jan@example.org", Subject: "Uitnodiging", Text: "Hallo", FromName: name}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		w := NewWorker(d, v, m, nil, testLogger(t), WorkerOptions{Now: newClock().Now})
		if n := runOnce(t, w); n != 2 {
			t.Fatalf("delivered %d, want 2", n)
		}
		msgs := srv.Messages()
		if len(msgs) != 2 {
			t.Fatalf("server received %d mails", len(msgs))
		}
		names := map[string]bool{}
		for _, got := range msgs {
			if got.From != "no-reply@dialoog.test" || len(got.To) != 1 || got.To[0] != "jan@example.org" {
				t.Errorf("envelope %q -> %q", got.From, got.To)
			}
			p := parseMail(t, got.Data)
			from, err := p.Header.AddressList("From")
			if err != nil || len(from) != 1 || from[0].Address != "no-reply@dialoog.test" {
				t.Fatalf("From header %q (%v)", p.Header.Get("From"), err)
			}
			if p.Header.Get("Bcc") != "" {
				t.Errorf("header injected: Bcc %q", p.Header.Get("Bcc"))
			}
			names[from[0].Name] = true
		}
		if !names["OSAW via Dialoog"] || !names["EvilBcc: x@evil.test"] {
			t.Fatalf("From names %v", names)
		}
	})
}
