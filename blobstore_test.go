package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"io/fs"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/auth"
	"dialoog/blob"
	"dialoog/blob/blobtest"
	"dialoog/config"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/vault"
)

// instance is one serving Dialoog process for a test: serve() on a
// loopback port with its own data dir.
type instance struct {
	base    string
	dataDir string
}

// startInstance runs serve with env (plus its own address, public URL and
// data dir) until the test ends.
func startInstance(t *testing.T, env map[string]string) *instance {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	in := &instance{base: "http://" + addr, dataDir: t.TempDir()}
	vars := map[string]string{"DIALOOG_ADDR": addr, "DIALOOG_BASE_URL": in.base, "DIALOOG_DATA_DIR": in.dataDir, "DIALOOG_ORG_NAME": "OSAW"}
	for k, v := range env {
		vars[k] = v
	}
	cfg, _, err := config.Load(func(k string) string { return vars[k] }, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.DiscardHandler), io.Discard) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve %s: %v", in.base, err)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(in.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return in
			}
		}
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready: %v", in.base, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// signedIn stores a user who finished the first visit and returns a
// client with a session past the second factor, valid on every instance.
func signedIn(t *testing.T, d *db.DB, email string, internal bool) (*http.Client, *db.User) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	done := bun.NullTime{Time: now}
	u := &db.User{Email: email, Kind: db.KindExternal, Status: db.StatusActive, Language: "nl", Gender: "unknown",
		Initials: "T.", FirstName: "Test", LastName: email,
		SecondFactorDoneAt: done, RecoveryConfirmedAt: done, ProfileCompletedAt: done, LastLoginAt: done, CreatedAt: now, UpdatedAt: now}
	if internal {
		var org db.Organisation
		if err := d.NewSelect().Model(&org).Where("name = ?", "OSAW").Scan(ctx); err != nil {
			t.Fatal(err)
		}
		u.Kind, u.OrgID = db.KindInternal, &org.ID
	}
	if _, err := d.NewInsert().Model(u).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := d.NewUpdate().Model(&db.Password{ID: u.ID, Hash: "not used"}).WherePK().Exec(ctx); err != nil {
		t.Fatal(err)
	}
	terms, err := auth.CurrentTerms(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []any{
		&db.TermsAcceptance{UserID: u.ID, TermsVersionID: terms.ID, IP: "127.0.0.1", AcceptedAt: now},
		&db.SecondFactor{UserID: u.ID, Kind: db.FactorSMS, Phone: "+31612345678", VerifiedAt: done, CreatedAt: now},
	} {
		if _, err := d.NewInsert().Model(m).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	token, err := (&auth.Sessions{DB: d, Now: time.Now}).Create(ctx, d, u.ID, "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.NewUpdate().Model((*db.Session)(nil)).Set("second_factor_at = ?", now).Where("user_id = ?", u.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	// Cookies are per host, and every instance is 127.0.0.1.
	jar.SetCookies(&url.URL{Scheme: "http", Host: "127.0.0.1"}, []*http.Cookie{
		{Name: "dialoog_session", Value: token, Path: "/"},
		{Name: "dialoog_csrf", Value: csrfToken, Path: "/"},
	})
	return &http.Client{Jar: jar, Timeout: time.Minute}, u
}

// csrfToken is a well-formed CSRF token (32 bytes, base64url) the test
// clients send as cookie and header.
var csrfToken = base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))

var chipID = regexp.MustCompile(`name="attachment" value="(\d+)"`)

// upload posts a file to an instance as app.js does and returns its id.
func upload(t *testing.T, c *http.Client, in *instance, name string, content []byte) string {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(content)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, in.base+"/bijlagen", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-Csrf-Token", csrfToken)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	m := chipID.FindSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("upload to %s: %d\n%s", in.base, resp.StatusCode, page)
	}
	return string(m[1])
}

// compose starts a conversation with the attachment through an instance.
func compose(t *testing.T, c *http.Client, in *instance, to, attachment string) {
	t.Helper()
	form := url.Values{"_csrf": {csrfToken}, "to": {to}, "subject": {"Rapport"}, "body": {"Zie bijlage"}, "attachment": {attachment}}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	defer func() { c.CheckRedirect = nil }()
	resp, err := c.PostForm(in.base+"/berichten/nieuw", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		page, _ := io.ReadAll(resp.Body)
		t.Fatalf("compose on %s: %d\n%s", in.base, resp.StatusCode, page)
	}
}

// download fetches an attachment from an instance.
func download(t *testing.T, c *http.Client, in *instance, id string) []byte {
	t.Helper()
	resp, err := c.Get(in.base + "/bijlagen/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("download %s from %s: %d %v", id, in.base, resp.StatusCode, err)
	}
	return data
}

