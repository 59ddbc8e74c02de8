package db_test

import (
	"context"
	"testing"
	"time"

	"dialoog/db/dbtest"
)

// TestInboxWatch: on PostgreSQL the versions this instance hands out follow
// the inbox notifications: a user named in one gets a new version and
// nobody else does; '*' (what the triggers send when the users do not fit
// in a notification, which must not fail the change) gives everyone one;
// the person's own change gives them one at once; and while the listener's
// connection is gone no version is handed out, and after it is back every
// version is new, because changes may have been missed meanwhile.
func TestInboxWatch(t *testing.T) {
	d := dbtest.MustOpen(t, "postgres")
	ctx := context.Background()
	d.InboxTouched(1) // a change before anyone looked
	if _, ok := d.InboxVersion(1); ok {
		t.Fatal("a version before the listener heard anything")
	}
	sync := func() {
		t.Helper()
		if err := d.InboxSync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	versions := func() (a, b int64) {
		t.Helper()
		sync()
		a, okA := d.InboxVersion(1)
		b, okB := d.InboxVersion(2)
		if !okA || !okB {
			t.Fatal("no version while the listener hears")
		}
		return a, b
	}
	notify := func(ids string) {
		t.Helper()
		q := "SELECT inbox_notify(current_schema(), ARRAY(SELECT generate_series(1, 3000)::bigint))"
		if ids != "" {
			q = "SELECT inbox_notify(current_schema(), '{" + ids + "}'::bigint[])"
		}
		if _, err := d.ExecContext(ctx, q); err != nil {
			t.Fatalf("notify %q: %v", ids, err)
		}
	}

	if d.InboxListening() {
		t.Error("listening before the listener heard anything")
	}
	a0, b0 := versions()
	if !d.InboxListening() {
		t.Error("not listening after a sync")
	}
	notify("1")
	a1, b1 := versions()
	if a1 == a0 || b1 != b0 {
		t.Errorf("notified user 1: versions %d→%d and %d→%d, want only the first to change", a0, a1, b0, b1)
	}
	notify("") // 3,000 users: '*'
	a2, b2 := versions()
	if a2 == a1 || b2 == b1 {
		t.Errorf("notified 3,000 users: versions %d→%d and %d→%d, want both to change", a1, a2, b1, b2)
	}
	d.InboxTouched(2)
	if b3, _ := d.InboxVersion(2); b3 == b2 {
		t.Error("a touched user kept their version")
	}
	a3, b3 := versions()

	// The listener's connection ends (a restarted database, say).
	var pid int
	err := d.QueryRowContext(ctx, `SELECT pid FROM pg_stat_activity
		WHERE application_name = 'dialoog-inbox-watch' AND query = 'LISTEN "dialoog_inbox_' || left(md5(current_schema()), 16) || '"'`).Scan(&pid)
	if err != nil {
		t.Fatalf("find the listener: %v", err)
	}
	if _, err := d.ExecContext(ctx, "SELECT pg_terminate_backend(?)", pid); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, ok := d.InboxVersion(1); !ok {
			if d.InboxListening() {
				t.Error("listening while no version is handed out")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("versions still handed out 5 s after the listener's connection ended")
		}
		time.Sleep(time.Millisecond)
	}
	a4, b4 := versions() // after the reconnect
	if a4 == a3 || b4 == b3 {
		t.Errorf("after a reconnect: versions %d→%d and %d→%d, want both to change", a3, a4, b3, b4)
	}
}

// TestInboxWatchOnSQLite: SQLite keeps the version in the users row; the
// database hands out none of its own.
func TestInboxWatchOnSQLite(t *testing.T) {
	d := dbtest.MustOpenSQLite(t)
	d.InboxTouched(1)
	if err := d.InboxSync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.InboxVersion(1); ok {
		t.Error("SQLite handed out a version from memory")
	}
}
