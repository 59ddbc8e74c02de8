package handlers

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// pageQueries counts the inbox page's statement (the range scan of the
// user's participant rows), whatever context runs it.
type pageQueries struct{ n atomic.Int64 }

func (q *pageQueries) BeforeQuery(ctx context.Context, ev *bun.QueryEvent) context.Context {
	if strings.Contains(ev.Query, "p.box_count > 0") {
		q.n.Add(1)
	}
	return ctx
}

func (q *pageQueries) AfterQuery(context.Context, *bun.QueryEvent) {}

// TestInboxPageFromMemory: GET /berichten passes the inbox version its
// session read (SQLite; PostgreSQL: the version this instance knows), so a
// second look at an unchanged inbox runs no page query, and a new message
// makes the next look read it again and show it.
func TestInboxPageFromMemory(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		// What is counted is the page served from memory, not the test
		// binaries' check of it.
		messaging.CheckInboxCache(false)
		defer messaging.CheckInboxCache(true)
		ra := newRealAppOn(t, d)
		pages := &pageQueries{}
		d.AddQueryHook(pages)
		hr := ra.storeUser(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
		emp := ra.storeUser(t, "wim@example.nl", false, "Wim", "", "Werker", "nl")
		tid := ra.compose(t, hr, "Herstelplan", "Hoe gaat het?", emp.Email)
		b := ra.signIn(t, hr)
		look := func() (int64, string) {
			t.Helper()
			// On PostgreSQL: once the notifications of what happened
			// before arrived.
			if err := d.InboxSync(context.Background()); err != nil {
				t.Fatal(err)
			}
			before := pages.n.Load()
			resp, body := b.get("/berichten")
			if resp.StatusCode != 200 {
				t.Fatalf("GET /berichten: %d", resp.StatusCode)
			}
			return pages.n.Load() - before, body
		}
		if n, body := look(); n != 1 || !strings.Contains(body, "Herstelplan") {
			t.Fatalf("first look: %d page queries, conversation shown: %v", n, strings.Contains(body, "Herstelplan"))
		}
		if n, _ := look(); n != 0 {
			t.Errorf("second look at an unchanged inbox: %d page queries, want 0", n)
		}
		ra.reply(t, emp, tid, "Beter, dank je.")
		if n, body := look(); n != 1 || !strings.Contains(body, "Wim Werker") || !strings.Contains(body, "(1)") {
			t.Errorf("look after a reply: %d page queries (want 1); the reply's unread count shown: %v", n, strings.Contains(body, "(1)"))
		}
	})
}
