package realtime

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	fws "github.com/fasthttp/websocket"
)

// Client is one registered connection. Only its two pumps use the
// connection: the reader (Run, in the handler's goroutine) and the writer
// (started by Run). Everyone else asks the writer to close it, and a
// cut-off timer ends a writer that is stuck on a peer that does not read.
type Client struct {
	hub       *Hub
	userID    int64
	sessionID int64
	conn      Conn
	send      chan []byte
	started   atomic.Bool
	closing   atomic.Bool // set before the connection's deadlines are cut

	quit      chan struct{} // closed by stop; never the send queue
	stopOnce  sync.Once
	closeCode int // close frame the writer sends on quit; 0 for none
	closeText string

	mu       sync.Mutex
	finished bool        // Run is returning: conn belongs to the handler again
	cutoff   *time.Timer // closes conn if the writer does not finish in time
}

// UserID returns the user the connection belongs to.
func (c *Client) UserID() int64 { return c.userID }

// SessionID returns the session the connection was opened in.
func (c *Client) SessionID() int64 { return c.sessionID }

// Run pumps the connection until it ends: it starts the writer goroutine
// (queued messages, pings, the close frame), reads in the calling goroutine,
// handing each text message to onMessage (which may be nil and should return
// quickly), and returns only after the writer has exited and the client is
// unregistered. Run must be called exactly once, by the goroutine that owns
// conn (the WebSocket handler), which must not return before Run does.
func (c *Client) Run(onMessage func([]byte)) {
	if !c.started.CompareAndSwap(false, true) {
		panic("realtime: Client.Run called twice")
	}
	defer c.hub.running.Done()
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.write()
	}()
	c.read(onMessage)
	// The reader has failed: the peer went away or sent a close frame (the
	// library has answered it), a message was too large (the library sent
	// 1009), the peer stayed silent, or the writer closed the connection.
	c.stop(0, "")
	<-writerDone
	c.mu.Lock()
	c.finished = true
	if c.cutoff != nil {
		c.cutoff.Stop()
	}
	c.mu.Unlock()
	c.hub.remove(c)
}

func (c *Client) read(onMessage func([]byte)) {
	opt := c.hub.opt
	c.conn.SetReadLimit(opt.ReadLimit)
	// alive extends the read deadline, unless the connection is closing:
	// closeConn may have cut the deadline just before, so check again after.
	alive := func() error {
		if c.closing.Load() {
			return errClosing
		}
		err := c.conn.SetReadDeadline(time.Now().Add(opt.PongWait))
		if c.closing.Load() {
			_ = c.conn.SetReadDeadline(time.Now())
			return errClosing
		}
		return err
	}
	if err := alive(); err != nil {
		return
	}
	c.conn.SetPongHandler(func(string) error { return alive() })
	for {
		typ, msg, err := c.conn.ReadMessage()
		if err != nil {
			if !c.closing.Load() && !errors.Is(err, fws.ErrReadLimit) &&
				!fws.IsCloseError(err, fws.CloseNormalClosure, fws.CloseGoingAway, fws.CloseNoStatusReceived) {
				c.hub.log.Debug("realtime: read ended", "user", c.userID, "err", err)
			}
			return
		}
		if err := alive(); err != nil {
			return
		}
		if typ == fws.TextMessage && onMessage != nil {
			onMessage(msg)
		}
	}
}

func (c *Client) write() {
	opt := c.hub.opt
	defer c.closeConn()
	ping := time.NewTicker(opt.PingEvery)
	defer ping.Stop()
	for {
		select {
		case <-c.quit:
			c.sendClose()
			return
		case msg := <-c.send:
			// Write what is queued in one go: one deadline, one wake-up.
			if err := c.conn.SetWriteDeadline(time.Now().Add(opt.WriteTimeout)); err != nil {
				return
			}
			for n := len(c.send); ; n-- {
				// A pending stop wins over queued messages.
				select {
				case <-c.quit:
					c.sendClose()
					return
				default:
				}
				if err := c.conn.WriteMessage(fws.TextMessage, msg); err != nil {
					c.hub.log.Debug("realtime: write failed", "user", c.userID, "err", err)
					return
				}
				if n <= 0 {
					break
				}
				msg = <-c.send
			}
		case <-ping.C:
			if err := c.conn.WriteControl(fws.PingMessage, nil, time.Now().Add(opt.WriteTimeout)); err != nil {
				c.hub.log.Debug("realtime: ping failed", "user", c.userID, "err", err)
				return
			}
		}
	}
}

func (c *Client) sendClose() {
	if c.closeCode != 0 {
		_ = c.conn.WriteControl(fws.CloseMessage, fws.FormatCloseMessage(c.closeCode, c.closeText), time.Now().Add(closeGrace))
	}
}

// stop asks the writer to send a close frame (code 0: none) and close the
// connection, and cuts the connection off if that takes longer than
// closeGrace (a writer blocked on a peer that does not read). Only the
// first call counts.
func (c *Client) stop(code int, text string) {
	c.stopOnce.Do(func() {
		c.closeCode, c.closeText = code, text
		close(c.quit)
		c.mu.Lock()
		defer c.mu.Unlock()
		if !c.finished {
			c.cutoff = time.AfterFunc(closeGrace, c.cutOff)
		}
	})
}

// cutOff closes the connection unless Run has already returned it.
func (c *Client) cutOff() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.finished {
		c.closeConn()
	}
}

var errClosing = errors.New("realtime: connection closing")

// closeConn ends both pumps. Close alone is not enough: on fasthttp's
// hijacked connections (Fiber) it does nothing until the handler returns,
// so the deadlines are cut too, which ends a blocked read and a write stuck
// on a peer that does not read.
func (c *Client) closeConn() {
	c.closing.Store(true)
	now := time.Now()
	_ = c.conn.SetReadDeadline(now)
	if nc, ok := c.conn.(interface{ NetConn() net.Conn }); ok {
		// fasthttp/websocket's SetWriteDeadline only applies to the next
		// write; the net.Conn's applies to the one in progress.
		_ = nc.NetConn().SetWriteDeadline(now)
	}
	_ = c.conn.Close()
}
