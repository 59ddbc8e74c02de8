package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/config"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/vault"
)

// The security suite for start-up and configuration: what an operator's
// mistake must not silently turn into a weakness.

func loadConfig(env map[string]string) (*config.Config, error) {
	c, _, err := config.Load(func(k string) string { return env[k] }, nil, io.Discard)
	return c, err
}

// TestDevModeOnlyOnLoopback: DIALOOG_DEV=1 shows every mail and text that
// was "sent" (sign-up links, login codes) to anyone who asks, so it is
// refused with a clear message on an https base URL or a listen address
// others can reach.
func TestDevModeOnlyOnLoopback(t *testing.T) {
	refused := []map[string]string{
		{"DIALOOG_DEV": "1", "DIALOOG_ADDR": "0.0.0.0:8080"},
		{"DIALOOG_DEV": "1", "DIALOOG_ADDR": "192.0.2.10:8080"},
		{"DIALOOG_DEV": "1", "DIALOOG_ADDR": "[::]:8080"},
		{"DIALOOG_DEV": "1", "DIALOOG_ADDR": "dialoog.example.nl:8080"},
		{"DIALOOG_DEV": "1", "DIALOOG_ADDR": "127.0.0.1:8080", "DIALOOG_BASE_URL": "https://dialoog.example.nl"},
	}
	for _, env := range refused {
		_, err := loadConfig(env)
		if err == nil || !strings.Contains(err.Error(), "DIALOOG_DEV") {
			t.Errorf("%v: err %v, want one naming DIALOOG_DEV", env, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:8080", "localhost:8080", "[::1]:8080", "127.0.0.1:0"} {
		c, err := loadConfig(map[string]string{"DIALOOG_DEV": "1", "DIALOOG_ADDR": addr})
		if err != nil || !c.Dev {
			t.Errorf("dev on %s: %v", addr, err)
		}
	}
	if _, err := loadConfig(map[string]string{"DIALOOG_BASE_URL": "https://dialoog.example.nl"}); err != nil {
		t.Errorf("without dev: %v", err)
	}
	// Without DIALOOG_ADDR, dev mode listens on loopback only (instead of
	// :8080, every interface).
	if c, err := loadConfig(map[string]string{"DIALOOG_DEV": "1"}); err != nil || !c.Dev || c.Addr != "localhost:8080" {
		t.Errorf("dev without an address: %+v, %v; want localhost:8080", c, err)
	}
}

// TestSMTPRequiresSTARTTLSBeyondLoopback: without ?tls= an SMTP server on
// another host must offer STARTTLS (a server that does not, or an attacker
// in between who strips the offer, gets no mail in plain text); loopback
// keeps STARTTLS-when-offered, and ?tls=opportunistic relaxes it on
// purpose. (That tls=required refuses a server without STARTTLS is
// notify's TestSMTPTLSRequired.)
func TestSMTPRequiresSTARTTLSBeyondLoopback(t *testing.T) {
	cases := []struct{ url, want string }{
		{"smtp://user:pw@mail.example.nl:587", "required"},
		{"smtp://192.0.2.25", "required"},
		{"smtp://mail.example.nl?tls=opportunistic", "opportunistic"},
		{"smtp://mail.example.nl?tls=none", "none"},
		{"smtp://127.0.0.1:2525", ""},
		{"smtp://localhost:25", ""},
		{"smtp://[::1]:25", ""},
		{"smtps://mail.example.nl", ""},
	}
	for _, tc := range cases {
		c, err := loadConfig(map[string]string{"DIALOOG_SMTP_URL": tc.url, "DIALOOG_MAIL_FROM": "no-reply@example.nl"})
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if got := c.SMTPURL.Query().Get("tls"); got != tc.want {
			t.Errorf("%s: tls=%q, want %q", tc.url, got, tc.want)
		}
	}
}

// TestSQLiteFilesArePrivate: the database file and the -wal and -shm
// files beside it are readable by their owner only, whatever the umask,
// also for a database file created before with a wider mode.
func TestSQLiteFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o002)
	defer syscall.Umask(old)
	dir := t.TempDir()
	path := filepath.Join(dir, db.SQLiteFile)
	check := func(when string) {
		t.Helper()
		d, err := db.OpenSQLite(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if _, err := d.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(name)
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: %s has mode %v, want 0600", when, filepath.Base(name), fi.Mode().Perm())
			}
		}
	}
	check("new")
	if err := os.Chmod(path, 0o664); err != nil {
		t.Fatal(err)
	}
	os.Remove(path + "-wal")
	os.Remove(path + "-shm")
	check("opened again")
}

