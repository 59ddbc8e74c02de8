package messaging_test

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/notify"
)

// After "Stoppen met Dialoog" nothing of the person is left that names
// them: no queued mail or text to them is delivered, no outbox row keeps
// their address or number, their audit rows cannot be linked back, and a
// scan of the whole database (the SQLite file with its WAL, a pg_dump of
// PostgreSQL) finds none of their address, number, names or IP address.
func TestStopServiceLeavesNothing(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			d := dbtest.MustOpen(t, engine)
			f := setup(t, d)
			const (
				email = "jan.uniek@example.nl"
				phone = "+31612345678"
				ip    = "203.0.113.77"
			)
			jan := f.active(t, email, false, "Janneke", "", "Uniekachternaam")
			now := f.clk.Now()
			if _, err := d.NewInsert().Model(&db.SecondFactor{UserID: jan.ID, Kind: db.FactorSMS, Phone: phone,
				VerifiedAt: bun.NullTime{Time: now}, CreatedAt: now}).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			// A text delivered before, one still queued, and audit rows.
			for _, st := range []string{db.OutboxSent, db.OutboxPending} {
				if _, err := d.NewInsert().Model(&db.OutboxItem{IdempotencyKey: "k-" + st, Channel: db.ChannelSMS, Recipient: phone,
					Status: st, LastError: "550 " + phone + " unknown", Transport: "dev", CreatedAt: now, NextAttemptAt: now}).Exec(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if err := auth.Audit(ctx, d, auth.AuditEntry{UserID: &jan.ID, Kind: "login.success", Detail: "sms " + phone, IP: ip, Now: now}); err != nil {
				t.Fatal(err)
			}
			// A "Wachtwoord vergeten" not yet handled by the worker.
			if _, err := d.NewRaw("INSERT INTO mail_requests (kind, email, ip, created_at) VALUES (?, ?, ?, ?)", "reset", email, ip, now).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{email}, Subject: "Verzuim", Body: "Hoe gaat het?"})
			if err != nil {
				t.Fatal(err)
			}
			// A file Jan sends stays in Hanna's box after he stops: its name
			// and content are sealed, so the data dir shows neither.
			a, err := f.svc.Upload(ctx, jan.Identity(), "Uniekachternaam-verslag.txt", []byte("Verslag van Janneke Uniekachternaam"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Goed", AttachmentIDs: []int64{a.ID}}); err != nil {
				t.Fatal(err)
			}
			if n := f.count(t, "outbox", "recipient = ? AND status = ?", email, db.OutboxPending); n == 0 {
				t.Fatal("no queued mail to the person: the test proves nothing")
			}
			pendingOthers := f.count(t, "outbox", "recipient NOT IN (?, ?) AND status = ?", email, phone, db.OutboxPending)

			if err := f.svc.StopService(ctx, jan.Identity()); err != nil {
				t.Fatal(err)
			}
			if n := f.count(t, "outbox", "recipient IN (?, ?) OR last_error LIKE ? OR last_error LIKE ?", email, phone, "%"+email+"%", "%"+phone+"%"); n != 0 {
				t.Errorf("%d outbox rows still name the person", n)
			}
			if n := f.count(t, "outbox", "status = ?", db.OutboxPending); n != pendingOthers {
				t.Errorf("queued rows: %d, want only the %d to other people", n, pendingOthers)
			}
			if n := f.count(t, "audit_events", "ip = ? OR detail LIKE ?", ip, "%"+phone+"%"); n != 0 {
				t.Errorf("%d audit rows still carry the person's IP address or number", n)
			}

			dump := wholeDatabase(t, d, engine)
			// The data dir: attachments (and, on SQLite, the database above).
			files := 0
			filepath.WalkDir(f.dir, func(p string, e fs.DirEntry, err error) error {
				if err == nil && !e.IsDir() {
					b, _ := os.ReadFile(p)
					dump = append(dump, b...)
					files++
				}
				return nil
			})
			if files == 0 {
				t.Fatal("no file in the data dir: the scan proves nothing")
			}
			for _, s := range []string{email, strings.TrimPrefix(phone, "+"), "Janneke", "Uniekachternaam", ip} {
				if bytes.Contains(dump, []byte(s)) {
					t.Errorf("the database still holds %q", s)
				}
			}
		})
	}
}

