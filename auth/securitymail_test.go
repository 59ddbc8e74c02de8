package auth_test

import (
	"context"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/url"
	"strings"
	"testing"
	"time"

	"dialoog/auth"
	"dialoog/components"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/notify"
	"dialoog/notify/notifytest"
)

// componentMail renders the security mails as the server does.
type componentMail struct{}

func (componentMail) SecurityMail(lang string, event auth.SecurityEvent, at time.Time) (notify.Mail, error) {
	v := components.SecurityMail{Lang: lang, Event: string(event), At: at}
	return notify.Mail{Subject: components.SecurityMailSubject(v), Text: components.SecurityMailText(v)}, nil
}

// receivedMail is a mail as the SMTP server got it, decoded.
type receivedMail struct{ Subject, Text string }

func decodeMail(t *testing.T, raw []byte) receivedMail {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatalf("parse mail: %v", err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	part := func(h interface{ Get(string) string }, r io.Reader) string {
		if strings.EqualFold(h.Get("Content-Transfer-Encoding"), "quoted-printable") {
			r = quotedprintable.NewReader(r)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	mt, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if !strings.HasPrefix(mt, "multipart/") {
		return receivedMail{subject, part(msg.Header, msg.Body)}
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no text/plain part: %v", err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			return receivedMail{subject, part(p.Header, p)}
		}
	}
}

// TestSecurityMails: a recovery code used, a factor added after the first
// visit and a completed password reset each send the person a short mail,
// in their language, through the real SMTP server: what happened, when in
// Dutch local time, and what to do if it was not them.
func TestSecurityMails(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		f.acc.Mail = componentMail{}
		srv := notifytest.StartSMTP(t, "127.0.0.1:0", "", "")
		mailer, err := notify.NewMailer(&url.URL{Scheme: "smtp", Host: srv.Addr}, &mail.Address{Name: "Dialoog", Address: "no-reply@dialoog.test"})
		if err != nil {
			t.Fatal(err)
		}
		sms, err := notify.NewSMSSender(nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		w := notify.NewWorker(d, f.v, mailer, sms, discardLog(), notify.WorkerOptions{})
		const to = "jan@example.nl"
		received := 0
		next := func() receivedMail {
			t.Helper()
			if _, err := w.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			m := srv.WaitMail(t, to, received, 5*time.Second)
			received++
			return decodeMail(t, m.Data)
		}
		_, codes := f.onboarded(t, to)
		// The first visit mails nothing but the invitation.
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		for _, m := range srv.Messages() {
			if s := decodeMail(t, m.Data).Subject; !strings.HasPrefix(s, "Uitnodiging") {
				t.Fatalf("mail %q during the first visit", s)
			}
			if m.To[0] == to {
				received++
			}
		}

		f.clk.Add(time.Hour) // 11:00 in Amsterdam
		rc := f.passwordOnly(t, to)
		tok, err := f.acc.VerifyLoginFactor(ctx, rc, "recovery", codes[0], "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		m := next()
		wantMail(t, m, "Er is ingelogd met een herstelcode", "Op 23 februari 2026 om 11:00 uur (Nederlandse tijd) is op je Dialoog-account ingelogd met een van je herstelcodes.",
			"Was jij dit niet? Stel dan meteen een nieuw wachtwoord in")

		// An app added while the recovery code's grant lasts (a new SMS
		// number would be a changed phone number, TestFactorChangeMails).
		cur := f.cur(t, tok)
		key, err := f.acc.TOTPSetup(ctx, cur, "OSAW")
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Add(5 * time.Minute)
		if _, err := f.acc.VerifySetupTOTP(ctx, cur, totpNow(t, key.Secret, f.clk.Now()), "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		m = next()
		wantMail(t, m, "Er is een tweede stap ingesteld voor je Dialoog-account", "Op 23 februari 2026 om 11:05 uur (Nederlandse tijd) is een nieuwe tweede stap")

		// In the person's language.
		if _, err := d.NewUpdate().Model((*db.User)(nil)).Set("language = ?", "en").Where("email = ?", to).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if err := f.acc.RequestPasswordReset(ctx, to, "ip"); err != nil {
			t.Fatal(err)
		}
		link := strings.TrimSpace(next().Text)
		f.clk.Add(10 * time.Minute)
		if _, err := f.acc.ResetPassword(ctx, token(link), "een heel nieuw wachtwoord graag", "een heel nieuw wachtwoord graag", "ip", "t"); err != nil {
			t.Fatal(err)
		}
		m = next()
		wantMail(t, m, "Your Dialoog password was reset", "On 23 February 2026 at 11:15 (Dutch time) the password of your Dialoog account was reset",
			"Was it not you?")
	})
}

func wantMail(t *testing.T, m receivedMail, subject string, text ...string) {
	t.Helper()
	if m.Subject != subject {
		t.Fatalf("subject %q, want %q", m.Subject, subject)
	}
	flat := strings.Join(strings.Fields(m.Text), " ")
	for _, s := range text {
		if !strings.Contains(flat, s) {
			t.Fatalf("mail lacks %q:\n%s", s, m.Text)
		}
	}
}