// filesUnder lists the regular files under dir.
func filesUnder(dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestAttachmentsAcrossInstances: two server processes with their own
// data dirs on one PostgreSQL serve each other's attachments, with the
// default store (the database) and with an S3 server started by the test;
// neither keeps an attachment on its own disk.
func TestAttachmentsAcrossInstances(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	for _, store := range []string{"postgres", "s3"} {
		t.Run(store, func(t *testing.T) {
			env := map[string]string{
				// A small pool: the servers fill theirs at start, and the
				// machine's PostgreSQL serves the other packages' tests too.
				"DIALOOG_DATABASE_URL":   dbtest.NewTestSchema(t) + "&pool_max_conns=5",
				"DIALOOG_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(key),
			}
			var s3 *blobtest.S3Server
			if store == "s3" {
				s3 = blobtest.NewS3Server(t)
				env["DIALOOG_BLOB_URL"] = s3.URL
			}
			a := startInstance(t, env)
			b := startInstance(t, env)
			d, err := db.OpenPostgres(context.Background(), env["DIALOOG_DATABASE_URL"])
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			hrClient, _ := signedIn(t, d, "hr@osaw.nl", true)
			janClient, jan := signedIn(t, d, "jan@example.nl", false)

			content := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("rapport "), 200_000)...) // 1.6 MB: several chunks
			id := upload(t, hrClient, a, "rapport.pdf", content)
			// The uploader sees the pending upload through the other
			// instance too.
			if got := download(t, hrClient, b, id); !bytes.Equal(got, content) {
				t.Fatalf("pending upload through B: %d bytes, differs", len(got))
			}
			compose(t, hrClient, b, jan.Email, id)
			for name, in := range map[string]*instance{"A": a, "B": b} {
				if got := download(t, janClient, in, id); !bytes.Equal(got, content) {
					t.Fatalf("recipient through %s: %d bytes, differs", name, len(got))
				}
			}
			for _, in := range []*instance{a, b} {
				if files := filesUnder(filepath.Join(in.dataDir, "attachments")); len(files) != 0 {
					t.Fatalf("attachment files on an instance's disk: %v", files)
				}
			}
			if s3 != nil {
				if objs := s3.Objects(t); len(objs) != 1 {
					t.Fatalf("objects in the bucket: %v", objs)
				}
			} else {
				var n int
				if err := d.NewSelect().Table("blob_chunks").ColumnExpr("count(DISTINCT key)").Scan(context.Background(), &n); err != nil || n != 1 {
					t.Fatalf("blobs in the database: %d %v", n, err)
				}
			}
		})
	}
}

// TestCommandLeavesUploadsInProgress: a command run beside the server on
// the same data dir (`dialoog invite`, `dialoog migrate`, as the README
// allows) does not remove the temporary file of a file still being
// uploaded to the server, which would fail that upload.
func TestCommandLeavesUploadsInProgress(t *testing.T) {
	cfg, err := loadConfig(map[string]string{"DIALOOG_DATA_DIR": t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	store := &blob.Dir{Root: attachmentsDir(cfg)}
	pr, pw := io.Pipe()
	put := make(chan error, 1)
	go func() { put <- store.Put(ctx, "abcdef", pr) }()
	if _, err := pw.Write([]byte("the first part of a large file")); err != nil {
		t.Fatal(err)
	}
	// The upload is under way: its temporary file exists.
	if err := migrate(ctx, cfg, io.Discard); err != nil {
		t.Fatal(err)
	}
	pw.Write([]byte(", and the rest"))
	pw.Close()
	if err := <-put; err != nil {
		t.Fatalf("upload during a command: %v", err)
	}
	r, err := store.Get(ctx, "abcdef")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, _ := io.ReadAll(r); string(got) != "the first part of a large file, and the rest" {
		t.Fatalf("stored %q", got)
	}
}

// TestDatabaseStoreLeavesPoolToPages: the PostgreSQL store is opened with
// a bound on the connections its transfers hold, below the pool's size
// (see TestSlowDownloadsLeaveThePool in handlers).
func TestDatabaseStoreLeavesPoolToPages(t *testing.T) {
	url := dbtest.NewTestSchema(t)
	d := dbtest.MustOpenPostgresURL(t, url)
	cfg, err := loadConfig(map[string]string{"DIALOOG_DATA_DIR": t.TempDir(), "DIALOOG_DATABASE_URL": url, "DIALOOG_BLOB_URL": "postgres"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	files, err := openFiles(context.Background(), cfg, d, v, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	st, ok := files.Store.(*blob.Database)
	if !ok {
		t.Fatalf("store %T, want the database", files.Store)
	}
	if st.MaxStreams < 1 || st.MaxStreams >= d.PoolSize() {
		t.Fatalf("MaxStreams %d with a pool of %d", st.MaxStreams, d.PoolSize())
	}
}
