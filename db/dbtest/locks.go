package dbtest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
)

// Helpers for tests that make two changes meet on PostgreSQL's row locks
// in a chosen order (SQLite's writers take turns in the process, where a
// wait cannot be seen).

// BackendPID is the PostgreSQL server process of tx's connection.
func BackendPID(t testing.TB, ctx context.Context, tx bun.Tx) int {
	t.Helper()
	var pid int
	if err := tx.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Error(err)
	}
	return pid
}

// HoldRows runs query (a SELECT ... FOR ...) in a transaction of the test
// on PostgreSQL, so that a change that needs one of its rows waits there.
// It returns the transaction's backend pid and the function that releases
// the locks; on SQLite, 0 and a no-op.
func HoldRows(t testing.TB, d *db.DB, query string, args ...any) (int, func()) {
	t.Helper()
	if !d.Postgres() {
		return 0, func() {}
	}
	ctx := context.Background()
	hold, err := d.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	pid := BackendPID(t, ctx, hold)
	rows, err := hold.QueryContext(ctx, d.NewRaw(query, args...).String())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("nothing to hold: %s", query)
	}
	return pid, func() {
		if err := hold.Rollback(); err != nil {
			t.Error(err)
		}
	}
}

// WaitBehind waits until n transactions wait, directly or through one
// another, for the locks of the PostgreSQL backend pid, or until done is
// closed (the other side did not wait at all). On SQLite it gives the
// other side a moment to go ahead if it could.
func WaitBehind(t testing.TB, d *db.DB, pid, n int, done <-chan struct{}) {
	t.Helper()
	if !d.Postgres() {
		select {
		case <-done:
		case <-time.After(300 * time.Millisecond):
		}
		return
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return
		default:
		}
		var waiting int
		if err := d.NewRaw(`WITH RECURSIVE w AS (
  SELECT a.pid FROM pg_stat_activity AS a WHERE ? = ANY(pg_blocking_pids(a.pid))
  UNION SELECT a.pid FROM pg_stat_activity AS a JOIN w ON w.pid = ANY(pg_blocking_pids(a.pid)))
SELECT COUNT(*) FROM w`, pid).Scan(context.Background(), &waiting); err != nil {
			t.Error(err)
			return
		}
		if waiting >= n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Error("the other transactions neither waited nor ended")
}

// InTurn starts first, and second once first waits behind the holder
// (pid, from HoldRows), then releases the holder when both wait, and
// returns their errors when both have ended.
func InTurn(t testing.TB, d *db.DB, pid int, release func(), first, second func() error) (error, error) {
	t.Helper()
	var errs [2]error
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(2)
	go func() { defer wg.Done(); errs[0] = first() }()
	go func() { wg.Wait(); close(done) }()
	WaitBehind(t, d, pid, 1, done)
	go func() { defer wg.Done(); errs[1] = second() }()
	WaitBehind(t, d, pid, 2, done)
	release()
	<-done
	return errs[0], errs[1]
}
