package messaging_test

import (
	"context"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/identity"
	"dialoog/messaging"
)

// What was deleted is not found: a conversation removed from a box by
// the person who removed it (the others still find it), a message deleted
// for everyone (its emptied conversation) by nobody, and a person who
// stopped by nobody, by their name; on SQLite the search indexes
// themselves (FTS5) no longer hold the subject or the name, not only the
// tables they are read with.
func TestDeletedIsNotFound(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Janneke", "", "Zoekachternaam")
		found := func(who *db.User, query string) int {
			t.Helper()
			p, err := f.svc.Inbox(ctx, who.Identity(), 1, query)
			if err != nil {
				t.Fatal(err)
			}
			return len(p.Threads)
		}
		before := 1 // what an index holds of a thing not yet deleted
		if d.Postgres() {
			before = 0 // the trigram indexes are read through their tables
		}
		indexed := func(table, query string) int {
			t.Helper()
			if d.Postgres() {
				return 0
			}
			var n int
			if err := d.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table+" WHERE "+table+" MATCH ?", `"`+query+`"`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		compose := func(who *identity.User, subject string, to ...string) int64 {
			t.Helper()
			tid, err := f.svc.Compose(ctx, who, messaging.ComposeInput{To: to, Subject: subject, Body: "Inhoud"})
			if err != nil {
				t.Fatal(err)
			}
			return tid
		}

		removed := compose(f.hr.Identity(), "Burnoutmelding", jan.Email, f.boss.Email)
		if found(jan, "burnout") != 1 || found(f.hr, "burnout") != 1 {
			t.Fatal("the conversation is not found before it is removed: the test proves nothing")
		}
		if err := f.svc.RemoveThreadFromBox(ctx, jan.Identity(), removed); err != nil {
			t.Fatal(err)
		}
		if n := found(jan, "burnout"); n != 0 {
			t.Errorf("the person who removed the conversation still finds it: %d", n)
		}
		if n := found(f.hr, "burnout"); n != 1 {
			t.Errorf("the others find the conversation %d times, want 1", n)
		}

		wrong := compose(f.hr.Identity(), "Verkeerdadres", jan.Email)
		v, err := f.svc.Thread(ctx, f.hr.Identity(), wrong)
		if err != nil {
			t.Fatal(err)
		}
		if found(jan, "verkeerd") != 1 || indexed("threads_fts", "Verkeerdadres") != before {
			t.Fatal("the conversation is not found before its message is deleted: the test proves nothing")
		}
		if err := f.svc.DeleteForEveryone(ctx, f.hr.Identity(), v.Messages[0].ID); err != nil {
			t.Fatal(err)
		}
		for _, u := range []*db.User{f.hr, jan} {
			if n := found(u, "verkeerd"); n != 0 {
				t.Errorf("%s finds the conversation of a message deleted for everyone: %d", u.Email, n)
			}
		}
		if n := indexed("threads_fts", "Verkeerdadres"); n != 0 {
			t.Errorf("the subject's search index still holds the deleted conversation: %d", n)
		}

		compose(f.hr.Identity(), "Afspraak", jan.Email)
		if found(f.hr, "Zoekachternaam") == 0 || indexed("users_fts", "Zoekachternaam") != before {
			t.Fatal("the person is not found by name before they stop: the test proves nothing")
		}
		if err := f.svc.StopService(ctx, jan.Identity()); err != nil {
			t.Fatal(err)
		}
		for _, u := range []*db.User{f.hr, f.boss} {
			if n := found(u, "Zoekachternaam"); n != 0 {
				t.Errorf("%s finds %d conversations by the name of a person who stopped", u.Email, n)
			}
		}
		if n := indexed("users_fts", "Zoekachternaam"); n != 0 {
			t.Errorf("the people's search index still holds the person who stopped: %d", n)
		}
	})
}
