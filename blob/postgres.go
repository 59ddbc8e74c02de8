package blob

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// ChunkSize is how much of a blob one database row holds: the write buffer
// of Database.Put, and the most a read holds at once.
const ChunkSize = 256 << 10

// Database keeps blobs as rows of the blob_chunks table (key, seq, data),
// ChunkSize bytes a row, in the application's database. A blob is written
// in one statement (PostgreSQL) or transaction, so it is whole or absent
// even when the process dies; it is read one row per query, so neither
// side holds more than a chunk.
//
// On PostgreSQL a blob streams in or out on a connection of its own for as
// long as the other side (a client uploading or downloading over a slow
// line) takes; MaxStreams bounds how many such connections the store holds
// at once, so that slow transfers never take the whole pool from every
// other request. A stream beyond it waits for one to end (or its context).
type Database struct {
	DB bun.IDB
	// MaxStreams is the most PostgreSQL connections streams hold at once;
	// 0 is no bound. Set it before the first use, below the pool's size.
	MaxStreams int

	slotsOnce sync.Once
	slots     chan struct{}
	// rowsOnly makes PostgreSQL too write and read row by row through
	// the pool, holding no connection of its own (see probe).
	rowsOnly bool
}

// probe is the store for a small write and read that must not wait for a
// stream slot: the readiness probe's (CheckWrite).
func (d *Database) probe() Store { return &Database{DB: d.DB, rowsOnly: true} }

var _ Store = (*Database)(nil)

func (d *Database) String() string { return "database" }

// Put stores r's content as rows of ChunkSize bytes. On PostgreSQL the
// rows stream in one COPY statement, generated as r is read (a row's
// bytes hex-encoded straight into the connection's buffer), so memory
// stays at one chunk whatever the size; COPY is one statement, so the blob
// is whole or absent. Other engines insert the rows in one transaction.
func (d *Database) Put(ctx context.Context, key string, r io.Reader) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if db, ok := d.DB.(conner); ok && d.DB.Dialect().Name() == dialect.PG && !d.rowsOnly {
		return d.copyIn(ctx, db, key, r)
	}
	buf := make([]byte, ChunkSize)
	err := d.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for seq := 0; ; seq++ {
			n, rerr := io.ReadFull(r, buf)
			if n > 0 || seq == 0 {
				if _, err := tx.ExecContext(ctx, "INSERT INTO blob_chunks (key, seq, data) VALUES (?, ?, ?)", key, seq, buf[:n]); err != nil {
					return dbErr("write blob chunk", err)
				}
			}
			switch {
			case rerr == nil:
			case errors.Is(rerr, io.EOF), errors.Is(rerr, io.ErrUnexpectedEOF):
				return nil
			default:
				return fmt.Errorf("read blob content: %w", rerr)
			}
		}
	})
	if err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	return nil
}

// acquire waits for a stream's connection slot (see MaxStreams) and
// returns the function that gives it back.
func (d *Database) acquire(ctx context.Context) (release func(), err error) {
	d.slotsOnce.Do(func() {
		if d.MaxStreams > 0 {
			d.slots = make(chan struct{}, d.MaxStreams)
		}
	})
	if d.slots == nil {
		return func() {}, nil
	}
	select {
	case d.slots <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-d.slots }) }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for a blob stream: %w", ctx.Err())
	}
}

// conner is a database that hands out a dedicated connection (*bun.DB).
var _ conner = (*bun.DB)(nil)

type conner interface {
	Conn(ctx context.Context) (bun.Conn, error)
}

func (d *Database) copyIn(ctx context.Context, db conner, key string, r io.Reader) error {
	release, err := d.acquire(ctx)
	if err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	defer release()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	defer conn.Close()
	rows := &copyRows{src: r, key: key, buf: make([]byte, ChunkSize)}
	err = withPgConn(conn, func(pc *pgconn.PgConn) error {
		_, err := pc.CopyFrom(ctx, rows, "COPY blob_chunks (key, seq, data) FROM STDIN")
		return err
	})
	if err == nil {
		return nil
	}
	// A COPY cut off in the middle leaves the connection in the middle of
	// the protocol: close it, which makes the server roll the statement
	// back and the pool drop the connection.
	conn.Raw(func(dc any) error {
		if c, ok := dc.(io.Closer); ok {
			c.Close()
		}
		return nil
	})
	if rows.err != nil {
		return fmt.Errorf("put blob: read blob content: %w", rows.err)
	}
	return fmt.Errorf("put blob: %w", dbErr("copy blob chunks", err))
}