func (f *fx) count(t *testing.T, table, where string, args ...any) int {
	t.Helper()
	n, err := f.d.NewSelect().Table(table).Where(where, args...).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// wholeDatabase returns every byte the database keeps: the SQLite file and
// its WAL after a checkpoint, or a pg_dump of the test's schema.
func wholeDatabase(t *testing.T, d *db.DB, engine string) []byte {
	t.Helper()
	ctx := context.Background()
	if engine == "sqlite" {
		var seq int
		var name, file string
		if err := d.QueryRowContext(ctx, "PRAGMA database_list").Scan(&seq, &name, &file); err != nil {
			t.Fatal(err)
		}
		if _, err := d.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
			t.Fatal(err)
		}
		var out []byte
		for _, p := range []string{file, file + "-wal"} {
			b, _ := os.ReadFile(p)
			out = append(out, b...)
		}
		if len(out) == 0 {
			t.Fatalf("nothing read from %s", filepath.Base(file))
		}
		return out
	}
	var schema string
	if err := d.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dbtest.TestPostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	if _, err := exec.LookPath("pg_dump"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pg_dump is required under CI")
		}
		t.Skip("pg_dump not installed")
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "pg_dump", "--data-only", "--schema="+schema, u.String()).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	return out
}

// An admin who stops with Dialoog leaves no IP address in the audit rows
// of what they did to others (disabling a colleague, say): the rows stay
// for the colleague, without the admin and the admin's address.
func TestStopServiceForgetsAddressAsActor(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		const ip = "203.0.113.78"
		now := f.clk.Now()
		for _, kind := range []string{"admin.user_disabled", "admin.user_enabled"} {
			if err := auth.Audit(ctx, d, auth.AuditEntry{UserID: &f.boss.ID, ActorID: &f.hr.ID, OrgID: &f.org.ID, Kind: kind, IP: ip, Now: now}); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.svc.StopService(ctx, f.hr.Identity()); err != nil {
			t.Fatal(err)
		}
		if n := f.count(t, "audit_events", "ip = ? OR actor_id = ?", ip, f.hr.ID); n != 0 {
			t.Errorf("%d audit rows still carry the stopped admin's IP address or id", n)
		}
		if n := f.count(t, "audit_events", "user_id = ? AND kind IN (?, ?)", f.boss.ID, "admin.user_disabled", "admin.user_enabled"); n != 2 {
			t.Errorf("the colleague's rows: %d, want 2", n)
		}
	})
}