// firstStart starts Dialoog once on a fresh data dir with the database of
// engine name ("sqlite" or "postgres"), by inviting jan@example.nl, and
// returns the data dir, the environment and the invite command, which
// runs with extra variables on top of it.
func firstStart(t *testing.T, name string) (string, map[string]string, func(email string, extra map[string]string) (int, string)) {
	t.Helper()
	dir := t.TempDir()
	url := ""
	if name == "postgres" {
		url = dbtest.NewTestSchema(t)
	}
	env := map[string]string{"DIALOOG_DATA_DIR": dir, "DIALOOG_ORG_NAME": "OSAW", "DIALOOG_BASE_URL": "http://dialoog.test",
		"DIALOOG_DATABASE_URL": url}
	invite := func(email string, extra map[string]string) (int, string) {
		t.Helper()
		e := maps.Clone(env)
		maps.Copy(e, extra)
		code, _, errOut := runCmd(t, e, "invite", "--email", email)
		return code, errOut
	}
	if code, errOut := invite("jan@example.nl", nil); code != 0 {
		t.Fatalf("first start: exit %d: %s", code, errOut)
	}
	return dir, env, invite
}

// TestLostOrChangedKeyStopsStartUp: a start with another encryption key
// than the one the data was sealed with (the key file lost, replaced, or
// DIALOOG_ENCRYPTION_KEY changed) stops with a message that says so,
// instead of generating a new key and failing later on every read. A
// database from before the check gets its check value from the key it is
// opened with.
func TestLostOrChangedKeyStopsStartUp(t *testing.T) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			dir, env, invite := firstStart(t, name)
			keyFile := filepath.Join(dir, vault.KeyFile)
			key, err := os.ReadFile(keyFile)
			if err != nil {
				t.Fatal(err)
			}

			// The key file is lost.
			if err := os.Remove(keyFile); err != nil {
				t.Fatal(err)
			}
			code, errOut := invite("piet@example.nl", nil)
			if code == 0 || !strings.Contains(errOut, "encryption key file") || !strings.Contains(errOut, "missing") {
				t.Fatalf("start without the key file: exit %d: %s", code, errOut)
			}
			if _, err := os.Stat(keyFile); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a new key file was generated: %v", err)
			}

			// Another key, from the variable or a replaced file.
			other := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
			code, errOut = invite("piet@example.nl", map[string]string{"DIALOOG_ENCRYPTION_KEY": other})
			if code == 0 || !strings.Contains(errOut, "DIALOOG_ENCRYPTION_KEY does not match the database") {
				t.Fatalf("start with another key: exit %d: %s", code, errOut)
			}
			if err := os.WriteFile(keyFile, []byte(other+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			code, errOut = invite("piet@example.nl", nil)
			if code == 0 || !strings.Contains(errOut, "does not match the database") {
				t.Fatalf("start with a replaced key file: exit %d: %s", code, errOut)
			}

			// The right key starts; so does the same key from the variable.
			if err := os.WriteFile(keyFile, key, 0o600); err != nil {
				t.Fatal(err)
			}
			if code, errOut := invite("piet@example.nl", nil); code != 0 {
				t.Fatalf("start with the restored key: exit %d: %s", code, errOut)
			}
			if code, errOut := invite("klaas@example.nl", map[string]string{"DIALOOG_ENCRYPTION_KEY": strings.TrimSpace(string(key))}); code != 0 {
				t.Fatalf("start with the key in the variable: exit %d: %s", code, errOut)
			}

			// A database from before the check: its first start writes the
			// check value from the key in use; another key is refused after.
			d := openEngine(t, name, env)
			if _, err := d.NewDelete().Table("key_check").Where("1 = 1").Exec(context.Background()); err != nil {
				t.Fatal(err)
			}
			d.Close()
			if code, errOut := invite("anna@example.nl", nil); code != 0 {
				t.Fatalf("first start after the migration: exit %d: %s", code, errOut)
			}
			if code, errOut := invite("anna@example.nl", map[string]string{"DIALOOG_ENCRYPTION_KEY": other}); code == 0 || !strings.Contains(errOut, "does not match") {
				t.Fatalf("another key after the migration: exit %d: %s", code, errOut)
			}
		})
	}
}

