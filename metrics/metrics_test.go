package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/metrics"
	"dialoog/notify"
	"dialoog/realtime"
)

// scrape fetches the exposition from h as Prometheus would and parses it.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + metrics.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("scrape: %d\n%s", resp.StatusCode, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse exposition: %v", err)
	}
	return fams
}

// find returns the metric of family name whose labels include want.
func find(fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		return m
	}
	return nil
}

type fakeOutbox struct {
	lanes          []notify.LaneStats
	err            error
	gotCtxDeadline bool
}

func (f *fakeOutbox) Stats(ctx context.Context) ([]notify.LaneStats, error) {
	_, f.gotCtxDeadline = ctx.Deadline()
	return f.lanes, f.err
}

func TestOutboxCollector(t *testing.T) {
	src := &fakeOutbox{lanes: []notify.LaneStats{
		{Channel: db.ChannelSMS, Transport: "webhook", Queued: 0},
		{Channel: db.ChannelMail, Transport: "smtp", Queued: 7, OldestQueued: 90 * time.Second, Down: true, Delivered: 12, Retried: 3, Failed: 1, Dropped: 4},
	}}
	m := metrics.New(nil)
	if err := m.WatchOutbox(src, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := m.WatchSockets(func() int { return 3 }); err != nil {
		t.Fatal(err)
	}

	t.Run("OK", func(t *testing.T) {
		fams := scrape(t, m.Handler())
		if !src.gotCtxDeadline {
			t.Error("Stats was called without a deadline")
		}
		for name, want := range map[string]float64{
			"dialoog_outbox_queued":                7,
			"dialoog_outbox_oldest_queued_seconds": 90,
			"dialoog_outbox_lane_down":             1,
		} {
			g := find(fams, name, map[string]string{"lane": "mail"})
			if g == nil || g.GetGauge().GetValue() != want {
				t.Errorf("%s{lane=mail} = %v, want %v", name, g, want)
			}
		}
		for name, want := range map[string]float64{
			"dialoog_outbox_delivered_total": 12,
			"dialoog_outbox_retried_total":   3,
			"dialoog_outbox_failed_total":    1,
			"dialoog_outbox_dropped_total":   4,
		} {
			c := find(fams, name, map[string]string{"lane": "mail"})
			if c == nil || c.GetCounter().GetValue() != want {
				t.Errorf("%s{lane=mail} = %v, want %v", name, c, want)
			}
		}
		if g := find(fams, "dialoog_outbox_lane_down", map[string]string{"lane": "sms"}); g == nil || g.GetGauge().GetValue() != 0 {
			t.Errorf("sms lane_down = %v", g)
		}
		if g := find(fams, "dialoog_live_connections", nil); g == nil || g.GetGauge().GetValue() != 3 {
			t.Errorf("live connections = %v", g)
		}
		for _, name := range []string{"go_goroutines", "process_start_time_seconds"} {
			if fams[name] == nil {
				t.Errorf("no %s: the Go and process collectors are missing", name)
			}
		}
	})

	t.Run("StatsFail", func(t *testing.T) {
		// The database does not answer: the outbox metrics are left out,
		// the rest is still served.
		src.err = errors.New("database gone")
		defer func() { src.err = nil }()
		fams := scrape(t, m.Handler())
		if fams["dialoog_outbox_queued"] != nil {
			t.Error("outbox depth served although Stats failed")
		}
		if fams["dialoog_live_connections"] == nil {
			t.Error("a failing collector took the others with it")
		}
	})

	t.Run("OnlyMetrics", func(t *testing.T) {
		srv := httptest.NewServer(m.Handler())
		defer srv.Close()
		for _, path := range []string{"/", "/healthz", "/metrics/x"} {
			resp, err := http.Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
			}
		}
	})
}

func TestObserveLabels(t *testing.T) {
	m := metrics.New(nil)
	m.ObserveRequest("GET", "/berichten/:id", 200, 0.01, 4)
	m.ObserveRequest("GET", "/berichten/:id", 204, 0.02, 2)
	m.ObserveRequest("BREW", metrics.Unmatched, 418, 0.001, 0)
	m.ObserveRequest("POST", "/inloggen", 303, 0.5, 6)
	m.ObserveRender(realtime.Event{Kind: realtime.KindMessage}, 2, 0.003)
	m.ObservePush(realtime.Event{Kind: realtime.KindMessage}, 2, 0.004)
	m.ObservePush(realtime.Event{Kind: "made-up"}, 1, 0.004)
	fams := scrape(t, m.Handler())

	h := find(fams, "dialoog_http_request_duration_seconds", map[string]string{"method": "GET", "route": "/berichten/:id", "status": "2xx"})
	if h == nil || h.GetHistogram().GetSampleCount() != 2 {
		t.Fatalf("GET /berichten/:id 2xx: %v", h)
	}
	q := find(fams, "dialoog_http_request_queries", map[string]string{"method": "GET", "route": "/berichten/:id"})
	if q == nil || q.GetHistogram().GetSampleCount() != 2 || q.GetHistogram().GetSampleSum() != 6 {
		t.Fatalf("queries of GET /berichten/:id: %v", q)
	}
	if find(fams, "dialoog_http_request_duration_seconds", map[string]string{"method": "other", "route": metrics.Unmatched, "status": "4xx"}) == nil {
		t.Error("an unknown method is not reduced to other")
	}
	if find(fams, "dialoog_http_request_duration_seconds", map[string]string{"method": "POST", "route": "/inloggen", "status": "3xx"}) == nil {
		t.Error("POST /inloggen 3xx missing")
	}
	if r := find(fams, "dialoog_live_render_seconds", map[string]string{"kind": "message"}); r == nil || r.GetHistogram().GetSampleCount() != 1 {
		t.Errorf("render histogram: %v", r)
	}
	if p := find(fams, "dialoog_live_push_seconds", map[string]string{"kind": "other"}); p == nil || p.GetHistogram().GetSampleCount() != 1 {
		t.Errorf("an unknown event kind is not reduced to other: %v", p)
	}
}

