// Package metrics owns Dialoog's Prometheus metrics: the collectors, their
// registry and the /metrics handler served on a separate listen address
// (DIALOOG_METRICS_ADDR). It records what other packages report to it and
// reads their state at scrape time; it decides nothing and changes nothing.
//
// Label values are fixed sets (route patterns, method names, status
// classes, outbox lanes, event kinds), never raw paths or ids, so that the
// number of series stays bounded whatever clients send.
package metrics

import (
	"database/sql"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"dialoog/realtime"
)

// Namespace prefixes every metric of Dialoog's own.
const Namespace = "dialoog"

// Path is where the metrics listener serves the exposition.
const Path = "/metrics"

// Metrics is the registry of one process with Dialoog's collectors. Its
// Observe methods are safe for concurrent use.
type Metrics struct {
	reg      *prometheus.Registry
	log      *slog.Logger
	requests *prometheus.HistogramVec
	queries  *prometheus.HistogramVec
	render   *prometheus.HistogramVec
	push     *prometheus.HistogramVec
}

// Buckets of the histograms: durations from a millisecond (a cached page)
// to half a minute (an upload over a slow line); statement counts from none
// (a static file) to far more than any page should need.
var (
	requestBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	queryBuckets   = []float64{0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64}
	liveBuckets    = []float64{.0005, .001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5, 10}
)

// New returns the metrics of a process: a registry of its own (not the
// global default, which libraries may fill) with the Go runtime and process
// collectors and Dialoog's request and live-update histograms. The outbox
// and open-socket collectors are added by WatchOutbox and WatchSockets.
// log receives errors of scrapes; nil discards them.
func New(log *slog.Logger) *Metrics {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		log: log,
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method, route pattern and status class.",
			Buckets: requestBuckets,
		}, []string{"method", "route", "status"}),
		queries: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "http", Name: "request_queries",
			Help:    "Database statements run on behalf of one HTTP request, by method and route pattern.",
			Buckets: queryBuckets,
		}, []string{"method", "route"}),
		render: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "live", Name: "render_seconds",
			Help:    "Time to load and render one live event for its recipients connected here, by event kind.",
			Buckets: liveBuckets,
		}, []string{"kind"}),
		push: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "live", Name: "push_seconds",
			Help:    "Time from the broker handing a live event to this instance until its fragments were queued on the connections (queue wait and render), by event kind.",
			Buckets: liveBuckets,
		}, []string{"kind"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.queries, m.render, m.push,
	)
	return m
}

// Handler serves the exposition at Path and nothing else. A collector that
// fails (the outbox statistics when the database does not answer) is
// reported in the log and leaves out its own metrics only.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+Path, promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:            slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	}))
	return mux
}

// Server returns an HTTP server (net/http, not the public Fiber app) for
// Handler with timeouts fit for scrapes.
func (m *Metrics) Server() *http.Server {
	return &http.Server{
		Handler:           m.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
	}
}

// ObserveRequest records one answered HTTP request. route is the pattern
// of the route that answered ("/berichten/:id"), or Unmatched; method and
// status are reduced to fixed sets here.
func (m *Metrics) ObserveRequest(method, route string, status int, seconds float64, queries int) {
	method = methodLabel(method)
	m.requests.WithLabelValues(method, route, statusClass(status)).Observe(seconds)
	m.queries.WithLabelValues(method, route).Observe(float64(queries))
}

// Unmatched is the route label of requests that no route answered: not
// found, a method not allowed, or refused by a middleware that runs before
// routing (CSRF, body size).
const Unmatched = "unmatched"

// ObserveRender records the render time of one live event; its signature
// is that of realtime.RelayOptions.Observe.
func (m *Metrics) ObserveRender(ev realtime.Event, users int, seconds float64) {
	m.render.WithLabelValues(kindLabel(ev.Kind)).Observe(seconds)
}

// ObservePush records the push latency of one live event; its signature is
// that of realtime.RelayOptions.ObservePush.
func (m *Metrics) ObservePush(ev realtime.Event, users int, seconds float64) {
	m.push.WithLabelValues(kindLabel(ev.Kind)).Observe(seconds)
}

// WatchSockets adds the gauge of open live connections, read from count at
// each scrape.
func (m *Metrics) WatchSockets(count func() int) error {
	return m.reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: Namespace, Subsystem: "live", Name: "connections",
		Help: "Open live-update WebSockets on this instance.",
	}, func() float64 { return float64(count()) }))
}

// WatchDB adds the statistics of the database's connection pool, read at
// each scrape: its size, the connections open, in use and idle, and how
// often and how long requests waited for one (database/sql's DBStats, as
// go_sql_* with db_name="dialoog"), to size the pool by (pool_max_conns).
func (m *Metrics) WatchDB(pool *sql.DB) error {
	return m.reg.Register(collectors.NewDBStatsCollector(pool, Namespace))
}

// WatchInbox adds the inbox pages served from memory and read from the
// database, and whether pages may come from memory now (on PostgreSQL
// only while the instance hears the inbox notifications), read from stats
// at each scrape.
func (m *Metrics) WatchInbox(stats func() (fromMemory, read uint64, listening bool)) error {
	pages := func(source string, pick func(fromMemory, read uint64) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "inbox", Name: "pages_total",
			Help:        "Inbox pages without search, team boxes and team tabs served by this instance, by where they came from.",
			ConstLabels: prometheus.Labels{"source": source},
		}, func() float64 {
			mem, read, _ := stats()
			return float64(pick(mem, read))
		})
	}
	for _, c := range []prometheus.Collector{
		pages("memory", func(mem, _ uint64) uint64 { return mem }),
		pages("database", func(_, read uint64) uint64 { return read }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: Namespace, Subsystem: "inbox", Name: "memory_usable",
			Help: "1 while unchanged inbox pages may come from memory; on PostgreSQL 0 while the instance does not hear the inbox notifications.",
		}, func() float64 {
			if _, _, ok := stats(); ok {
				return 1
			}
			return 0
		}),
	} {
		if err := m.reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// methodLabel returns method as a constant string of a fixed set: Fiber's
// request strings are reused buffers, and a label value is kept.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet:
		return http.MethodGet
	case http.MethodHead:
		return http.MethodHead
	case http.MethodPost:
		return http.MethodPost
	case http.MethodPut:
		return http.MethodPut
	case http.MethodPatch:
		return http.MethodPatch
	case http.MethodDelete:
		return http.MethodDelete
	case http.MethodOptions:
		return http.MethodOptions
	}
	return "other"
}

// statusClass returns "2xx" for 200 to 299 and so on.
func statusClass(status int) string {
	switch {
	case status >= 100 && status < 200:
		return "1xx"
	case status < 300 && status >= 200:
		return "2xx"
	case status < 400 && status >= 300:
		return "3xx"
	case status < 500 && status >= 400:
		return "4xx"
	case status < 600 && status >= 500:
		return "5xx"
	}
	return "other"
}

// kindLabel returns the kind of a live event, or "other" for a kind this
// build does not know (kinds arrive from other instances).
func kindLabel(kind string) string {
	switch kind {
	case realtime.KindMessage, realtime.KindAutoReply, realtime.KindRead, realtime.KindTyping,
		realtime.KindSessionEnded, realtime.KindSessionRenewed, realtime.KindResync:
		return kind
	}
	return "other"
}
