package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"dialoog/config"
	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestHealthWhileStarting: while an instance starts (migrations that take
// long, or wait for another instance's), /healthz answers, so that a
// liveness probe does not kill it halfway (its migration would roll back
// and start over at every restart), and /readyz and every other path
// answer 503, so that no traffic goes to it yet. Here the instance waits
// for the migration lock another holds, as a second instance does, and
// its log says so.
func TestHealthWhileStarting(t *testing.T) {
	url := dbtest.NewTestSchema(t)
	ctx := context.Background()
	holder, err := db.OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	conn, err := holder.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const migrationLock = 0x4469616c6f6f67 // db.migrationLockID
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", migrationLock); err != nil {
		t.Fatal(err)
	}
	locked := true
	defer func() {
		if locked {
			conn.ExecContext(ctx, "SELECT pg_advisory_unlock(?)", migrationLock)
		}
	}()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	vars := map[string]string{"DIALOOG_ADDR": addr, "DIALOOG_BASE_URL": "http://" + addr, "DIALOOG_DATA_DIR": t.TempDir(),
		"DIALOOG_DATABASE_URL": url, "DIALOOG_DEV": "0",
		"DIALOOG_SHUTDOWN_WAIT": "0s"} // nothing to wait for at its stop
	cfg, _, err := config.Load(func(k string) string { return vars[k] }, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	serveCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	var logs lockedBuffer
	go func() { done <- serve(serveCtx, cfg, slog.New(slog.NewTextHandler(&logs, nil)), io.Discard) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not return")
		}
	}()

	client := &http.Client{Timeout: 2 * time.Second}
	status := func(path string) int {
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitFor := func(path string, want int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			got := status(path)
			if got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET %s: %d, want %d", path, got, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor("/healthz", http.StatusOK)
	for _, path := range []string{"/readyz", "/", "/inloggen"} {
		if got := status(path); got != http.StatusServiceUnavailable {
			t.Errorf("GET %s while starting: %d, want 503", path, got)
		}
	}

	// The log says what the instance waits for.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), "waiting for another instance to finish migrating"); {
		if time.Now().After(deadline) {
			t.Fatalf("the log does not say that the instance waits for another's migration:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The other instance's migration ends: this one starts.
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock(?)", migrationLock); err != nil {
		t.Fatal(err)
	}
	locked = false
	waitFor("/readyz", http.StatusOK)
	if got := status("/healthz"); got != http.StatusOK {
		t.Errorf("GET /healthz after the start: %d", got)
	}
}

// TestStopWhileStarting: an instance told to stop while it waits for
// another's migration stops at once and successfully (exit 0, as a stop
// after the start): it was asked to stop, nothing failed.
func TestStopWhileStarting(t *testing.T) {
	url := dbtest.NewTestSchema(t)
	ctx := context.Background()
	holder, err := db.OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	conn, err := holder.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const migrationLock = 0x4469616c6f6f67 // db.migrationLockID
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", migrationLock); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, "SELECT pg_advisory_unlock(?)", migrationLock)

	env := map[string]string{"DIALOOG_ADDR": "127.0.0.1:0", "DIALOOG_BASE_URL": "http://dialoog.test", "DIALOOG_DATA_DIR": t.TempDir(),
		"DIALOOG_DATABASE_URL": url, "DIALOOG_DEV": "0",
		"DIALOOG_SHUTDOWN_WAIT": "0s"} // nothing to wait for at its stop
	serveCtx, stop := context.WithCancel(ctx)
	defer stop()
	var stderr lockedBuffer
	code := make(chan int, 1)
	go func() { code <- run(serveCtx, nil, func(k string) string { return env[k] }, io.Discard, &stderr) }()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(stderr.String(), "waiting for another instance"); {
		if time.Now().After(deadline) {
			t.Fatalf("the instance does not wait for the migration lock:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	select {
	case c := <-code:
		if c != 0 {
			t.Errorf("exit %d after a stop while starting; stderr:\n%s", c, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the instance did not stop")
	}
}