// A mail still queued to someone else about a message of a person who
// stops (the new-message mail waits DIALOOG_NOTIFY_DELAY) goes out after
// the stop, as the message stays in that box: it then names the person as
// the conversation does, "Verwijderde gebruiker", not by the name the
// account no longer has. A mail that names the organisation instead (an
// internal author to an outsider) is left as it is.
func TestStopRenamesQueuedNotices(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "janneke@example.nl", false, "Janneke", "", "Uniekachternaam")
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Verzuim", Body: "Hoe gaat het?"})
		if err != nil {
			t.Fatal(err)
		}
		// Bram, a colleague, writes to Piet, an outsider: that mail names
		// OSAW, not Bram.
		piet := f.active(t, "piet@example.nl", false, "Piet", "", "Post")
		if _, err := f.svc.Compose(ctx, f.boss.Identity(), messaging.ComposeInput{To: []string{piet.Email}, Subject: "Afspraak", Body: "Dinsdag?"}); err != nil {
			t.Fatal(err)
		}
		f.clk.Add(time.Minute)
		if _, err := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Goed"}); err != nil {
			t.Fatal(err)
		}
		// One as a version that did not record a notice's author queued
		// it: found by the time of Jan's message.
		var hannaRow int64
		if err := d.NewSelect().Table("participants").Column("id").Where("thread_id = ? AND user_id = ?", tid, f.hr.ID).Scan(ctx, &hannaRow); err != nil {
			t.Fatal(err)
		}
		old := notify.Mail{To: f.hr.Email, Subject: "Je hebt een nieuw bericht van Janneke Uniekachternaam", Text: "Oud formaat",
			Notice: &notify.Notice{Participant: hannaRow, At: f.clk.Now()}}
		if _, err := notify.NewOutbox(f.v).WithClock(f.clk.Now).QueueMail(ctx, d, old); err != nil {
			t.Fatal(err)
		}
		pending := func(to string) []string {
			t.Helper()
			var out []string
			for _, it := range f.mailsTo(t, to) {
				if it.Status == db.OutboxPending {
					out = append(out, it.Mail.Subject+"\n"+it.Mail.Text+"\n"+it.Mail.HTML)
				}
			}
			return out
		}
		before := pending(f.hr.Email)
		if len(before) == 0 || !strings.Contains(strings.Join(before, "\n"), "Uniekachternaam") {
			t.Fatalf("no queued mail to Hanna naming Jan: the test proves nothing: %q", before)
		}

		if err := f.svc.StopService(ctx, jan.Identity()); err != nil {
			t.Fatal(err)
		}
		after := pending(f.hr.Email)
		if len(after) != len(before) {
			t.Fatalf("queued mails to Hanna: %d, want the %d still to send (the message stays in her box)", len(after), len(before))
		}
		for _, m := range after {
			if strings.Contains(m, "Janneke") || strings.Contains(m, "Uniekachternaam") {
				t.Errorf("a queued mail still names the person who stopped: %q", m)
			}
		}
		if !strings.Contains(strings.Join(after, "\n"), "Verwijderde gebruiker") {
			t.Errorf("the queued mail does not say who as the conversation does: %q", after)
		}

		toPiet := pending(piet.Email)
		if len(toPiet) != 1 || !strings.Contains(toPiet[0], "van OSAW") {
			t.Fatalf("queued mails to Piet: %q, want one from OSAW", toPiet)
		}
		if err := f.svc.StopService(ctx, f.boss.Identity()); err != nil {
			t.Fatal(err)
		}
		if got := pending(piet.Email); len(got) != 1 || got[0] != toPiet[0] {
			t.Errorf("queued mails to Piet after Bram stopped: %q, want %q as it was", got, toPiet)
		}
	})
}

// The throttles that count attempts at a person's address (passwords,
// "stuur mij een nieuwe link") are keyed by a plain hash of it, which a
// list of addresses finds again: they go with the account. Those of IP
// addresses stay, shared by everyone behind them, until the nightly
// cleanup.
func TestStopForgetsTheAddressThrottles(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan.throttle@example.nl", false, "Jan", "", "Throttle")
		acc := &auth.Accounts{DB: d, Vault: f.v, Outbox: notify.NewOutbox(f.v).WithClock(f.clk.Now), Sessions: &auth.Sessions{DB: d, Now: f.clk.Now},
			Limiter: &auth.Limiter{DB: d, Now: f.clk.Now}, Now: f.clk.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		if _, err := acc.Login(ctx, jan.Email, "niet-het-wachtwoord", "203.0.113.9", "test"); err == nil {
			t.Fatal("a wrong password logged in")
		}
		if err := f.svc.Invitations.RequestNewLink(ctx, jan.Email, "203.0.113.9"); err != nil {
			t.Fatal(err)
		}
		personal := func() int { return f.count(t, "throttles", "key NOT LIKE ?", "%:ip:%") }
		if n := personal(); n < 2 {
			t.Fatalf("%d throttle rows of the address: the test proves nothing", n)
		}
		if err := f.svc.StopService(ctx, jan.Identity()); err != nil {
			t.Fatal(err)
		}
		if n := personal(); n != 0 {
			var keys []string
			d.NewSelect().Table("throttles").Column("key").Where("key NOT LIKE ?", "%:ip:%").Scan(ctx, &keys)
			t.Errorf("throttle rows of the person who stopped are left: %q", keys)
		}
		if n := f.count(t, "throttles", "key LIKE ?", "%:ip:%"); n == 0 {
			t.Error("the IP addresses' throttles went too")
		}
	})
}
