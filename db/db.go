// Package db owns storage: bun models, embedded migrations for SQLite and
// PostgreSQL, queries and transactions. It knows nothing of HTTP or mail.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// DB is an open database of either dialect.
type DB struct {
	*bun.DB
	postgres bool
	cache    *stmtCache
	hooks    []bun.QueryHook // also run around the prepared statements
	// writer admits one write transaction at a time on SQLite (see Tx);
	// nil on PostgreSQL.
	writer chan struct{}
	// ckpt checkpoints SQLite's write-ahead log (checkpoint.go); nil on
	// PostgreSQL.
	ckpt *checkpointer
	// inbox follows the inbox notifications on PostgreSQL
	// (inboxwatch.go); nil on SQLite.
	inbox *inboxWatch
	// warm spreads the prepared statements over the pool once Warm has
	// filled it (warm.go); PostgreSQL only.
	warm warmer
	// poolSize is the most connections the PostgreSQL pool opens.
	poolSize int
	// MigrationWait, when set, is called when Migrate finds another
	// process migrating the PostgreSQL database and waits for it.
	MigrationWait func()
}

// writerWait bounds how long a transaction waits for its turn to write on
// SQLite: the busy_timeout it waited out before.
const writerWait = 10 * time.Second

// busyTimeout is how long a SQLite connection waits for a lock.
const busyTimeout = 10 * time.Second

// inWriter marks the context of a transaction that holds its DB's writer.
type inWriter struct{ d *DB }

// AddQueryHook adds hook to bun's query hooks and runs it around the
// prepared statements too (QueryPrepared, QueryPreparedIn, ExecPrepared),
// which bun does not see. Add hooks before the database is used
// concurrently.
func (d *DB) AddQueryHook(hook bun.QueryHook) {
	d.DB.AddQueryHook(hook)
	d.hooks = append(d.hooks, hook)
}

// Close closes the prepared statements and the database.
func (d *DB) Close() error {
	d.inbox.close()
	d.ckpt.close()
	d.stopWarm()
	d.closeStatements()
	return d.DB.Close()
}

// Postgres reports whether the database is PostgreSQL.
func (d *DB) Postgres() bool { return d.postgres }

// SQLiteFile is the name of the SQLite database in the data dir.
const SQLiteFile = "dialoog.db"

// Open opens PostgreSQL when databaseURL is set, otherwise the SQLite file in
// dataDir (created when missing). It does not migrate.
func Open(ctx context.Context, databaseURL, dataDir string) (*DB, error) {
	if databaseURL != "" {
		return OpenPostgres(ctx, databaseURL)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	return OpenSQLite(ctx, filepath.Join(dataDir, SQLiteFile))
}

// OpenSQLite opens (or creates) the SQLite database at path. Pragmas are in
// the DSN so that every pooled connection gets them; transactions start
// IMMEDIATE so that writers queue on the busy timeout instead of failing on
// lock upgrades.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	if err := privateFile(path); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "mmap_size(268435456)")
	q.Add("_pragma", "cache_size(-16000)")
	// No commit checkpoints; the checkpointer does (checkpoint.go).
	q.Add("_pragma", "wal_autocheckpoint(0)")
	// The log file is cut back when the log starts again (checkpoint.go).
	q.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", walSizeLimit))
	// Deleted content is overwritten with zeros, so that what a person
	// deletes is gone from the file too (and from free pages).
	q.Add("_pragma", "secure_delete(1)")
	q.Set("_txlock", "immediate")
	// Times bound as parameters (prepared statements) are written in the
	// format bun writes them in, so that stored times compare and sort as
	// text whichever way they were written.
	q.Set("_time_format", "sqlite")
	sqldb, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// WAL allows readers beside the one writer; keep the pool modest, and
	// keep its connections open: database/sql keeps only two idle ones by
	// default, so under load every request opened (and configured) a
	// connection of its own and prepared its statements anew.
	sqldb.SetMaxOpenConns(8)
	sqldb.SetMaxIdleConns(8)
	d := &DB{DB: bun.NewDB(sqldb, sqlitedialect.New()), cache: &stmtCache{}, writer: make(chan struct{}, 1)}
	if err := pingSQLite(ctx, d); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	d.startCheckpointer(slog.Default())
	return d, nil
}

// pingSQLite opens the first connection. Switching a new file to WAL
// takes a lock that SQLite refuses at once (SQLITE_BUSY, without waiting
// out busy_timeout) while another connection is doing the same, as when
// several start at once on a new data dir; such a refusal is tried again
// for up to ten seconds.
func pingSQLite(ctx context.Context, d *DB) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := d.PingContext(ctx)
		if err == nil || !strings.Contains(err.Error(), "SQLITE_BUSY") || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// privateFile creates the database file readable and writable by its