// copyRows turns a stream into the rows of COPY's text format, one per
// ChunkSize bytes: key, seq, and the data as a bytea hex literal (whose
// backslash COPY wants doubled). It only ever holds one chunk.
type copyRows struct {
	src     io.Reader
	key     string
	buf     []byte
	seq     int
	head    []byte // the start of the current row, not yet handed out
	data    []byte // the current chunk's bytes not yet hex-encoded
	newline bool   // the current row's end is still to come
	srcDone bool
	err     error // src's error other than EOF
}

// Read never returns data together with io.EOF.
func (c *copyRows) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		switch {
		case len(c.head) > 0:
			k := copy(p[n:], c.head)
			c.head = c.head[k:]
			n += k
		case len(c.data) > 0:
			k := min(len(c.data), (len(p)-n)/2)
			if k == 0 {
				return n, nil
			}
			hex.Encode(p[n:], c.data[:k])
			c.data = c.data[k:]
			n += 2 * k
		case c.newline:
			p[n] = '\n'
			n++
			c.newline = false
		case c.srcDone:
			if n > 0 {
				return n, nil
			}
			return 0, io.EOF
		default:
			m, err := io.ReadFull(c.src, c.buf)
			switch {
			case err == nil:
			case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
				c.srcDone = true
			default:
				c.err = err
				return n, err
			}
			if m == 0 && c.seq > 0 {
				continue
			}
			c.head = fmt.Appendf(c.head[:0], "%s\t%d\t\\\\x", c.key, c.seq)
			c.data = c.buf[:m]
			c.newline = true
			c.seq++
		}
	}
	return n, nil
}

// Get reads the first chunk to see that the blob exists, and the others
// as the reader gets to them.
func (d *Database) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if db, ok := d.DB.(conner); ok && d.DB.Dialect().Name() == dialect.PG && !d.rowsOnly {
		return d.copyOut(ctx, db, key)
	}
	r := &chunkReader{ctx: ctx, db: d.DB, key: key}
	if err := r.next(); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	return r, nil
}

// Delete removes every chunk of key.
func (d *Database) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if _, err := d.DB.NewDelete().Table("blob_chunks").Where("key = ?", key).Exec(ctx); err != nil {
		return fmt.Errorf("delete blob: %w", err)
	}
	return nil
}

type chunkReader struct {
	ctx  context.Context
	db   bun.IDB
	key  string
	seq  int
	cur  []byte
	done bool
}

// next loads chunk seq; io.EOF when there is none.
func (r *chunkReader) next() error {
	var data []byte
	err := r.db.NewSelect().Table("blob_chunks").Column("data").
		Where("key = ? AND seq = ?", r.key, r.seq).Scan(r.ctx, &data)
	if errors.Is(err, sql.ErrNoRows) {
		r.done = true
		return io.EOF
	}
	if err != nil {
		return fmt.Errorf("read blob chunk %d: %w", r.seq, err)
	}
	r.seq++
	r.cur = data
	return nil
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if r.done {
			return 0, io.EOF
		}
		if err := r.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

func (r *chunkReader) Close() error {
	r.cur, r.done = nil, true
	return nil
}

// dbErr marks PostgreSQL's disk_full (SQLSTATE 53100) and SQLite's
// SQLITE_FULL as ErrNoSpace.
func dbErr(what string, err error) error {
	var pe *pgconn.PgError
	full := errors.As(err, &pe) && pe.Code == "53100"
	full = full || strings.Contains(err.Error(), "database or disk is full")
	if full {
		return fmt.Errorf("%s: %w: %w", what, ErrNoSpace, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// withPgConn runs fn on the pgx connection under conn, for the COPY
// protocol, which database/sql does not speak.
func withPgConn(conn bun.Conn, fn func(*pgconn.PgConn) error) error {
	return conn.Raw(func(dc any) error {
		c, ok := dc.(interface{ Conn() *pgx.Conn })
		if !ok {
			return fmt.Errorf("COPY needs a pgx connection, not %T", dc)
		}
		return fn(c.Conn().PgConn())
	})
}
