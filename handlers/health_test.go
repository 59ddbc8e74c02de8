package handlers

import (
	"context"
	"net/http"
	"testing"
	"time"
)

func TestHealthz(t *testing.T) {
	// Liveness must not depend on the database.
	ta := newTestApp(t, withHealth(pinger(func(context.Context) error { return errDown })))
	resp, body := ta.browser(t).do(http.MethodGet, "/healthz", nil)
	wantStatus(t, resp, http.StatusOK)
	if body != "ok" {
		t.Errorf("body %q, want ok", body)
	}
}

func TestReadyz(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	cases := []struct {
		name   string
		ping   pinger
		status int
	}{
		{"OK", func(context.Context) error { return nil }, http.StatusOK},
		{"PingFails", func(context.Context) error { return errDown }, http.StatusServiceUnavailable},
		// A driver that ignores its context must not hold the probe open.
		{"PingHangs", func(context.Context) error { <-release; return nil }, http.StatusServiceUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ta := newTestApp(t, withHealth(tc.ping))
			start := time.Now()
			resp, _ := ta.browser(t).do(http.MethodGet, "/readyz", nil)
			wantStatus(t, resp, tc.status)
			if d := time.Since(start); d > readyTimeout+time.Second {
				t.Errorf("readyz took %v", d)
			}
			if got := resp.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q", got)
			}
		})
	}
}

type writeChecker func(context.Context) error

func (w writeChecker) CheckWrite(ctx context.Context) error { return w(ctx) }

// TestReadyzWritePath: an instance whose attachment store takes no write
// is not ready.
func TestReadyzWritePath(t *testing.T) {
	ok := pinger(func(context.Context) error { return nil })
	for _, tc := range []struct {
		name   string
		check  writeChecker
		status int
	}{
		{"OK", func(context.Context) error { return nil }, http.StatusOK},
		{"WriteFails", func(context.Context) error { return errDown }, http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ta := newTestApp(t, withHealth(ok), func(d *Deps) { d.Files = tc.check })
			resp, _ := ta.browser(t).do(http.MethodGet, "/readyz", nil)
			wantStatus(t, resp, tc.status)
		})
	}
}

// TestReadyzWhileStopping: from the moment the process is told to stop,
// /readyz answers 503, before the live connections and the listener
// close, so that a load balancer sends nothing new; /healthz still
// answers (the process is alive and finishing its requests).
func TestReadyzWhileStopping(t *testing.T) {
	stopping := make(chan struct{})
	ok := pinger(func(context.Context) error { return nil })
	ta := newTestApp(t, withHealth(ok), func(d *Deps) { d.Stopping = stopping })
	resp, _ := ta.browser(t).do(http.MethodGet, "/readyz", nil)
	wantStatus(t, resp, http.StatusOK)
	close(stopping)
	resp, _ = ta.browser(t).do(http.MethodGet, "/readyz", nil)
	wantStatus(t, resp, http.StatusServiceUnavailable)
	resp, _ = ta.browser(t).do(http.MethodGet, "/healthz", nil)
	wantStatus(t, resp, http.StatusOK)
}
