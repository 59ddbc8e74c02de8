package e2e

import (
	"context"
	"database/sql"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pgCluster is a PostgreSQL server of the test's own, in a temporary
// directory, so that a test can restart it without disturbing the tests of
// other packages that use the machine's server at the same time.
type pgCluster struct {
	bin  string // directory of initdb, pg_ctl
	dir  string
	port int
}

// URL is a connection URL for database db of the cluster.
func (c *pgCluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// startPrivatePostgres creates and starts a cluster with Debian's
// PostgreSQL binaries, as the postgres system user (initdb refuses root).
// Without the binaries the test is skipped, or fails under CI.
func startPrivatePostgres(t *testing.T) *pgCluster {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		skipOrFail(t, "PostgreSQL server binaries not found under /usr/lib/postgresql")
	}
	sort.Strings(bins)
	c := &pgCluster{bin: filepath.Dir(bins[len(bins)-1])}
	pg, err := user.Lookup("postgres")
	if err != nil {
		skipOrFail(t, "no postgres system user: %v", err)
	}
	uid, _ := strconv.Atoi(pg.Uid)
	gid, _ := strconv.Atoi(pg.Gid)
	dir, err := os.MkdirTemp("", "dialoog-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c.dir = dir
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	c.asPostgres(t, filepath.Join(c.bin, "initdb"), "-D", c.data(), "-A", "trust", "-U", "postgres", "--no-sync")
	c.ctl(t, "start", "-w", "-t", "30")
	t.Cleanup(func() { c.ctl(t, "stop", "-m", "immediate", "-w") })
	return c
}

func (c *pgCluster) data() string { return filepath.Join(c.dir, "data") }

func (c *pgCluster) ctl(t *testing.T, args ...string) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", c.port, c.dir)
	full := append([]string{filepath.Join(c.bin, "pg_ctl"), "-D", c.data(), "-l", filepath.Join(c.dir, "log"), "-o", opts}, args...)
	c.asPostgres(t, full...)
}

// Restart stops the server (dropping every connection) and starts it again.
func (c *pgCluster) Restart(t *testing.T) {
	t.Helper()
	c.ctl(t, "restart", "-m", "fast", "-w", "-t", "30")
}

func (c *pgCluster) asPostgres(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("runuser", append([]string{"-u", "postgres", "--"}, args...)...)
	cmd.Dir = c.dir
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("%s: timed out", strings.Join(args, " "))
	}
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		t.Fatalf("%s: %v\n%s\nserver log:\n%s", strings.Join(args, " "), err, out, log)
	}
}

func TestPrivatePostgres(t *testing.T) {
	c := startPrivatePostgres(t)
	ctx := t.Context()
	d, err := openPG(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var n int
	if err := d.QueryRowContext(ctx, "SELECT 1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("query: %v", err)
	}
	c.Restart(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := d.QueryRowContext(ctx, "SELECT 2").Scan(&n)
		if err == nil && n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection after restart: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// openPG opens a database/sql pool on a PostgreSQL URL.
func openPG(ctx context.Context, dsn string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	d := stdlib.OpenDB(*cfg)
	if err := d.PingContext(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}
