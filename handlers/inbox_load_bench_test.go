package handlers

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/messaging/messagingtest"
)

// BenchmarkInboxLoad is the inbox page under load, as users see it: GET
// /berichten through a real listener (session, guard, inbox query, unread
// count, render), with 50, 5,000 and 50,000 conversations in the box, on
// SQLite and PostgreSQL, beside a bare Fiber app on a real listener that
// sends the same page as a constant. Both are driven by 16 concurrent
// keep-alive clients (b.RunParallel), so ns/op is the inverse of
// throughput and "x-baseline" is the app's time per page over the bare
// app's: its inverse is the throughput ratio. "half-load" then sends GETs
// at half the app's measured throughput for three seconds (open loop:
// latency counts from each request's scheduled time), beside the bare app
// at the same rate, and reports p50 and p99 in milliseconds. On
// PostgreSQL the pool is warmed first, as the server does at start
// (db.Warm); DIALOOG_BENCH_COLD=1 leaves it cold.
//
//	go test -run '^$' -bench 'InboxLoad' -benchtime 3s ./handlers/
func BenchmarkInboxLoad(b *testing.B) {
	for _, engine := range dbtest.Engines {
		for _, box := range []int{50, 5000, 50000} {
			b.Run(fmt.Sprintf("%s/box=%d", engine, box), func(b *testing.B) { benchInboxLoad(b, engine, box) })
		}
	}
}

func benchInboxLoad(b *testing.B, engine string, box int) {
	// Pages served from memory are what is measured, not the test
	// binaries' check of them.
	messaging.CheckInboxCache(false)
	defer messaging.CheckInboxCache(true)
	d := dbtest.MustOpen(b, engine)
	quiet := func(deps *Deps) { deps.Logger = slog.New(slog.DiscardHandler) }
	ra := newRealAppOn(b, d, quiet)
	ctx := context.Background()
	hr := ra.storeUser(b, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	if _, err := messagingtest.Seed(ctx, d, ra.v, messagingtest.Box{OrgID: ra.org.ID, Owner: hr, Threads: box, Messages: 2,
		Others: max(1, box/10), UnreadEvery: 9}); err != nil {
		b.Fatal(err)
	}
	if err := d.Optimize(ctx); err != nil {
		b.Fatal(err)
	}
	if d.Postgres() {
		if _, err := d.ExecContext(ctx, "ANALYZE"); err != nil {
			b.Fatal(err)
		}
	}
	// On PostgreSQL: once this instance hears the inbox notifications.
	if err := d.InboxSync(ctx); err != nil {
		b.Fatal(err)
	}
	// As the server starts: on PostgreSQL the pool at its full size, with
	// the fixed statements prepared on every connection. DIALOOG_BENCH_COLD
	// leaves it cold, as before, for comparison.
	if os.Getenv("DIALOOG_BENCH_COLD") == "" {
		if err := d.Warm(ctx); err != nil {
			b.Fatal(err)
		}
	}
	cookie := sessionCookie + "=" + ra.sessionToken(b, hr)
	appURL := serveForBench(b, ra.app) + "/berichten"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}
	// fresh asks for the page as the live connection's resync does: read
	// from the database, as after any change to the box, not from memory.
	send := func(url string, fresh bool) (int, error) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Cookie", cookie)
		if fresh {
			req.Header.Set(headerResync, "true")
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		return int(n), err
	}
	get := func(url string) (int, error) { return send(url, false) }
	page := fetchPage(b, client, appURL, cookie)
	if n := strings.Count(page, `<li id="thread-`); n != min(box, 20) {
		b.Fatalf("%d conversations on the page, want %d", n, min(box, 20))
	}
	bare := fiber.New(fiber.Config{DisableStartupMessage: true})
	bare.Get("/berichten", func(c *fiber.Ctx) error {
		c.Type("html", "utf-8")
		return c.SendString(page)
	})
	bareURL := serveForBench(b, bare) + "/berichten"

	parallel := func(b *testing.B, url string, fresh bool) float64 {
		b.SetParallelism(8)
		b.SetBytes(int64(len(page)))
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := send(url, fresh); err != nil {
					b.Error(err)
					return
				}
			}
		})
		return float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	}
	var baseline, app float64
	b.Run("bare-fiber", func(b *testing.B) { baseline = parallel(b, bareURL, false) })
	b.Run("app", func(b *testing.B) {
		app = parallel(b, appURL, false)
		if baseline > 0 {
			b.ReportMetric(app/baseline, "x-baseline")
			b.ReportMetric(baseline/app, "throughput-ratio")
		}
	})
	// The page after a change to the box (a new message, a read): read
	// from the database, not from memory.
	b.Run("app-changed", func(b *testing.B) {
		changed := parallel(b, appURL, true)
		if baseline > 0 {
			b.ReportMetric(changed/baseline, "x-baseline")
			b.ReportMetric(baseline/changed, "throughput-ratio")
		}
	})
	// Half load: the bare page, then the app at the same rate; the bare
	// page's tail is what the machine and the clients in this process add
	// to any page.
	var rate, bareP99 float64
	b.Run("half-load-bare", func(b *testing.B) {
		if app == 0 {
			b.Skip("needs the app run")
		}
		rate = 0.5 * 1e9 / app // requests per second
		lat := openLoop(b, rate, 3*time.Second, func() error { _, err := get(bareURL); return err })
		bareP99 = percentile(lat, 0.99)
		b.ReportMetric(rate, "req/s")
		b.ReportMetric(percentile(lat, 0.50), "p50-ms")
		b.ReportMetric(bareP99, "p99-ms")
	})
	b.Run("half-load", func(b *testing.B) {
		if rate == 0 {
			b.Skip("needs the app run")
		}
		lat := openLoop(b, rate, 3*time.Second, func() error { _, err := get(appURL); return err })
		b.ReportMetric(rate, "req/s")
		b.ReportMetric(percentile(lat, 0.50), "p50-ms")
		b.ReportMetric(percentile(lat, 0.99), "p99-ms")
		if bareP99 > 0 {
			b.ReportMetric(percentile(lat, 0.99)/bareP99, "p99-x-bare")
		}
	})
}

