package blob

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"
)

// ChunkSize is how much of a blob one database row holds: the write buffer
// of Database.Put, and the most a read holds at once.
const ChunkSize = 256 << 10

// Database keeps blobs as rows of the blob_chunks table (key, seq, data),
// ChunkSize bytes a row, in the application's database. A blob is written
// in one transaction, so it is whole or absent even when the process dies;
// it is read one row per query, so neither side holds more than a chunk.
type Database struct {
	DB bun.IDB
}

var _ Store = (*Database)(nil)

func (d *Database) String() string { return "database" }

// Put inserts r's content chunk by chunk inside one transaction.
func (d *Database) Put(ctx context.Context, key string, r io.Reader) error {
	if err := checkKey(key); err != nil {
		return err
	}
	buf := make([]byte, ChunkSize)
	err := d.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// A key is written once; a leftover of an earlier failed attempt
		// cannot exist (the transaction rolled back), but a retry with
		// the same key must not mix chunks.
		if _, err := tx.NewDelete().Table("blob_chunks").Where("key = ?", key).Exec(ctx); err != nil {
			return fmt.Errorf("clear blob: %w", err)
		}
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

// Get reads the first chunk to see that the blob exists, and the others
// as the reader gets to them.
func (d *Database) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
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
	var pe pgdriver.Error
	full := errors.As(err, &pe) && pe.Field('C') == "53100"
	full = full || strings.Contains(err.Error(), "database or disk is full")
	if full {
		return fmt.Errorf("%s: %w: %w", what, ErrNoSpace, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
