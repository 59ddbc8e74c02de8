package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"dialoog/auth"
	"dialoog/handlers"
	"dialoog/metrics"
	"dialoog/realtime"
)

// metricsStatsTimeout bounds the database read of the outbox statistics
// during a scrape.
const metricsStatsTimeout = 2 * time.Second

// enableMetrics creates the metrics of this process when
// DIALOOG_METRICS_ADDR is set: every database statement is counted from
// now on for the request it serves, and the outbox is read at each scrape.
// It must run before the live layer and the HTTP app are built, which take
// their observers from it, and before the database is used concurrently.
func (a *app) enableMetrics() error {
	if a.cfg.MetricsAddr == "" {
		return nil
	}
	m := metrics.New(a.log.With("component", "metrics"))
	if err := m.WatchOutbox(a.worker, metricsStatsTimeout); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	if err := m.WatchInbox(a.messages.InboxCacheStats); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	if err := m.WatchDB(a.db.DB.DB); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	a.db.AddQueryHook(metrics.QueryHook{})
	a.metrics = m
	return nil
}

// requestMetrics is the observer of the HTTP app: nil (not a nil pointer in
// an interface) when metrics are off.
func (a *app) requestMetrics() handlers.RequestMetrics {
	if a.metrics == nil {
		return nil
	}
	return a.metrics
}

// relayOptions feed the live layer's render times and push latencies into
// the metrics, when they are on.
func (a *app) relayOptions() realtime.RelayOptions {
	// Every push first checks that its users may still receive content
	// (a stage that went back, a disabled user), and that the sessions of
	// their sockets have not lapsed (idle, the absolute end): those
	// sockets close.
	opt := realtime.RelayOptions{Admit: func(ctx context.Context, ids []int64) ([]int64, error) {
		return auth.LiveAdmitted(ctx, a.db, ids)
	}, SessionEnds: a.sessions.LiveEnds, Now: a.sessions.Now}
	if a.metrics != nil {
		opt.Observe, opt.ObservePush = a.metrics.ObserveRender, a.metrics.ObservePush
	}
	return opt
}

// serveMetrics serves /metrics on DIALOOG_METRICS_ADDR with net/http (not
// the public Fiber app) until stop is called; with metrics off it does
// nothing.
func (a *app) serveMetrics(hub *realtime.Hub) (stop func(), err error) {
	if a.metrics == nil {
		return func() {}, nil
	}
	if err := a.metrics.WatchSockets(hub.Count); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	ln, err := net.Listen("tcp", a.cfg.MetricsAddr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (DIALOOG_METRICS_ADDR): %w", a.cfg.MetricsAddr, err)
	}
	srv := a.metrics.Server()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("metrics listener stopped", "err", err)
		}
	}()
	a.log.Info("metrics listening", "addr", ln.Addr().String(), "path", metrics.Path)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			a.log.Warn("metrics shutdown", "err", err)
			srv.Close()
		}
		<-done
	}, nil
}