// TestWatchInbox: the inbox pages from memory and from the database, and
// whether memory may serve them, as the source says at each scrape.
func TestWatchInbox(t *testing.T) {
	m := metrics.New(nil)
	mem, read, listening := uint64(7), uint64(3), true
	if err := m.WatchInbox(func() (uint64, uint64, bool) { return mem, read, listening }); err != nil {
		t.Fatal(err)
	}
	check := func(wantMem, wantRead, wantUsable float64) {
		t.Helper()
		fams := scrape(t, m.Handler())
		if c := find(fams, "dialoog_inbox_pages_total", map[string]string{"source": "memory"}); c.GetCounter().GetValue() != wantMem {
			t.Errorf("pages from memory: %v, want %v", c, wantMem)
		}
		if c := find(fams, "dialoog_inbox_pages_total", map[string]string{"source": "database"}); c.GetCounter().GetValue() != wantRead {
			t.Errorf("pages read: %v, want %v", c, wantRead)
		}
		if g := find(fams, "dialoog_inbox_memory_usable", nil); g.GetGauge().GetValue() != wantUsable {
			t.Errorf("memory usable: %v, want %v", g, wantUsable)
		}
	}
	check(7, 3, 1)
	mem, read, listening = 9, 5, false
	check(9, 5, 0)
}

// TestWatchDB: the pool's size and its connections in use and waits are
// read at each scrape, on both engines.
func TestWatchDB(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		m := metrics.New(nil)
		if err := m.WatchDB(d.DB.DB); err != nil {
			t.Fatal(err)
		}
		gauge := func(name string) float64 {
			t.Helper()
			g := find(scrape(t, m.Handler()), name, map[string]string{"db_name": "dialoog"})
			if g == nil {
				t.Fatalf("no %s", name)
			}
			return g.GetGauge().GetValue() + g.GetCounter().GetValue() // the one it is
		}
		if got := gauge("go_sql_max_open_connections"); got != float64(d.PoolSize()) {
			t.Errorf("max open: %v, want %d", got, d.PoolSize())
		}
		conn, err := d.DB.DB.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got := gauge("go_sql_in_use_connections"); got != 1 {
			t.Errorf("in use while one is held: %v, want 1", got)
		}
		conn.Close()
		if got := gauge("go_sql_in_use_connections"); got != 0 {
			t.Errorf("in use after: %v, want 0", got)
		}
		if got := gauge("go_sql_wait_count_total"); got != 0 {
			t.Errorf("waits: %v, want 0", got)
		}
	})
}

// TestQueryHook: every statement run with a request's context is counted,
// the prepared ones too, and statements of other contexts are not.
func TestQueryHook(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		d.AddQueryHook(metrics.QueryHook{})
		m := metrics.New(nil)
		ctx, queries := m.CountQueries(context.Background())
		var n int
		if err := d.NewSelect().ColumnExpr("1").Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		rows, err := d.QueryPrepared(ctx, "SELECT 1")
		if err != nil {
			t.Fatal(err)
		}
		rows.Close()
		sub, cancel := context.WithTimeout(ctx, time.Minute) // derived contexts count too
		defer cancel()
		if _, err := d.NewSelect().ColumnExpr("2").Exec(sub); err != nil {
			t.Fatal(err)
		}
		if err := d.NewSelect().ColumnExpr("3").Scan(context.Background(), &n); err != nil {
			t.Fatal(err)
		}
		if got := queries(); got != 3 {
			t.Fatalf("counted %d statements, want 3", got)
		}
		// Prepared statements in a transaction: BEGIN, two statements,
		// COMMIT.
		err = d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			rows, err := d.QueryPreparedIn(ctx, tx, "SELECT 4")
			if err != nil {
				return err
			}
			rows.Close()
			_, err = d.ExecPrepared(ctx, tx, "SELECT 5")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := queries(); got != 7 {
			t.Fatalf("counted %d statements, want 7", got)
		}
	})
}
