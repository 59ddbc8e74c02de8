package handlers

import (
	"io"
	"net"
	"time"
)

// writeDeadline gives a connection's write deadline writeTimeout anew
// while a streamed download progresses: the server's deadline covers a
// whole response, which would cut off a large file or box export over a
// slow connection although its bytes keep flowing. A download that stalls
// for writeTimeout still ends.
type writeDeadline struct {
	conn net.Conn
	next time.Time
}

// progressed says that bytes went out; it renews the deadline at most once
// a second (or a tenth of writeTimeout).
func (d *writeDeadline) progressed() {
	if d == nil || d.conn == nil {
		return
	}
	if now := time.Now(); !now.Before(d.next) {
		d.next = now.Add(min(time.Second, writeTimeout/10))
		// A failure shows in the next write.
		_ = d.conn.SetWriteDeadline(now.Add(writeTimeout))
	}
}

// progressWriter is a response body stream that renews its connection's
// write deadline as it is written.
type progressWriter struct {
	w io.Writer
	d *writeDeadline
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	if n > 0 {
		p.d.progressed()
	}
	return n, err
}

// readDeadline gives a connection's read deadline readTimeout anew while
// a streamed request body (an upload) keeps arriving, for at most
// streamTimeout from the request's start: the server's deadline covers a
// whole request, which would cut off a large file sent over a slow line.
// A body that stalls for readTimeout still ends the request.
type readDeadline struct {
	conn  net.Conn
	until time.Time // the last deadline it sets
	next  time.Time
}

func newReadDeadline(conn net.Conn) *readDeadline {
	return &readDeadline{conn: conn, until: time.Now().Add(streamTimeout)}
}

// progressed says that bytes came in; it renews the deadline at most once
// a second (or a tenth of readTimeout).
func (d *readDeadline) progressed() {
	if d == nil || d.conn == nil {
		return
	}
	if now := time.Now(); !now.Before(d.next) {
		d.next = now.Add(min(time.Second, readTimeout/10))
		deadline := now.Add(readTimeout)
		if deadline.After(d.until) {
			deadline = d.until
		}
		_ = d.conn.SetReadDeadline(deadline)
	}
}

// progressReader is a request body that renews its connection's read
// deadline as it is read.
type progressReader struct {
	r io.Reader
	d *readDeadline
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.d.progressed()
	}
	return n, err
}
