package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/realtime"
)

// BenchmarkReplyPost is VERZEND under a conversation: POST /berichten/:id
// through the whole app (session, CSRF, the reply's transaction with the
// message, its read states, the participants' counters, the notification
// mail in the outbox), beside a raw INSERT of a comparable message row with
// the same driver, on SQLite and PostgreSQL. On PostgreSQL "reply-post-live"
// runs it again as an instance of several does: the live event goes out
// with pg_notify in the transaction, and the instance listens.
// "x-baseline" is the POST's time over the INSERT's; its inverse is the
// throughput ratio.
//
//	go test -run '^$' -bench 'ReplyPost' ./handlers/
func BenchmarkReplyPost(b *testing.B) {
	for _, engine := range dbtest.Engines {
		b.Run(engine, func(b *testing.B) {
			var d *db.DB
			var dsn string
			if engine == "postgres" {
				dsn = dbtest.NewTestSchema(b)
				d = dbtest.MustOpenPostgresURL(b, dsn)
			} else {
				d = dbtest.MustOpenSQLite(b)
			}
			ra := newRealAppOn(b, d, func(deps *Deps) { deps.Logger = slog.New(slog.DiscardHandler) })
			ctx := context.Background()
			hr := ra.storeUser(b, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
			jan := ra.storeUser(b, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
			body := strings.Repeat("Beste Hanna, dank voor het gesprek van vandaag. ", 6)
			tid := ra.compose(b, hr, "Re-integratie", body, jan.Email)
			sealed := ra.v.Seal([]byte(body), []byte(fmt.Sprintf("message:thread:%d", tid)))
			session := ra.sessionToken(b, jan)
			const csrf = "0123456789012345678901234567890123456789abc" // 43 characters, as the middleware makes them
			form := url.Values{"_csrf": {csrf}, "body": {body}}.Encode()
			target := fmt.Sprintf("/berichten/%d", tid)

			var baseline float64
			b.Run("raw-insert", func(b *testing.B) {
				now := time.Now().UTC()
				for b.Loop() {
					if _, err := d.ExecContext(ctx,
						"INSERT INTO messages (thread_id, sender_id, body, key_id, is_auto_reply, created_at) VALUES (?, ?, ?, ?, ?, ?)",
						tid, jan.ID, sealed, ra.v.KeyID(), false, now); err != nil {
						b.Fatal(err)
					}
				}
				baseline = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			})
			post := func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.AddCookie(&http.Cookie{Name: sessionCookie, Value: session})
					req.AddCookie(&http.Cookie{Name: csrfCookie, Value: csrf})
					resp, err := ra.app.Test(req, -1)
					if err != nil {
						b.Fatal(err)
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusSeeOther {
						b.Fatalf("status %d", resp.StatusCode)
					}
				}
				if baseline > 0 {
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/baseline, "x-baseline")
				}
			}
			b.Run("reply-post", post)
			if dsn == "" {
				return
			}
			// As an instance of several runs it: the event goes out with
			// pg_notify in the reply's transaction, and this instance
			// listens to the events and to the inbox notifications.
			pb, err := realtime.NewPostgresBroker(ctx, dsn, slog.New(slog.DiscardHandler))
			if err != nil {
				b.Fatal(err)
			}
			defer pb.Close()
			defer pb.Subscribe(func(realtime.Event) {})()
			ra.msg.Events = LiveEvents{Broker: pb}
			defer func() { ra.msg.Events = nil }()
			if err := d.InboxSync(ctx); err != nil {
				b.Fatal(err)
			}
			b.Run("reply-post-live", post)
		})
	}
}