// serveForBench serves app on a loopback port until the benchmark ends and
// returns its base URL.
func serveForBench(b *testing.B, app *fiber.App) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go app.Listener(ln)
	b.Cleanup(func() { app.ShutdownWithTimeout(5 * time.Second) })
	return "http://" + ln.Addr().String()
}

func fetchPage(b *testing.B, client *http.Client, url, cookie string) string {
	b.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Cookie", cookie)
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(body)
}

// openLoop calls do at rate per second for d, each call at its scheduled
// time, and returns each call's latency in milliseconds counted from that
// scheduled time (so that a server that falls behind shows as latency, not
// as fewer requests). The calls are made by a fixed set of clients that
// take the scheduled calls in turn; when all are busy, calls wait for one,
// and that wait counts. (A goroutine started per call made the bare page's
// p99 at half load 10 ms on two cores: the clients' own scheduling.)
func openLoop(b *testing.B, rate float64, d time.Duration, do func() error) []float64 {
	b.Helper()
	const clients = 64
	n := int(rate * d.Seconds())
	interval := time.Duration(float64(time.Second) / rate)
	lat := make([]float64, n)
	type call struct {
		i  int
		at time.Time
	}
	calls := make(chan call, n)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for c := range calls {
				if err := do(); err != nil {
					b.Error(err)
				}
				lat[c.i] = float64(time.Since(c.at).Microseconds()) / 1000
			}
		})
	}
	start := time.Now()
	for i := range n {
		at := start.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(at))
		calls <- call{i, at}
	}
	close(calls)
	wg.Wait()
	return lat
}

func percentile(ms []float64, p float64) float64 {
	if len(ms) == 0 {
		return 0
	}
	s := slices.Clone(ms)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}
