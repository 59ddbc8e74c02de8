package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// postgresAdminDSN is the database from which the test creates and drops its
// own; DIALOOG_TEST_DATABASE_URL overrides it, as for the other tests.
const postgresAdminDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// e2eAppName is the application_name of the tests' own admin connections,
// so that they can be told apart in pg_stat_activity.
const e2eAppName = "dialoog-e2e"

// freshPostgres creates an empty database e2e_<random> and returns its URL;
// cleanup drops it. Without a reachable PostgreSQL the test is skipped, or
// fails under CI.
func freshPostgres(t *testing.T) string {
	t.Helper()
	dsn := postgresAdminDSN
	if v := strings.TrimSpace(os.Getenv("DIALOOG_TEST_DATABASE_URL")); v != "" {
		dsn = v
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = e2eAppName
	admin := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { admin.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		skipOrFail(t, "PostgreSQL not reachable at %s: %v", dsn, err)
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "e2e_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		// Runs after the servers of the test have stopped (cleanups run last
		// registered first, and the servers start after this).
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		// A few tries: a pooled connection may have gone stale meanwhile.
		var err error
		for range 3 {
			if _, err = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err == nil {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Errorf("drop database %s: %v", name, err)
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse %s: %v", dsn, err)
	}
	u.Path = "/" + name
	return u.String()
}

func TestPostgresInstances(t *testing.T) {
	dbURL := freshPostgres(t)
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		// A small pool: the servers fill theirs at start, and the
		// machine's PostgreSQL serves the other packages' tests meanwhile.
		"DIALOOG_DATABASE_URL":   withQuery(dbURL, "pool_max_conns=5"),
		"DIALOOG_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(key), // shared data needs one key
	}

	// Both start at the same time on an empty database: the migrations and
	// the first start's bootstrap race, and must still happen once.
	servers := []*server{launchServer(t, env), launchServer(t, env)}
	for _, s := range servers {
		s.waitReady(t)
	}

	var creators []*server
	for _, s := range servers {
		resp, body := httpGet(t, s.BaseURL+"/readyz")
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s/readyz: %s, want 200; body: %q", s.BaseURL, resp.Status, body)
		}
		if s.AdminLink != "" {
			creators = append(creators, s)
		}
	}
	if len(creators) != 1 {
		for _, s := range servers {
			t.Logf("server %s stdout:\n%s", s.BaseURL, s.stdout.String())
		}
		t.Fatalf("%d of the 2 instances printed a first-admin sign-up link, want exactly 1", len(creators))
	}

	link, err := url.Parse(creators[0].AdminLink)
	if err != nil {
		t.Fatalf("admin link %q: %v", creators[0].AdminLink, err)
	}
	if !strings.HasPrefix(link.Path, "/aanmelden/") {
		t.Fatalf("admin link %q is not a /aanmelden/ link", creators[0].AdminLink)
	}
	for _, s := range servers {
		resp, body := httpGet(t, s.BaseURL+link.Path)
		if resp.StatusCode != http.StatusOK || !signupButton.MatchString(body) {
			t.Errorf("instance %s: GET %s: %s, want 200 with the AANMELDEN button; body: %.1000s",
				s.BaseURL, link.Path, resp.Status, body)
		}
	}
}

// withQuery adds a query parameter (k=v) to a database URL.
func withQuery(u, kv string) string {
	if strings.Contains(u, "?") {
		return u + "&" + kv
	}
	return u + "?" + kv
}