func openEngine(t *testing.T, name string, env map[string]string) *db.DB {
	t.Helper()
	var d *db.DB
	var err error
	if name == "postgres" {
		d, err = db.OpenPostgres(context.Background(), env["DIALOOG_DATABASE_URL"])
	} else {
		d, err = db.OpenSQLite(context.Background(), filepath.Join(env["DIALOOG_DATA_DIR"], db.SQLiteFile))
	}
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestOlderVersionRefusesNewerDatabase: a binary of an older version
// started against a database that a newer one migrated (a rollback, an
// old instance restarted during a rolling upgrade) stops with a message
// that says so, on every command, instead of serving with rules the
// newer migrations changed.
func TestOlderVersionRefusesNewerDatabase(t *testing.T) {
	engines := map[string]func(t *testing.T) string{
		"sqlite":   func(*testing.T) string { return "" },
		"postgres": func(t *testing.T) string { return dbtest.NewTestSchema(t) },
	}
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{"DIALOOG_DATA_DIR": t.TempDir(), "DIALOOG_BASE_URL": "http://dialoog.test",
				"DIALOOG_ADDR": "127.0.0.1:0", "DIALOOG_DATABASE_URL": engines[name](t)}
			if code, _, errOut := runCmd(t, env, "migrate"); code != 0 {
				t.Fatalf("migrate: exit %d: %s", code, errOut)
			}
			d := openEngine(t, name, env)
			if _, err := d.ExecContext(context.Background(), "INSERT INTO schema_migrations (version, applied_at) VALUES ('9999_newer', '2030-01-01T00:00:00Z')"); err != nil {
				t.Fatal(err)
			}
			d.Close()
			for _, cmd := range []string{"migrate", "serve"} {
				// A serve that starts anyway ends when the context does.
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				var stdout, stderr bytes.Buffer
				code := run(ctx, []string{cmd}, func(k string) string { return env[k] }, &stdout, &stderr)
				cancel()
				out, errOut := stdout.String(), stderr.String()
				if code == 0 || !strings.Contains(errOut, "migrated by a newer version of Dialoog") || !strings.Contains(errOut, "9999_newer") {
					t.Errorf("%s: exit %d, stdout %q, stderr %q; want a refusal naming the newer migration", cmd, code, out, errOut)
				}
			}
		})
	}
}

// TestDatabaseURLErrorsNameTheVariable: a PostgreSQL URL that passes the
// first check but that the driver refuses (a bad pool size or sslmode),
// or a server that cannot be reached, stops start-up with a message that
// names DIALOOG_DATABASE_URL, and never shows the URL's password.
func TestDatabaseURLErrorsNameTheVariable(t *testing.T) {
	for _, url := range []string{
		"postgres://dialoog:Geheim-Wachtwoord-1@127.0.0.1:5432/dialoog?pool_max_conns=veel",
		"postgres://dialoog:Geheim-Wachtwoord-1@127.0.0.1:5432/dialoog?sslmode=bijna",
		"postgres://dialoog:Geheim-Wachtwoord-1@127.0.0.1:1/dialoog?sslmode=disable&connect_timeout=2",
	} {
		code, _, errOut := runCmd(t, map[string]string{"DIALOOG_DATA_DIR": t.TempDir(), "DIALOOG_DATABASE_URL": url}, "migrate")
		if code == 0 || !strings.Contains(errOut, "DIALOOG_DATABASE_URL") {
			t.Errorf("%s: exit %d, stderr %q; want an error naming DIALOOG_DATABASE_URL", url, code, errOut)
		}
		if strings.Contains(errOut, "Geheim-Wachtwoord-1") {
			t.Errorf("the error shows the password: %q", errOut)
		}
	}
}

// TestDataDirErrorNamesTheVariable: a data dir that cannot be made (a
// file in the way, here) stops start-up with a message naming
// DIALOOG_DATA_DIR.
func TestDataDirErrorNamesTheVariable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "geen-map")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCmd(t, map[string]string{"DIALOOG_DATA_DIR": file}, "migrate")
	if code == 0 || !strings.Contains(errOut, "DIALOOG_DATA_DIR") {
		t.Errorf("exit %d, stderr %q; want an error naming DIALOOG_DATA_DIR", code, errOut)
	}
}

