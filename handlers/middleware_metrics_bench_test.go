package handlers

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"dialoog/db/dbtest"
	"dialoog/metrics"
)

// BenchmarkRequestMetrics is GET /berichten (twenty conversations, on
// SQLite, through app.Test) with metrics on (the request middleware and the
// statement-counting query hook of DIALOOG_METRICS_ADDR) beside the same
// app and database with metrics off; x-baseline is the ratio of their
// times.
//
//	go test -run '^$' -bench RequestMetrics ./handlers/
func BenchmarkRequestMetrics(b *testing.B) {
	d := dbtest.MustOpenSQLite(b)
	plain := newRealAppOn(b, d)
	hr := plain.storeUser(b, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	jan := plain.storeUser(b, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
	for i := range 21 {
		plain.compose(b, hr, fmt.Sprintf("Verzuimbegeleiding %d", i), "Tekst", jan.Email)
	}
	cookie := sessionCookie + "=" + plain.sessionToken(b, jan)
	get := func(b *testing.B, app *fiber.App) {
		req := httptest.NewRequest(http.MethodGet, "/berichten", nil)
		req.Header.Set("Cookie", cookie)
		resp, err := app.Test(req, -1)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}

	m := metrics.New(nil)
	d.AddQueryHook(metrics.QueryHook{}) // counts only for contexts from CountQueries
	measured := newRealAppOn(b, d, func(deps *Deps) { deps.Metrics = m })

	// The machine is shared: the two apps take turns, in alternating
	// order, so that both see the same load.
	var off, on time.Duration
	i := 0
	for b.Loop() {
		t0 := time.Now()
		if i%2 == 0 {
			get(b, plain.app)
			t1 := time.Now()
			get(b, measured.app)
			off, on = off+t1.Sub(t0), on+time.Since(t1)
		} else {
			get(b, measured.app)
			t1 := time.Now()
			get(b, plain.app)
			on, off = on+t1.Sub(t0), off+time.Since(t1)
		}
		i++
	}
	b.ReportMetric(float64(off.Nanoseconds())/float64(b.N), "ns-off/op")
	b.ReportMetric(float64(on.Nanoseconds())/float64(b.N), "ns-on/op")
	b.ReportMetric(float64(on)/float64(off), "x-baseline")
}
