package messaging_test

import (
	"context"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/messaging/messagingtest"
)

// TestThreadPages: a conversation's page holds its newest messages, at
// most ThreadPageSize, and the pages before it the rest, each message once
// and in order; a long conversation's page reads no more than a page
// (before, opening a conversation of 2,000 messages read, opened and
// rendered all of them: 35–65 ms and 1.9 MB of HTML). A cursor that is no
// message of the conversation shows nothing of another one.
func TestThreadPages(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Lang", Body: "Begin"})
		if err != nil {
			t.Fatal(err)
		}
		// Equal times on a page's edge are paged by id.
		const n = 2*messaging.ThreadPageSize + 50
		if err := messagingtest.LongThread(ctx, d, f.v, tid, jan.ID, f.hr.ID, n-1, f.clk.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := d.NewUpdate().Model((*db.Message)(nil)).Set("created_at = ?", f.clk.Now().Add(time.Hour)).
			Where("thread_id = ? AND id > (SELECT MIN(m.id) FROM messages AS m WHERE m.thread_id = ?)", tid, tid).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		other, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Ander", Body: "Elders"})
		if err != nil {
			t.Fatal(err)
		}
		var all []int64
		if err := d.NewSelect().Model((*db.Message)(nil)).Column("id").Where("thread_id = ?", tid).Order("created_at", "id").Scan(ctx, &all); err != nil {
			t.Fatal(err)
		}
		if len(all) != n {
			t.Fatalf("%d messages, want %d", len(all), n)
		}
		var seen []int64
		before, pages := int64(0), 0
		for {
			v, err := f.svc.ThreadPage(ctx, jan.Identity(), tid, before)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if len(v.Messages) > messaging.ThreadPageSize {
				t.Fatalf("page %d holds %d messages", pages, len(v.Messages))
			}
			ids := make([]int64, len(v.Messages))
			for i, m := range v.Messages {
				ids[i] = m.ID
			}
			seen = append(ids, seen...)
			if v.Earlier == 0 {
				break
			}
			if v.Earlier != ids[0] {
				t.Fatalf("page %d: Earlier %d, oldest shown %d", pages, v.Earlier, ids[0])
			}
			before = v.Earlier
		}
		if pages != 3 || len(seen) != n {
			t.Fatalf("%d pages, %d messages, want 3 and %d", pages, len(seen), n)
		}
		for i := range all {
			if seen[i] != all[i] {
				t.Fatalf("message %d of the pages is %d, want %d", i, seen[i], all[i])
			}
		}
		// A message of another conversation as the cursor.
		ov, err := f.svc.Thread(ctx, jan.Identity(), other)
		if err != nil {
			t.Fatal(err)
		}
		v, err := f.svc.ThreadPage(ctx, jan.Identity(), tid, ov.Messages[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Messages) != 0 || v.Earlier != 0 {
			t.Fatalf("a cursor of another conversation shows %d messages", len(v.Messages))
		}
		if v, err := f.svc.Thread(ctx, jan.Identity(), other); err != nil || len(v.Messages) != 1 || v.Earlier != 0 {
			t.Fatalf("a short conversation: %v, %+v", err, v)
		}
	})
}
