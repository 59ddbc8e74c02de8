package db

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// The queries every request runs (the session, the inbox page, the unread
// count) are prepared once per database and reused: bun writes arguments
// into the SQL text, so each of them would otherwise be parsed and planned
// anew on every call, which on SQLite cost about as much as running them.

// stmtCache holds the prepared statements of a DB by query text.
type stmtCache struct {
	stmts sync.Map   // query text -> *sql.Stmt
	mu    sync.Mutex // held while preparing a statement not yet cached
	texts sync.Map   // key -> query text built by Text
}

// QueryPrepared runs query, written with ? placeholders, as a statement
// prepared once for this database (database/sql prepares it on each pooled
// connection as needed), and returns its rows; ScanRows reads them into
// models. Only for fixed query texts: never build query from input.
func (d *DB) QueryPrepared(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	stmt, err := d.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	return hooked(ctx, d, query, args, func(ctx context.Context) (*sql.Rows, error) {
		return stmt.QueryContext(ctx, args...)
	})
}

// hooked runs a prepared statement between the query hooks (see
// AddQueryHook), as bun runs its own statements.
func hooked[T any](ctx context.Context, d *DB, query string, args []any, run func(context.Context) (T, error)) (T, error) {
	if len(d.hooks) == 0 {
		return run(ctx)
	}
	ev := &bun.QueryEvent{DB: d.DB, Query: query, QueryTemplate: query, QueryArgs: args, StartTime: time.Now()}
	for _, h := range d.hooks {
		ctx = h.BeforeQuery(ctx, ev)
	}
	res, err := run(ctx)
	ev.Err = err
	if r, ok := any(res).(sql.Result); ok {
		ev.Result = r
	}
	for i := len(d.hooks) - 1; i >= 0; i-- {
		d.hooks[i].AfterQuery(ctx, ev)
	}
	return res, err
}

// QueryPreparedIn is QueryPrepared within idb: in a transaction (a bun.Tx)
// the prepared statement runs on the transaction's connection.
func (d *DB) QueryPreparedIn(ctx context.Context, idb bun.IDB, query string, args ...any) (*sql.Rows, error) {
	stmt, err := d.preparedIn(ctx, idb, query)
	if err != nil {
		return nil, err
	}
	return hooked(ctx, d, query, args, func(ctx context.Context) (*sql.Rows, error) {
		return stmt.QueryContext(ctx, args...)
	})
}

// ExecPrepared runs a fixed statement, written with ? placeholders, as a
// prepared statement within idb (the database, or a bun.Tx).
func (d *DB) ExecPrepared(ctx context.Context, idb bun.IDB, query string, args ...any) (sql.Result, error) {
	stmt, err := d.preparedIn(ctx, idb, query)
	if err != nil {
		return nil, err
	}
	return hooked(ctx, d, query, args, func(ctx context.Context) (sql.Result, error) {
		return stmt.ExecContext(ctx, args...)
	})
}

func (d *DB) preparedIn(ctx context.Context, idb bun.IDB, query string) (*sql.Stmt, error) {
	stmt, err := d.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	switch tx := idb.(type) {
	case bun.Tx:
		return tx.Tx.StmtContext(ctx, stmt), nil
	case *bun.Tx:
		return tx.Tx.StmtContext(ctx, stmt), nil
	}
	return stmt, nil
}

func (d *DB) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := d.cache.stmts.Load(query); ok {
		return s.(*sql.Stmt), nil
	}
	d.cache.mu.Lock()
	defer d.cache.mu.Unlock()
	if s, ok := d.cache.stmts.Load(query); ok {
		return s.(*sql.Stmt), nil
	}
	text := query
	if d.postgres {
		text = dollarPlaceholders(query)
	}
	s, err := d.DB.DB.PrepareContext(ctx, text)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	d.cache.stmts.Store(query, s)
	d.spread(s)
	return s, nil
}

// Text returns the query text build makes for this database, built once
// and kept under key: for prepared statements whose text depends on the
// database (its dialect, the columns of a model), so that a request does
// not build it again.
func (d *DB) Text(key string, build func() string) string {
	if t, ok := d.cache.texts.Load(key); ok {
		return t.(string)
	}
	t := build()
	d.cache.texts.Store(key, t)
	return t
}

// dollarPlaceholders numbers the ? placeholders of query for PostgreSQL.
func dollarPlaceholders(query string) string {
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// closeStatements closes the cached statements.
func (d *DB) closeStatements() {
	d.cache.stmts.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		d.cache.stmts.Delete(k)
		return true
	})
}

// ScanOne scans the first row of rows into dest and closes rows; without a
// row it returns sql.ErrNoRows (see ErrNoRows), which ScanRows does not.
func (d *DB) ScanOne(ctx context.Context, rows *sql.Rows, dest ...any) error {
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := d.ScanRow(ctx, rows, dest...); err != nil {
		return err
	}
	return rows.Close()
}

// Columns lists the columns of model's table, each prefixed with alias
// ("u.id, u.email, ..."), for the select lists of prepared statements. A
// prepared statement must not select "*": when a migration (by another
// instance during a rolling update) adds a column, PostgreSQL refuses to
// run a prepared "*" again ("cached plan must not change result type"),
// and bun refuses a column the model does not have.
func (d *DB) Columns(model any, alias string) string { return ColumnsOf(d, model, alias) }

// ColumnsOf is Columns for any bun.IDB (a transaction too): the select
// list to use instead of "alias.*", which would also bring columns the
// model leaves out on purpose (User has no password hash).
func ColumnsOf(idb bun.IDB, model any, alias string) string {
	t := idb.Dialect().Tables().Get(reflect.TypeOf(model))
	names := make([]string, len(t.Fields))
	for i, f := range t.Fields {
		if f.IndirectType == timeType || f.IndirectType == nullTimeType {
			names[i] = TimeColumn(idb, alias+"."+f.Name, f.Name)
			continue
		}
		names[i] = alias + "." + f.Name
	}
	return strings.Join(names, ", ")
}

var (
	timeType     = reflect.TypeOf(time.Time{})
	nullTimeType = reflect.TypeOf(bun.NullTime{})
)

// TimeArg is t as an argument of a query that bun writes into its text,
// for a comparison with a stored time that must hold exactly (the time of
// the last row of a page, to go on after it). bun writes times with
// microseconds; on SQLite, where times are text, those written as
// parameters keep nanoseconds (the driver's format), so a time read back
// compares as the text it was stored as only in that format.
func TimeArg(idb bun.IDB, t time.Time) any {
	if idb.Dialect().Name() == dialect.SQLite {
		return t.UTC().Format("2006-01-02 15:04:05.999999999-07:00")
	}
	return t
}

// TimeColumn is the select-list item "column AS name" for a time column
// of a fixed query. On SQLite it selects the expression "+column" (unary
// plus leaves the text as it is). The driver parses the values of a
// column declared DATETIME or TIMESTAMP itself, trying Go's time.String
// layout first, which fails, building an error, for every time stored
// here: about a tenth of a reply's CPU. An expression has no declared
// type, so the driver passes the text on, and bun parses it with the one
// layout its shape calls for, the layout the driver's next try would use:
// the same time either way.
func TimeColumn(idb bun.IDB, column, name string) string {
	if idb.Dialect().Name() == dialect.SQLite {
		return "+" + column + " AS " + name
	}
	return column + " AS " + name
}
