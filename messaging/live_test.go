package messaging_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/messaging/messagingtest"
)

var readsMessages = regexp.MustCompile(`(?i)FROM "?messages"?`)

// TestLiveUpdateLoadsOneMessage: the push of one message costs the same
// statements in a conversation of 20 messages and 2 people as in one of
// 2,000 messages and 20 people, and the only statement that reads messages
// reads that one message by id.
func TestLiveUpdateLoadsOneMessage(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		hook := dbtest.CountStatements(d)
		emp := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")

		cost := func(length, members int) []string {
			t.Helper()
			to := []string{emp.Email}
			for i := range members - 2 {
				to = append(to, fmt.Sprintf("lid%02d.%d.%d@example.nl", i, length, members))
			}
			tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: to, Subject: "Lang gesprek", Body: "Begin"})
			if err != nil {
				t.Fatal(err)
			}
			if err := messagingtest.LongThread(ctx, d, f.v, tid, f.hr.ID, emp.ID, length-2, f.clk.Now()); err != nil {
				t.Fatal(err)
			}
			f.clk.Add(time.Hour)
			mid, err := f.svc.Reply(ctx, emp.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Het nieuwste bericht"})
			if err != nil {
				t.Fatal(err)
			}
			var readers []messaging.LiveReader
			stmts := hook.Run(func(ctx context.Context) {
				readers, err = f.svc.LiveUpdate(ctx, tid, mid, []int64{f.hr.ID, emp.ID})
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(readers) != 2 {
				t.Fatalf("%d readers", len(readers))
			}
			for _, r := range readers {
				if r.Message == nil || r.Message.Body != "Het nieuwste bericht" || r.Message.Mine != (r.UserID == emp.ID) {
					t.Fatalf("reader %d sees %+v", r.UserID, r.Message)
				}
			}
			var n int
			if err := d.NewSelect().Model((*db.Message)(nil)).ColumnExpr("COUNT(*)").Where("thread_id = ?", tid).Scan(ctx, &n); err != nil || n != length {
				t.Fatalf("thread has %d messages, want %d (%v)", n, length, err)
			}
			for _, s := range stmts {
				if readsMessages.MatchString(s) && !strings.Contains(s, fmt.Sprintf("id = %d", mid)) {
					t.Errorf("a statement reads other messages than %d: %s", mid, s)
				}
			}
			return stmts
		}
		short, long, crowded := cost(20, 2), cost(2000, 2), cost(2000, 20)
		if len(short) != len(long) || len(short) != len(crowded) || len(short) > 6 {
			t.Fatalf("statements for 20 messages: %d, for 2,000: %d, for 2,000 and 20 people: %d (want equal, at most 6):\n%s",
				len(short), len(long), len(crowded), strings.Join(crowded, "\n"))
		}
	})
}

// replyFixture is a conversation between the case manager and an employee
// who finished the first visit.
func replyFixture(t *testing.T, d *db.DB) (*fx, *db.User, int64) {
	t.Helper()
	f := setup(t, d)
	emp := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
	tid, err := f.svc.Compose(context.Background(), f.hr.Identity(), messaging.ComposeInput{To: []string{emp.Email}, Subject: "Lang", Body: "Begin"})
	if err != nil {
		t.Fatal(err)
	}
	return f, emp, tid
}

// TestReplyStatements bounds what a reply writes: its transaction runs a
// fixed number of statements (43 a reply POST, before), whatever the
// conversation's length.
func TestReplyStatements(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f, emp, tid := replyFixture(t, d)
		if err := messagingtest.LongThread(ctx, d, f.v, tid, f.hr.ID, emp.ID, 500, f.clk.Now()); err != nil {
			t.Fatal(err)
		}
		hook := dbtest.CountStatements(d)
		stmts := hook.Run(func(ctx context.Context) {
			if _, err := f.svc.Reply(ctx, emp.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Antwoord"}); err != nil {
				t.Fatal(err)
			}
		})
		// BEGIN, the thread (with the organisation's sender name), message,
		// participants, read states, thread time, counters, totals,
		// notification mail and its time, COMMIT. On PostgreSQL the message,
		// the participants, read states, thread time, counters and totals
		// are one statement (storeMessage): each statement there is a round
		// trip.
		limit := 11
		if d.Postgres() {
			limit = 6
		}
		if testing.Verbose() {
			t.Logf("%d statements:\n%s", len(stmts), strings.Join(stmts, "\n"))
		}
		if len(stmts) > limit {
			t.Fatalf("a reply ran %d statements:\n%s", len(stmts), strings.Join(stmts, "\n"))
		}
	})
}

// TestReplyPages bounds what a reply makes SQLite write: each page the
// reply's transaction changes is one frame in the write-ahead log at the
// commit, and one write. The team and case indexes, with an entry for every
// participant and conversation, and an index that repeated the read states'
// primary key made it 14 pages for a conversation of two, then 10; the
// index of the messages' sender (migration 0049), which the deletion of
// an account needs so as not to read every message, makes it 11. A raw
// INSERT of a message changes 3.
func TestReplyPages(t *testing.T) {
	d := dbtest.MustOpenSQLite(t)
	ctx := context.Background()
	f, _, tid := replyFixture(t, d)
	var files []struct {
		Seq  int    `bun:"seq"`
		Name string `bun:"name"`
		File string `bun:"file"`
	}
	if err := d.NewRaw("PRAGMA database_list").Scan(ctx, &files); err != nil || len(files) == 0 {
		t.Fatalf("database file: %v", err)
	}
	wal := files[0].File + "-wal"
	const header, frame = 32, 24 + 4096
	for i := range 3 {
		if err := d.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Antwoord"}); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(wal)
		if err != nil {
			t.Fatal(err)
		}
		if pages := (st.Size() - header) / frame; pages > 11 {
			t.Fatalf("reply %d changed %d pages", i+1, pages)
		}
	}
}

// TestRemoveLongConversationStatements bounds what removing a long
// conversation from one's box runs, on both engines: Jan removes a
// conversation of 500 messages (Hanna keeps it), then Hanna (the last
// box: every message goes, with the conversation). Each is a fixed number
// of statements, whatever the conversation's length; before, each message
// was two statements for Jan and about ten for Hanna, a round trip each
// on PostgreSQL, with the conversation's lock held.
func TestRemoveLongConversationStatements(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f, emp, tid := replyFixture(t, d)
		if err := messagingtest.LongThread(ctx, d, f.v, tid, f.hr.ID, emp.ID, 500, f.clk.Now()); err != nil {
			t.Fatal(err)
		}
		hook := dbtest.CountStatements(d)
		for _, who := range []*db.User{emp, f.hr} {
			stmts := hook.Run(func(ctx context.Context) {
				if err := f.svc.RemoveThreadFromBox(ctx, who.Identity(), tid); err != nil {
					t.Fatal(err)
				}
			})
			if len(stmts) > 40 {
				t.Errorf("removing the conversation from %s's box ran %d statements", who.FirstName, len(stmts))
			}
			countersAgree(t, d, "removed from "+who.FirstName+"'s box")
		}
		if f.threadExists(t, tid) {
			t.Error("the conversation is still there after the last box")
		}
		if n, err := d.NewSelect().Model((*db.Message)(nil)).Where("thread_id = ?", tid).Count(ctx); err != nil || n != 0 {
			t.Errorf("%d messages left (%v)", n, err)
		}
	})
}
