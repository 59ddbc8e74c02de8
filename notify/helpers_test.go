package notify

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"sync"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/vault"
)

func testVault(t testing.TB, fill byte) *vault.Vault {
	t.Helper()
	v, err := vault.New(bytes.Repeat([]byte{fill}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// clock is an injectable clock that only moves when told to.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

// newClock starts a minute ahead of the real clock, so rows queued during the
// test (stamped with the real time) are due.
func newClock() *clock { return &clock{t: time.Now().Add(time.Minute)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func row(t *testing.T, d *db.DB, id int64) db.OutboxItem {
	t.Helper()
	var it db.OutboxItem
	if err := d.NewSelect().Model(&it).Where("id = ?", id).Scan(context.Background()); err != nil {
		t.Fatalf("load outbox row %d: %v", id, err)
	}
	return it
}

func queueMail(t *testing.T, d *db.DB, o *Outbox, m Mail) int64 {
	t.Helper()
	id, err := o.QueueMail(context.Background(), d, m)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func queueSMS(t *testing.T, d *db.DB, o *Outbox, s SMS) int64 {
	t.Helper()
	id, err := o.QueueSMS(context.Background(), d, s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func runOnce(t *testing.T, w *Worker) int {
	t.Helper()
	n, err := w.RunOnce(context.Background())
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	return n
}

// freeAddr returns a loopback address nothing listens on (yet).
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func fromAddr() *mail.Address {
	return &mail.Address{Name: "Dialoog", Address: "no-reply@dialoog.test"}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var errTest = errors.New("test")
