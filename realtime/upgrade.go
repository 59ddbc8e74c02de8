package realtime

import (
	"bufio"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	fws "github.com/fasthttp/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// Upgrader turns a Fiber request into a WebSocket connection that costs
// what a socket costs. gofiber/contrib/websocket runs the connection inside
// fasthttp's hijack handler, so for the socket's whole life fasthttp keeps
// the request context, the server's request read buffer (Fiber's
// ReadBufferSize, 16 KiB here) and contrib's copies of every header and
// cookie. Upgrade instead takes the bare network connection, performs the
// handshake with fasthttp/websocket's Upgrader on it (small read buffer,
// write buffers from a pool shared by all connections), returns the hijack
// handler at once so that fasthttp recycles the request context and its
// buffers, and runs the connection in a goroutine of its own.
//
// That needs the fasthttp server's KeepHijackedConns, or fasthttp would
// close the connection when the hijack handler returns; without it Upgrade
// runs the connection inside the hijack handler as contrib does (correct,
// but the request's memory stays with the socket).
//
// A client must not send anything before the server's handshake answer
// (RFC 6455, 4.1); bytes that a client pipelines after its upgrade request
// anyway stay in fasthttp's read buffer and are dropped.
type Upgrader struct {
	// Origins are the accepted Origin headers; empty accepts any (the
	// caller checks).
	Origins []string
	// HandshakeTimeout bounds writing the handshake answer; default 10 s.
	HandshakeTimeout time.Duration
	// ReadBufferSize is the connection's read buffer; default 512 bytes.
	// It does not limit message size: larger messages are read in parts.
	ReadBufferSize int
	// WriteBufferSize is the size of the pooled write buffers, so the size
	// of the frames a message is split into; default 4096 bytes.
	WriteBufferSize int

	once sync.Once
	up   fws.Upgrader
}

const (
	defaultReadBuffer  = 512
	defaultWriteBuffer = 4096
)

func (u *Upgrader) init() {
	u.once.Do(func() {
		if u.HandshakeTimeout <= 0 {
			u.HandshakeTimeout = 10 * time.Second
		}
		if u.ReadBufferSize <= 0 {
			u.ReadBufferSize = defaultReadBuffer
		}
		if u.WriteBufferSize <= 0 {
			u.WriteBufferSize = defaultWriteBuffer
		}
		origins := slices.Clone(u.Origins)
		u.up = fws.Upgrader{
			HandshakeTimeout: u.HandshakeTimeout,
			ReadBufferSize:   u.ReadBufferSize,
			WriteBufferSize:  u.WriteBufferSize,
			// Idle connections hold no write buffer: one is taken from the
			// pool for each message and given back after it.
			WriteBufferPool: &sync.Pool{},
			CheckOrigin: func(r *http.Request) bool {
				return len(origins) == 0 || slices.Contains(origins, r.Header.Get("Origin"))
			},
		}
	})
}

// ErrNotWebSocket is returned by Upgrade for a request that is no WebSocket
// handshake; Fiber answers it with 426 Upgrade Required.
var ErrNotWebSocket = fiber.ErrUpgradeRequired

// Upgrade answers c with the WebSocket handshake and calls handler with the
// connection in a new goroutine; the connection is closed when handler
// returns. Whatever handler needs from the request must be copied out of c
// before Upgrade is called: c is recycled once the handshake has been
// taken over. A request that is no valid handshake gets an error response
// instead (426, 400, or 403 for an Origin that is not accepted).
func (u *Upgrader) Upgrade(c *fiber.Ctx, handler func(*fws.Conn)) error {
	u.init()
	req, status := handshakeRequest(c.Context())
	if status != 0 {
		if status == fiber.StatusUpgradeRequired {
			return ErrNotWebSocket
		}
		return fiber.NewError(status)
	}
	if !u.up.CheckOrigin(req) {
		return fiber.ErrForbidden
	}
	detached := c.App().Server().KeepHijackedConns
	ctx := c.Context()
	ctx.SetStatusCode(fiber.StatusSwitchingProtocols) // for the request log
	// The upgrader writes the handshake answer itself, on the bare
	// connection.
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(hijacked net.Conn) {
		nc := hijacked
		if raw, ok := hijacked.(interface{ UnsafeConn() net.Conn }); ok {
			// Past fasthttp's request reader, which goes back to its pool.
			nc = raw.UnsafeConn()
		}
		conn, err := u.up.Upgrade(&hijackResponse{conn: nc}, req, nil)
		if err != nil {
			// The upgrader closed nc when it had taken it; close it anyway.
			_ = nc.Close()
			return
		}
		run := func() {
			defer conn.Close()
			handler(conn)
		}
		if detached {
			go run()
			return
		}
		run()
	})
	return nil
}

// handshakeRequest copies what the handshake needs out of a fasthttp
// request, which is recycled after the hijack; status is the error to
// answer for a request that is no handshake (0 for a valid one).
func handshakeRequest(ctx *fasthttp.RequestCtx) (*http.Request, int) {
	if !fws.FastHTTPIsWebSocketUpgrade(ctx) {
		return nil, fiber.StatusUpgradeRequired
	}
	if !ctx.IsGet() {
		return nil, fiber.StatusMethodNotAllowed
	}
	h := make(http.Header, 6)
	for _, name := range []string{"Connection", "Upgrade", "Sec-Websocket-Version", "Sec-Websocket-Key", "Origin"} {
		if v := ctx.Request.Header.Peek(name); len(v) > 0 {
			h.Set(name, string(v))
		}
	}
	// The checks the upgrader makes after the hijack, made before it, so
	// that a bad handshake still gets an HTTP answer.
	key, err := base64.StdEncoding.DecodeString(h.Get("Sec-Websocket-Key"))
	if h.Get("Sec-Websocket-Version") != "13" || err != nil || len(key) != 16 {
		return nil, fiber.StatusBadRequest
	}
	return &http.Request{Method: http.MethodGet, Header: h, Host: string(ctx.Host())}, 0
}

// hijackResponse is the http.ResponseWriter fasthttp/websocket's Upgrader
// hijacks: the bare connection, with throwaway buffers (nothing was read
// ahead, and the upgrader writes its answer straight to the connection).
type hijackResponse struct {
	conn   net.Conn
	header http.Header
	taken  bool
}

var _ http.Hijacker = (*hijackResponse)(nil)

func (w *hijackResponse) Header() http.Header {
	if w.header == nil {
		w.header = http.Header{}
	}
	return w.header
}

// Write and WriteHeader serve the upgrader's error answers, which cannot
// happen after handshakeRequest and CheckOrigin passed.
func (w *hijackResponse) Write(b []byte) (int, error) { return len(b), nil }
func (w *hijackResponse) WriteHeader(int)             {}

func (w *hijackResponse) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.taken {
		return nil, nil, errors.New("realtime: connection already hijacked")
	}
	w.taken = true
	return w.conn, bufio.NewReadWriter(bufio.NewReaderSize(w.conn, 16), bufio.NewWriterSize(w.conn, 256)), nil
}