// owner only, or takes group and other access away from one created
// before; SQLite gives the -wal and -shm files it makes beside it the
// same mode.
func privateFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err == nil && fi.Mode().Perm()&0o077 != 0 {
		err = f.Chmod(0o600)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// OpenPostgres opens a PostgreSQL database by URL, through pgx. bun writes
// its arguments into the query text, so its statements go out in the
// simple protocol, one round trip each; the prepared statements of
// QueryPrepared and ExecPrepared are named server-side statements, bound
// and run in one write.
func OpenPostgres(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	size, err := poolSize(cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	sqldb := stdlib.OpenDB(*cfg)
	sqldb.SetMaxOpenConns(size)
	sqldb.SetMaxIdleConns(size)
	d := &DB{DB: bun.NewDB(sqldb, pgdialect.New()), postgres: true, cache: &stmtCache{}, poolSize: size}
	d.inbox = newInboxWatch(sqldb, cfg)
	if err := d.PingContext(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return d, nil
}

// Tx runs fn in a transaction, committing when fn returns nil and rolling
// back otherwise; on SQLite in its turn among the writers (see Write).
func (d *DB) Tx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return d.Write(ctx, func(ctx context.Context) error { return d.RunInTx(ctx, nil, fn) })
}

// Write runs fn, which writes, in its turn among the writers: on SQLite
// one at a time, on PostgreSQL at once. Tx uses it; a write outside a
// transaction that runs often (the outbox's bookkeeping, a throttle's
// count) uses it too.
//
// SQLite has one writer at a time. Left to SQLite, a write that finds
// another one writing waits in its busy handler, which sleeps 1, 2, 5, 10,
// ... ms between tries however soon the other one ends: a reply that met
// another took milliseconds instead of a fraction of one. On SQLite,
// writes therefore queue for their turn in the process and begin as soon
// as the one before ends (for at most writerWait, the busy timeout). A
// write begun inside another one's function does not queue again (it
// would wait for itself): it waits in SQLite, as other writes do.
func (d *DB) Write(ctx context.Context, fn func(ctx context.Context) error) error {
	if d.writer == nil || ctx.Value(inWriter{d}) != nil {
		return fn(ctx)
	}
	t := time.NewTimer(writerWait)
	select {
	case d.writer <- struct{}{}:
		t.Stop()
	case <-ctx.Done():
		t.Stop()
		return fmt.Errorf("wait to write: %w", ctx.Err())
	case <-t.C:
		return errors.New("wait to write: the database is busy")
	}
	defer func() {
		<-d.writer
		d.ckpt.wrote()
	}()
	return fn(context.WithValue(ctx, inWriter{d}, true))
}

// ExecAtomic runs the statements of qs as one transaction. On PostgreSQL
// they go out as one simple-protocol query, which the server runs as one
// implicit transaction: one round trip and one commit for all of them,
// where a transaction of its own would cost BEGIN, a round trip per
// statement and COMMIT. SQLite, in the process, runs them in a transaction.
// Only for writes whose results nobody reads.
func (d *DB) ExecAtomic(ctx context.Context, qs ...bun.Query) error {
	texts := make([]string, len(qs))
	for i, q := range qs {
		b, err := q.AppendQuery(d.QueryGen(), nil)
		if err != nil {
			return fmt.Errorf("exec atomic: %w", err)
		}
		texts[i] = string(b)
	}
	if d.postgres {
		if _, err := d.ExecContext(ctx, strings.Join(texts, ";\n")); err != nil {
			return fmt.Errorf("exec atomic: %w", err)
		}
		return nil
	}
	return d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		for _, t := range texts {
			if _, err := tx.ExecContext(ctx, t); err != nil {
				return fmt.Errorf("exec atomic: %w", err)
			}
		}
		return nil
	})
}

// Optimize lets SQLite refresh the planner statistics of the tables that
// need it (PRAGMA optimize=0x10002, which SQLite recommends for long-lived
// connections at start and then periodically), so that its planner keeps
// choosing the indexes as tables grow. PostgreSQL's autovacuum analyzes
// tables itself.
func (d *DB) Optimize(ctx context.Context) error {
	if d.postgres {
		return nil
	}
	if _, err := d.ExecContext(ctx, "PRAGMA optimize=0x10002"); err != nil {
		return fmt.Errorf("optimize: %w", err)
	}
	return nil
}

// Checkpoint moves SQLite's write-ahead log into the database file and
// empties it, so that page images of deleted rows leave the log. Emptying
// the log waits for readers on older snapshots and holds up every writer
// meanwhile, so it waits at most truncateWait; behind a longer read (a
// large export) the checkpointer empties the log as soon as the read has
// ended (checkpoint.go). PostgreSQL needs nothing.
func (d *DB) Checkpoint(ctx context.Context) error {
	if d.postgres {
		return nil
	}
	done, err := d.truncate(ctx)
	if err != nil {
		return err
	}
	if !done {
		d.ckpt.truncateLater()
	}
	return nil
}

// ErrNoRows reports whether err means that a query found nothing.
func ErrNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// IsUniqueViolation reports whether err is a unique-constraint violation in
// either dialect.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// IsForeignKeyViolation reports whether err is a foreign-key violation in
// either dialect: a row refers to one that was deleted meanwhile.
func IsForeignKeyViolation(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23503"
	}
	return strings.Contains(err.Error(), "FOREIGN KEY constraint failed")
}
