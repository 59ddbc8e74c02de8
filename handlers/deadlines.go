package handlers

import (
	"io"
	"net"
	"time"
)

// deadline renews a connection's read or write deadline while a streamed
// body makes progress: the server's deadlines cover a whole request or
// response, which would cut off a large file (an upload, a download, a
// box export) over a slow line although its bytes keep flowing. A body
// that stalls for the timeout still ends, and no deadline goes past
// streamTimeout from the start.
type deadline struct {
	set     func(time.Time) error // the connection's SetReadDeadline or SetWriteDeadline
	timeout time.Duration
	until   time.Time
	next    time.Time
}

// readDeadline renews conn's read deadline by readTimeout (an upload).
func readDeadline(conn net.Conn) *deadline {
	if conn == nil {
		return nil
	}
	return &deadline{set: conn.SetReadDeadline, timeout: readTimeout, until: time.Now().Add(streamTimeout)}
}

// writeDeadline renews conn's write deadline by writeTimeout (a download).
func writeDeadline(conn net.Conn) *deadline {
	if conn == nil {
		return nil
	}
	return &deadline{set: conn.SetWriteDeadline, timeout: writeTimeout, until: time.Now().Add(streamTimeout)}
}

// progressed says that bytes went through; it renews the deadline at most
// once a second (or a tenth of the timeout).
func (d *deadline) progressed() {
	if d == nil {
		return
	}
	if now := time.Now(); !now.Before(d.next) {
		d.next = now.Add(min(time.Second, d.timeout/10))
		next := now.Add(d.timeout)
		if next.After(d.until) {
			next = d.until
		}
		// A failure shows in the next read or write.
		_ = d.set(next)
	}
}

// progressWriter is a response body stream that renews its connection's
// write deadline as it is written.
type progressWriter struct {
	w io.Writer
	d *deadline
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	if n > 0 {
		p.d.progressed()
	}
	return n, err
}

// progressReader is a request body that renews its connection's read
// deadline as it is read.
type progressReader struct {
	r io.Reader
	d *deadline
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.d.progressed()
	}
	return n, err
}
