package handlers

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"dialoog/messaging"
)

// The benchmarks here report each case beside a baseline measured in the
// same run (DESIGN, testing): the ratio is the x-baseline metric of the
// measured case. Run both cases together, e.g.
//
//	go test -run '^$' -bench 'Compose|InboxRequest' ./handlers/

// BenchmarkCompose is the send path: a new conversation to an active user
// through the messaging service on SQLite (the transaction with thread,
// participants, encrypted body, read states and the queued notification)
// beside a raw INSERT of a comparable message row with the same driver.
func BenchmarkCompose(b *testing.B) {
	ra := newRealApp(b)
	hr := ra.storeUser(b, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	jan := ra.storeUser(b, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
	ctx := context.Background()
	body := strings.Repeat("Beste Jan, hierbij de afspraken van vandaag. ", 10)
	threadID := ra.compose(b, hr, "Basis", body, jan.Email)
	sealed := ra.v.Seal([]byte(body), []byte(fmt.Sprintf("message:thread:%d", threadID)))

	var baseline float64
	b.Run("raw-insert", func(b *testing.B) {
		now := time.Now().UTC()
		for b.Loop() {
			if _, err := ra.d.ExecContext(ctx,
				"INSERT INTO messages (thread_id, sender_id, body, key_id, is_auto_reply, created_at) VALUES (?, ?, ?, ?, ?, ?)",
				threadID, hr.ID, sealed, ra.v.KeyID(), false, now); err != nil {
				b.Fatal(err)
			}
		}
		baseline = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("service", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			// Stay under the limit of new conversations an hour.
			ra.clk.Add(time.Hour/messaging.NewThreadsInternal + time.Second)
			if _, err := ra.msg.Compose(ctx, hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Afspraak", Body: body}); err != nil {
				b.Fatal(err)
			}
		}
		if baseline > 0 {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/baseline, "x-baseline")
		}
	})
}

// BenchmarkInboxRequest is GET /berichten with twenty conversations
// through the whole app (session, guard, inbox query, render) beside a
// bare Fiber app that sends the same page as a constant, both through
// app.Test.
func BenchmarkInboxRequest(b *testing.B) {
	ra := newRealApp(b)
	hr := ra.storeUser(b, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	jan := ra.storeUser(b, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
	for i := range 21 {
		ra.compose(b, hr, fmt.Sprintf("Verzuimbegeleiding %d", i), "Tekst", jan.Email)
	}
	cookie := sessionCookie + "=" + ra.sessionToken(b, jan)
	get := func(b *testing.B, app *fiber.App) []byte {
		req := httptest.NewRequest(http.MethodGet, "/berichten", nil)
		req.Header.Set("Cookie", cookie)
		resp, err := app.Test(req, -1)
		if err != nil {
			b.Fatal(err)
		}
		page, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
		return page
	}
	page := get(b, ra.app)
	if n := strings.Count(string(page), `<li id="thread-`); n != 20 {
		b.Fatalf("%d conversations on the page", n)
	}
	bare := fiber.New(fiber.Config{DisableStartupMessage: true})
	bare.Get("/berichten", func(c *fiber.Ctx) error {
		c.Type("html", "utf-8")
		return c.Send(page)
	})

	var baseline float64
	b.Run("bare-fiber", func(b *testing.B) {
		for b.Loop() {
			get(b, bare)
		}
		baseline = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("app", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			get(b, ra.app)
		}
		if baseline > 0 {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/baseline, "x-baseline")
		}
	})
}
