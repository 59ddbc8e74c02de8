package blob

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
)

// copyOut streams a blob's rows out of PostgreSQL with one COPY in the
// binary format on a dedicated connection: pgconn writes each COPY message
// from its pooled read buffer to the pipe, and the reader below takes the
// bytes of the data column out of it, so a download allocates nothing per
// row or per message (the text protocol of a SELECT delivered each row as
// hex and decoded it into a new slice, about four bytes of garbage per byte
// sent; pgdriver's COPY copied every message into a new slice).
func (d *Database) copyOut(ctx context.Context, db conner, key string) (io.ReadCloser, error) {
	exists, err := d.DB.NewSelect().Table("blob_chunks").Where("key = ? AND seq = 0", key).Exists(ctx)
	if err != nil {
		return nil, fmt.Errorf("read blob: %w", err)
	}
	if !exists {
		return nil, ErrNotFound
	}
	release, err := d.acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("read blob: %w", err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		release()
		return nil, fmt.Errorf("read blob: %w", err)
	}
	pr, pw := io.Pipe()
	r := &copyOutReader{br: bufio.NewReaderSize(pr, 64<<10), pr: pr, conn: conn, release: release, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		// COPY takes no parameters; checkKey allows only [0-9a-z-] in a
		// key, and EscapeString doubles quotes all the same.
		err := withPgConn(conn, func(pc *pgconn.PgConn) error {
			lit, err := pc.EscapeString(key)
			if err != nil {
				return err
			}
			_, err = pc.CopyTo(ctx, pw,
				"COPY (SELECT data FROM blob_chunks WHERE key = '"+lit+"' ORDER BY seq) TO STDOUT WITH (FORMAT binary)")
			return err
		})
		r.copyErr = err
		pw.CloseWithError(err) // nil: the reader sees EOF
	}()
	if err := r.header(); err != nil {
		r.Close()
		return nil, fmt.Errorf("read blob: %w", err)
	}
	return r, nil
}

// copyOutReader reads the data column out of a binary COPY stream: a
// header, then per row a field count (-1 ends the stream), and per field
// its length and bytes.
type copyOutReader struct {
	br        *bufio.Reader
	pr        *io.PipeReader
	conn      bun.Conn
	release   func() // gives the stream's slot back (Database.MaxStreams)
	done      chan struct{}
	copyErr   error // set before done is closed
	remaining int   // bytes of the current field not yet read
	finished  bool
	closeOnce sync.Once
}

var copySignature = []byte("PGCOPY\n\xff\r\n\x00")

func (r *copyOutReader) header() error {
	var h [19]byte
	if _, err := io.ReadFull(r.br, h[:]); err != nil {
		return fmt.Errorf("copy header: %w", err)
	}
	if string(h[:11]) != string(copySignature) {
		return errors.New("copy header: not a binary COPY stream")
	}
	if ext := binary.BigEndian.Uint32(h[15:19]); ext > 0 {
		if _, err := r.br.Discard(int(ext)); err != nil {
			return fmt.Errorf("copy header: %w", err)
		}
	}
	return nil
}

func (r *copyOutReader) Read(p []byte) (int, error) {
	for r.remaining == 0 {
		if r.finished {
			return 0, io.EOF
		}
		var head [2]byte
		if _, err := io.ReadFull(r.br, head[:]); err != nil {
			return 0, fmt.Errorf("read blob: %w", unexpected(err))
		}
		fields := int16(binary.BigEndian.Uint16(head[:]))
		if fields == -1 {
			r.finished = true
			continue
		}
		if fields != 1 {
			return 0, fmt.Errorf("read blob: %d fields in a row", fields)
		}
		var n [4]byte
		if _, err := io.ReadFull(r.br, n[:]); err != nil {
			return 0, fmt.Errorf("read blob: %w", unexpected(err))
		}
		size := int32(binary.BigEndian.Uint32(n[:]))
		if size < 0 {
			return 0, errors.New("read blob: a chunk without data")
		}
		r.remaining = int(size)
	}
	if len(p) > r.remaining {
		p = p[:r.remaining]
	}
	n, err := r.br.Read(p)
	r.remaining -= n
	if err != nil && !errors.Is(err, io.EOF) {
		return n, fmt.Errorf("read blob: %w", err)
	}
	if errors.Is(err, io.EOF) && r.remaining > 0 {
		return n, fmt.Errorf("read blob: %w", io.ErrUnexpectedEOF)
	}
	return n, nil
}

// Close ends the COPY: read to its end, the connection goes back to the
// pool; left early, the connection is closed (it is in the middle of the
// protocol) and the pool drops it.
func (r *copyOutReader) Close() error {
	r.closeOnce.Do(func() {
		r.pr.CloseWithError(errors.New("blob reader closed"))
		<-r.done
		if !r.finished || r.copyErr != nil {
			r.conn.Raw(func(dc any) error {
				if c, ok := dc.(io.Closer); ok {
					c.Close()
				}
				return nil
			})
		}
		r.conn.Close()
		r.release()
	})
	return nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