// TestWrongKeyOnDatabaseFromBeforeTheKeyCheck: a database from before
// migration 0013 holds sealed data but no stored check value. A start with
// another key, or without the key file, must not take that key for the
// data's and store its check: it opens the data already sealed (the
// newest message body, the newest linked authenticator app's secret) and
// stops when that fails, storing nothing. The right key starts and stores
// the check.
func TestWrongKeyOnDatabaseFromBeforeTheKeyCheck(t *testing.T) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dir, env, invite := firstStart(t, name)
			keyFile := filepath.Join(dir, vault.KeyFile)
			key, err := os.ReadFile(keyFile)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(key)))
			if err != nil {
				t.Fatal(err)
			}
			a, err := vault.New(raw)
			if err != nil {
				t.Fatal(err)
			}
			other := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
			checks := func(d *db.DB) int64 {
				t.Helper()
				n, err := d.NewSelect().Table("key_check").Count(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			// refused starts with another key and without the key file on
			// the database as it is now, with its check removed.
			refused := func(step string) {
				t.Helper()
				d := openEngine(t, name, env)
				if _, err := d.NewDelete().Table("key_check").Where("1 = 1").Exec(ctx); err != nil {
					t.Fatal(err)
				}
				d.Close()
				code, errOut := invite("piet@example.nl", map[string]string{"DIALOOG_ENCRYPTION_KEY": other})
				if code == 0 || !strings.Contains(errOut, "DIALOOG_ENCRYPTION_KEY does not match the database") {
					t.Fatalf("%s: start with another key: exit %d: %s", step, code, errOut)
				}
				if err := os.Remove(keyFile); err != nil {
					t.Fatal(err)
				}
				code, errOut = invite("piet@example.nl", nil)
				if code == 0 || !strings.Contains(errOut, "encryption key file") || !strings.Contains(errOut, "missing") {
					t.Fatalf("%s: start without the key file: exit %d: %s", step, code, errOut)
				}
				if _, err := os.Stat(keyFile); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("%s: a new key file was generated: %v", step, err)
				}
				if err := os.WriteFile(keyFile, key, 0o600); err != nil {
					t.Fatal(err)
				}
				d = openEngine(t, name, env)
				defer d.Close()
				if n := checks(d); n != 0 {
					t.Fatalf("%s: a refused start stored a key check", step)
				}
			}

			// A message sealed with the key, as a database from before
			// migration 0013 holds it.
			d := openEngine(t, name, env)
			var orgID int64
			if err := d.NewSelect().Model((*db.Organisation)(nil)).Column("id").Limit(1).Scan(ctx, &orgID); err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC()
			th := &db.Thread{OrgID: orgID, Subject: "Oud", CreatedAt: now, LastMessageAt: now}
			if _, err := d.NewInsert().Model(th).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			m := &db.Message{ThreadID: th.ID, Body: a.Seal([]byte("Hallo"), fmt.Appendf(nil, "message:thread:%d", th.ID)), KeyID: a.KeyID(), CreatedAt: now}
			if _, err := d.NewInsert().Model(m).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			d.Close()
			refused("a sealed message")

			// Only a linked authenticator app's secret sealed with the key.
			d = openEngine(t, name, env)
			if _, err := d.NewDelete().Model((*db.Message)(nil)).Where("id = ?", m.ID).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			var userID int64
			if err := d.NewSelect().Model((*db.User)(nil)).Column("id").Where("email = ?", "jan@example.nl").Scan(ctx, &userID); err != nil {
				t.Fatal(err)
			}
			f := &db.SecondFactor{UserID: userID, Kind: db.FactorTOTP, TOTPSecret: a.Seal([]byte("JBSWY3DPEHPK3PXP"), fmt.Appendf(nil, "totp:%d", userID)),
				VerifiedAt: bun.NullTime{Time: now}, CreatedAt: now}
			if _, err := d.NewInsert().Model(f).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			d.Close()
			refused("a sealed TOTP secret")

			// The key the data was sealed with starts, and its check is
			// stored; another key is refused after.
			if code, errOut := invite("anna@example.nl", nil); code != 0 {
				t.Fatalf("start with the right key: exit %d: %s", code, errOut)
			}
			d = openEngine(t, name, env)
			var stored []byte
			if err := d.NewSelect().Table("key_check").Column("check_value").Where("id = 1").Scan(ctx, &stored); err != nil {
				t.Fatal(err)
			}
			d.Close()
			if !bytes.Equal(stored, a.KeyCheck()) {
				t.Fatal("the stored check is not the right key's")
			}
			if code, errOut := invite("anna@example.nl", map[string]string{"DIALOOG_ENCRYPTION_KEY": other}); code == 0 || !strings.Contains(errOut, "does not match") {
				t.Fatalf("another key after the check was stored: exit %d: %s", code, errOut)
			}
		})
	}
}
