package messaging_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/messaging/messagingtest"
)

// TestContactsMostRecentFirst: the compose form suggests first the people
// the user wrote with most recently, by the last activity of their
// conversations in the box (people of one conversation by address).
func TestContactsMostRecentFirst(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		var threads []int64
		for _, to := range []string{"anna@example.nl", "zeger@example.nl", "mark@example.nl"} {
			f.active(t, to, false, "X", "", "Y")
			id, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{to}, Subject: "Verzuim", Body: "Hoi"})
			if err != nil {
				t.Fatal(err)
			}
			threads = append(threads, id)
			f.clk.Add(time.Minute)
		}
		want := func(what, order string) {
			t.Helper()
			got, err := f.svc.Contacts(ctx, f.hr.Identity(), 100)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, ",") != order {
				t.Errorf("%s: suggestions %v, want %s", what, got, order)
			}
		}
		want("three conversations", "mark@example.nl,zeger@example.nl,anna@example.nl")
		// A reply brings Anna's conversation, and Anna, to the top.
		if _, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: threads[0], Body: "Nog een vraag"}); err != nil {
			t.Fatal(err)
		}
		f.clk.Add(time.Minute)
		want("after a reply", "anna@example.nl,mark@example.nl,zeger@example.nl")
		// The people of one conversation come by address; someone met
		// again in an older conversation keeps the place of the newest.
		if _, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{"zeger@example.nl", "arts@osaw.nl"}, Subject: "Overleg", Body: "Hoi"}); err != nil {
			t.Fatal(err)
		}
		want("a conversation of two", "arts@osaw.nl,zeger@example.nl,anna@example.nl,mark@example.nl")
		if got, err := f.svc.Contacts(ctx, f.hr.Identity(), 2); err != nil || strings.Join(got, ",") != "arts@osaw.nl,zeger@example.nl" {
			t.Errorf("the first two suggestions: %v %v", got, err)
		}
		// A conversation removed from the box no longer suggests its
		// people: the suggestions come from the box, as the inbox shows it.
		if err := f.svc.RemoveThreadFromBox(ctx, f.hr.Identity(), threads[2]); err != nil {
			t.Fatal(err)
		}
		want("after removing a conversation", "arts@osaw.nl,zeger@example.nl,anna@example.nl")
		// A blocked account is not suggested: a message to it is refused
		// (message.recipient_disabled_named).
		if _, err := d.NewUpdate().Model((*db.User)(nil)).Set("status = ?", db.StatusDisabled).Where("email = ?", "anna@example.nl").Exec(ctx); err != nil {
			t.Fatal(err)
		}
		want("a blocked account", "arts@osaw.nl,zeger@example.nl")
	})
}

// TestContactsReadNoWholeBox: the suggestions cost the user's most recent
// conversations, not their whole box. What the statement reads
// (dbtest.ReadVolume: pages on SQLite, rows on PostgreSQL) is compared
// between a box of 400 conversations and one of 4,000 in the same
// database, with statistics. Before, the
// statement read every participant of every conversation in the box
// before its DISTINCT and LIMIT: from 50 to 5,000 conversations it went
// from 0.6 to 15 ms on SQLite and from 1.7 to 60-76 ms on PostgreSQL.
func TestContactsReadNoWholeBox(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		small, large := f.hr, f.boss
		for _, b := range []struct {
			owner   *db.User
			threads int
		}{{small, 400}, {large, 4000}} {
			if _, err := messagingtest.Seed(ctx, d, f.v, messagingtest.Box{OrgID: f.org.ID, Owner: b.owner, Threads: b.threads, Others: 150}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := d.ExecContext(ctx, "ANALYZE"); err != nil {
			t.Fatal(err)
		}
		stmts := dbtest.CountStatements(d)
		read := func(u *db.User) int {
			t.Helper()
			var got []string
			var err error
			sqls := stmts.Run(func(ctx context.Context) { got, err = f.svc.Contacts(ctx, u.Identity(), 100) })
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 100 {
				t.Fatalf("%d suggestions, want 100", len(got))
			}
			if len(sqls) != 1 {
				t.Fatalf("%d statements, want 1:\n%s", len(sqls), strings.Join(sqls, "\n"))
			}
			return dbtest.ReadVolume(t, d, sqls[0])
		}
		a, b := read(small), read(large)
		t.Logf("read %d in a box of 400, %d in a box of 4,000", a, b)
		if b > a+a/2 {
			t.Errorf("the suggestions read %d in a box of 4,000 conversations, %d in a box of 400: they read the whole box", b, a)
		}
	})
}
