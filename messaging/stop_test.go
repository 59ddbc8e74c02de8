package messaging_test

import (
	"bytes"
	"context"
	"io/fs"
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
