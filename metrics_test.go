package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	fws "github.com/fasthttp/websocket"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/notify"
	"dialoog/vault"
)

// freeAddr returns a loopback address that nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// scrapeMetrics fetches and parses the exposition at addr.
func scrapeMetrics(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
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

// metricWith returns the metric of family name whose labels include want.
func metricWith(fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
next:
	for _, m := range fams[name].GetMetric() {
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

// TestMetricsEndpoint runs serve with DIALOOG_METRICS_ADDR, uses the app
// (pages, a login attempt, a live connection that gets a push, mail that
// waits for an SMTP server that is down) and checks what the metrics
// listener reports, and that the public address does not serve it.
func TestMetricsEndpoint(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	metricsAddr := freeAddr(t)
	in := startInstance(t, map[string]string{
		"DIALOOG_METRICS_ADDR":   metricsAddr,
		"DIALOOG_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(key),
		// Nothing listens there: mail stays queued.
		"DIALOOG_SMTP_URL": "smtp://" + freeAddr(t),
	})
	ctx := context.Background()
	d, err := db.OpenSQLite(ctx, filepath.Join(in.dataDir, db.SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	hrClient, _ := signedIn(t, d, "hr@osaw.nl", true)
	janClient, jan := signedIn(t, d, "jan@example.nl", false)

	// Jan's page keeps a live connection.
	h := http.Header{"Origin": {in.base}}
	for _, c := range janClient.Jar.Cookies(&url.URL{Scheme: "http", Host: "127.0.0.1"}) {
		h.Add("Cookie", c.Name+"="+c.Value)
	}
	dialer := fws.Dialer{HandshakeTimeout: 5 * time.Second}
	ws, resp, err := dialer.Dial("ws"+strings.TrimPrefix(in.base, "http")+"/ws", h)
	if err != nil {
		t.Fatalf("open /ws: %v (%v)", err, resp)
	}
	defer ws.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		g := metricWith(scrapeMetrics(t, metricsAddr), "dialoog_live_connections", nil)
		if g.GetGauge().GetValue() == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("open sockets gauge: %v, want 1", g)
		}
		time.Sleep(20 * time.Millisecond)
	}

	get := func(c *http.Client, path string, want int) {
		t.Helper()
		resp, err := c.Get(in.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	get(janClient, "/berichten", http.StatusOK)
	get(janClient, "/berichten", http.StatusOK) // unchanged: from memory
	hrClient.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err = hrClient.PostForm(in.base+"/berichten/nieuw", url.Values{
		"_csrf": {csrfToken}, "to": {jan.Email}, "subject": {"Verzuim"}, "body": {"Hoe gaat het?"},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("compose: %d", resp.StatusCode)
	}
	// The push of the new message reaches Jan's socket.
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for pushed := false; !pushed; {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("no push of the new message: %v", err)
		}
		pushed = strings.Contains(string(msg), "Verzuim")
	}
	var threadID int64
	if err := d.NewSelect().Table("threads").Column("id").Limit(1).Scan(ctx, &threadID); err != nil {
		t.Fatal(err)
	}
	get(janClient, fmt.Sprintf("/berichten/%d", threadID), http.StatusOK)
	get(janClient, "/bestaat-niet", http.StatusNotFound)
	// A failed login attempt.
	jar, _ := cookiejar.New(nil)
	jar.SetCookies(&url.URL{Scheme: "http", Host: "127.0.0.1"}, []*http.Cookie{{Name: "dialoog_csrf", Value: csrfToken, Path: "/"}})
	anon := &http.Client{Jar: jar, Timeout: time.Minute}
	resp, err = anon.PostForm(in.base+"/inloggen", url.Values{"_csrf": {csrfToken}, "email": {"onbekend@example.nl"}, "password": {"niet het wachtwoord"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		t.Fatalf("login attempt: %d", resp.StatusCode)
	}
	// Mail queued since an hour, waiting for the SMTP server.
	v, err := vault.New(key)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		id, err := notify.NewOutbox(v).QueueMail(ctx, d, notify.Mail{To: fmt.Sprintf("wacht%d@example.nl", i), Subject: "Wacht", Text: "Wacht"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.NewUpdate().Table("outbox").Set("created_at = ?", time.Now().UTC().Add(-time.Hour)).Set("next_attempt_at = ?", time.Now().UTC().Add(-time.Hour)).Where("id = ?", id).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}

	fams := scrapeMetrics(t, metricsAddr)

	t.Run("Requests", func(t *testing.T) {
		for _, r := range []struct{ method, route, status string }{
			{"GET", "/berichten", "2xx"},
			{"GET", "/berichten/:id", "2xx"},
			{"POST", "/berichten/nieuw", "3xx"},
			{"GET", "/ws", "1xx"},
			{"GET", "unmatched", "4xx"},
		} {
			m := metricWith(fams, "dialoog_http_request_duration_seconds", map[string]string{"method": r.method, "route": r.route, "status": r.status})
			if m.GetHistogram().GetSampleCount() == 0 {
				t.Errorf("no %s %s %s request observed", r.method, r.route, r.status)
			}
		}
		if m := metricWith(fams, "dialoog_http_request_duration_seconds", map[string]string{"method": "POST", "route": "/inloggen"}); m.GetHistogram().GetSampleCount() != 1 {
			t.Errorf("login attempts observed: %v", m)
		}
		for _, m := range fams["dialoog_http_request_duration_seconds"].GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "route" && (strings.Contains(l.GetValue(), fmt.Sprint(threadID)) || l.GetValue() == "/bestaat-niet") {
					t.Errorf("a raw path as route label: %q", l.GetValue())
				}
			}
		}
		for _, r := range []struct{ method, route string }{{"GET", "/berichten"}, {"GET", "/berichten/:id"}, {"POST", "/berichten/nieuw"}, {"POST", "/inloggen"}} {
			q := metricWith(fams, "dialoog_http_request_queries", map[string]string{"method": r.method, "route": r.route}).GetHistogram()
			if q.GetSampleCount() == 0 || q.GetSampleSum() <= 0 {
				t.Errorf("statements of %s %s: %v", r.method, r.route, q)
			}
		}
	})

	t.Run("Inbox", func(t *testing.T) {
		if c := metricWith(fams, "dialoog_inbox_pages_total", map[string]string{"source": "memory"}); c.GetCounter().GetValue() < 1 {
			t.Errorf("inbox pages from memory: %v, want at least the second look", c)
		}
		if c := metricWith(fams, "dialoog_inbox_pages_total", map[string]string{"source": "database"}); c.GetCounter().GetValue() < 1 {
			t.Errorf("inbox pages read: %v, want at least the first look", c)
		}
		if g := metricWith(fams, "dialoog_inbox_memory_usable", nil); g.GetGauge().GetValue() != 1 {
			t.Errorf("memory usable on SQLite: %v, want 1", g)
		}
	})

	t.Run("Pool", func(t *testing.T) {
		if g := metricWith(fams, "go_sql_open_connections", map[string]string{"db_name": "dialoog"}); g.GetGauge().GetValue() < 1 {
			t.Errorf("open database connections: %v, want at least one", g)
		}
	})

	t.Run("Outbox", func(t *testing.T) {
		var pending int
		if err := d.NewSelect().Table("outbox").ColumnExpr("count(*)").Where("channel = ?", db.ChannelMail).
			Where("status IN (?, ?)", db.OutboxPending, db.OutboxSending).Scan(ctx, &pending); err != nil {
			t.Fatal(err)
		}
		if q := metricWith(fams, "dialoog_outbox_queued", map[string]string{"lane": "mail"}); pending < 3 || q.GetGauge().GetValue() != float64(pending) {
			t.Errorf("mail queue depth %v, want %d", q, pending)
		}
		if q := metricWith(fams, "dialoog_outbox_queued", map[string]string{"lane": "sms"}); q == nil || q.GetGauge().GetValue() != 0 {
			t.Errorf("sms queue depth %v, want 0", q)
		}
		if o := metricWith(fams, "dialoog_outbox_oldest_queued_seconds", map[string]string{"lane": "mail"}); o.GetGauge().GetValue() < 3600 {
			t.Errorf("oldest queued mail %v, want an hour or more", o)
		}
		if o := metricWith(fams, "dialoog_outbox_lane_down", map[string]string{"lane": "mail"}); o.GetGauge().GetValue() != 1 {
			t.Errorf("mail lane down %v, want 1", o)
		}
		for _, name := range []string{"dialoog_outbox_delivered_total", "dialoog_outbox_retried_total", "dialoog_outbox_failed_total"} {
			if metricWith(fams, name, map[string]string{"lane": "mail"}) == nil {
				t.Errorf("no %s", name)
			}
		}
	})

	t.Run("Live", func(t *testing.T) {
		if g := metricWith(fams, "dialoog_live_connections", nil); g.GetGauge().GetValue() != 1 {
			t.Errorf("open sockets %v, want 1", g)
		}
		render := metricWith(fams, "dialoog_live_render_seconds", map[string]string{"kind": "message"}).GetHistogram()
		push := metricWith(fams, "dialoog_live_push_seconds", map[string]string{"kind": "message"}).GetHistogram()
		if render.GetSampleCount() == 0 || push.GetSampleCount() != render.GetSampleCount() || push.GetSampleSum() < render.GetSampleSum() {
			t.Errorf("render %v, push %v", render, push)
		}
	})

	t.Run("Runtime", func(t *testing.T) {
		for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
			if fams[name] == nil {
				t.Errorf("no %s", name)
			}
		}
	})

	t.Run("NotPublic", func(t *testing.T) {
		resp, err := http.Get(in.base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || strings.Contains(string(body), "dialoog_") {
			t.Errorf("public /metrics: %d", resp.StatusCode)
		}
	})
}

// TestServeWarmsPostgresPool: on PostgreSQL the server opens its whole pool
// (pool_max_conns of the URL) before it answers, so the first burst of
// requests waits for no new connection (db.Warm). Its start-up work alone
// leaves about nine open, so the pool here is larger than that.
func TestServeWarmsPostgresPool(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	metricsAddr := freeAddr(t)
	startInstance(t, map[string]string{
		"DIALOOG_DATABASE_URL":   dbtest.NewTestSchema(t) + "&pool_max_conns=16",
		"DIALOOG_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(key),
		"DIALOOG_METRICS_ADDR":   metricsAddr,
	})
	fams := scrapeMetrics(t, metricsAddr)
	pool := map[string]string{"db_name": "dialoog"}
	if g := metricWith(fams, "go_sql_max_open_connections", pool); g.GetGauge().GetValue() != 16 {
		t.Errorf("pool size: %v, want 16", g)
	}
	if g := metricWith(fams, "go_sql_open_connections", pool); g.GetGauge().GetValue() != 16 {
		t.Errorf("connections open once the server answers: %v, want all 16", g)
	}
}
