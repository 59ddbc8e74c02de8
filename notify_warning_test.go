package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"dialoog/config"
)

// lockedBuffer is a bytes.Buffer for a logger written from goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serveLog runs serve with env until it is ready and returns what it
// logged at start.
func serveLog(t *testing.T, env map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	vars := map[string]string{"DIALOOG_ADDR": addr, "DIALOOG_BASE_URL": "http://" + addr, "DIALOOG_DATA_DIR": t.TempDir()}
	for k, v := range env {
		vars[k] = v
	}
	cfg, _, err := config.Load(func(k string) string { return vars[k] }, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.NewTextHandler(&logs, nil)), io.Discard) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return logs.String()
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("serve not ready")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServeWarnsWithoutMailOrSMS: without DIALOOG_SMTP_URL or
// DIALOOG_SMS_URL mail and texts are "sent" by the dev outbox, that is:
// nowhere. With the dev outbox off (a server others use) that would lose
// every invitation and code without a word, so the start says so, naming
// the variable; with the dev outbox on, nothing is to be said.
func TestServeWarnsWithoutMailOrSMS(t *testing.T) {
	logs := serveLog(t, map[string]string{"DIALOOG_DEV": "0"})
	for _, v := range []string{"DIALOOG_SMTP_URL", "DIALOOG_SMS_URL"} {
		if !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, v) {
			t.Errorf("no warning naming %s in the start's log:\n%s", v, logs)
		}
	}
	if logs := serveLog(t, map[string]string{"DIALOOG_DEV": "1"}); strings.Contains(logs, "DIALOOG_SMTP_URL") {
		t.Errorf("a warning with the dev outbox on:\n%s", logs)
	}
}
