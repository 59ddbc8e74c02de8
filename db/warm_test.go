package db_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestWarm: after Warm the PostgreSQL pool holds all its connections, and a
// fixed statement first run afterwards becomes prepared on every one of
// them, not only on the connection that ran it; on SQLite Warm does
// nothing.
func TestWarm(t *testing.T) {
	ctx := context.Background()
	t.Run("sqlite", func(t *testing.T) {
		d := dbtest.MustOpen(t, "sqlite")
		open := d.DB.DB.Stats().OpenConnections
		if err := d.Warm(ctx); err != nil {
			t.Fatal(err)
		}
		if got := d.DB.DB.Stats().OpenConnections; got != open {
			t.Errorf("Warm opened SQLite connections: %d, before %d", got, open)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		d := dbtest.MustOpen(t, "postgres")
		if err := d.Warm(ctx); err != nil {
			t.Fatal(err)
		}
		if got := d.DB.DB.Stats().OpenConnections; got != d.PoolSize() {
			t.Fatalf("%d connections open after Warm, want %d", got, d.PoolSize())
		}
		rows, err := d.QueryPrepared(ctx, "SELECT count(*) /* warm test */ FROM users WHERE id = ?", 1)
		if err != nil {
			t.Fatal(err)
		}
		rows.Close()
		// The statement is spread in the background.
		db.WaitSpread(d)
		if n := preparedOn(t, d, "%warm test%"); n != d.PoolSize() {
			t.Fatalf("the statement is prepared on %d of %d connections", n, d.PoolSize())
		}
		if got := d.DB.DB.Stats().OpenConnections; got != d.PoolSize() {
			t.Errorf("%d connections open, want %d", got, d.PoolSize())
		}
	})
}

// TestPoolMaxConns: the database URL's pool_max_conns sizes the PostgreSQL
// pool and is not sent to the server as a setting (which would refuse it);
// a value that is not a number of connections is refused when opening.
func TestPoolMaxConns(t *testing.T) {
	ctx := context.Background()
	url := dbtest.NewTestSchema(t)
	d, err := db.OpenPostgres(ctx, url+"&pool_max_conns=3")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	if got := d.DB.DB.Stats().OpenConnections; d.PoolSize() != 3 || got != 3 {
		t.Errorf("pool of %d with %d open, want 3 and 3", d.PoolSize(), got)
	}
	for _, bad := range []string{"0", "many"} {
		if d, err := db.OpenPostgres(ctx, url+"&pool_max_conns="+bad); err == nil {
			d.Close()
			t.Errorf("pool_max_conns=%s: opened", bad)
		} else if !strings.Contains(err.Error(), "pool_max_conns") {
			t.Errorf("pool_max_conns=%s: %v", bad, err)
		}
	}
}

// preparedOn holds every connection of pool, each in a transaction, and
// counts those on which a statement whose text is like pattern is
// prepared.
func preparedOn(t *testing.T, d *db.DB, pattern string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var txs []*sql.Tx
	defer func() {
		for _, tx := range txs {
			tx.Rollback()
		}
	}()
	n := 0
	for range d.PoolSize() {
		tx, err := d.DB.DB.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		txs = append(txs, tx)
		var c int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE $1", pattern).Scan(&c); err != nil {
			t.Fatal(err)
		}
		if c > 0 {
			n++
		}
	}
	return n
}
