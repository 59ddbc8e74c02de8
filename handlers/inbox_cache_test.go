package handlers

import (
	"context"
	"net/url"
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
		look := func(headers ...string) (int64, string) {
			t.Helper()
			// On PostgreSQL: once the notifications of what happened
			// before arrived.
			if err := d.InboxSync(context.Background()); err != nil {
				t.Fatal(err)
			}
			before := pages.n.Load()
			resp, body := b.get("/berichten", headers...)
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
		// After a lost live connection the page fetches what it shows
		// again: that is read.
		if n, _ := look(headerResync, "true"); n != 1 {
			t.Errorf("a resync's look: %d page queries, want 1", n)
		}
		ra.reply(t, emp, tid, "Beter, dank je.")
		if n, body := look(); n != 1 || !strings.Contains(body, "Wim Werker") || !strings.Contains(body, "(1)") {
			t.Errorf("look after a reply: %d page queries (want 1); the reply's unread count shown: %v", n, strings.Contains(body, "(1)"))
		}
		// A request of the person's own that is not a GET gives them a new
		// version at once, also where nothing notifies (a language
		// setting): on PostgreSQL their next page must not wait for a
		// change's notification.
		if d.Postgres() {
			before, _ := d.InboxVersion(hr.ID)
			if resp, _ := b.post("/taal", url.Values{"taal": {"nl"}}); resp.StatusCode >= 400 {
				t.Fatalf("POST /taal: %d", resp.StatusCode)
			}
			if after, ok := d.InboxVersion(hr.ID); !ok || after == before {
				t.Errorf("inbox version %d before and %d after the person's POST, want a new one", before, after)
			}
		}
	})
}
