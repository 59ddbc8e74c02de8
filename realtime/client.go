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
// connection: the reader (Run, in the handler's goroutine) and the writer.
// The writer runs only while there is something to write (queued messages,
// a ping, the close frame): it exits once nothing has been queued for
// writerLinger, so an idle connection costs one goroutine, not two, while a
// connection that is being pushed to keeps its writer. At most one writer
// runs at a time. Everyone else asks the writer to close the connection, and a
// cut-off timer ends a writer that is stuck on a peer that does not read.
type Client struct {
	hub       *Hub
	userID    int64
	sessionID int64
	conn      Conn
	send      chan []byte
	started   atomic.Bool
	closing   atomic.Bool // set before the connection's deadlines are cut
	// liveUntil is the time (Unix nanoseconds) up to which the session is
	// known to be live; 0 when not known (see RelayOptions.SessionEnds).
	liveUntil atomic.Int64

	quit      chan struct{} // closed by stop; never the send queue
	stopOnce  sync.Once
	closeCode int // close frame the writer sends on quit; 0 for none
	closeText string

	// writerDone is closed by the writer that ends the connection (on quit
	// or a failed write); Run waits for it.
	writerDone chan struct{}
	ping       *time.Timer   // fills pingDue every PingEvery
	pingDue    chan struct{} // one slot: a ping is due

	wmu     sync.Mutex
	running bool // Run has started: writers may run
	writing bool // a writer is running, or has ended the connection
	ended   bool // Run is over: no more pings

	mu       sync.Mutex
	finished bool        // Run is returning: conn belongs to the handler again
	cutoff   *time.Timer // closes conn if the writer does not finish in time
}

// keepUntil records that the connection's session is live until t, unless
// it was known to live longer: a session's end only moves later (an ended
// session is closed by its event or the session sweep).
func (c *Client) keepUntil(t time.Time) {
	if t.IsZero() {
		return
	}
	n := t.UnixNano()
	for {
		old := c.liveUntil.Load()
		if old >= n || c.liveUntil.CompareAndSwap(old, n) {
			return
		}
	}
}

// liveAt reports whether the connection's session is known to be live at
// now (Unix nanoseconds).
func (c *Client) liveAt(now int64) bool { return c.liveUntil.Load() > now }

// UserID returns the user the connection belongs to.
func (c *Client) UserID() int64 { return c.userID }

// SessionID returns the session the connection was opened in.
func (c *Client) SessionID() int64 { return c.sessionID }

// Run pumps the connection until it ends: it reads in the calling
// goroutine, handing each text message to onMessage (which may be nil and
// should return quickly), while a writer goroutine, started whenever there
// is something to write, sends queued messages, pings and the close frame.
// Run returns only after the last writer has exited and the client is
// unregistered. Run must be called exactly once, by the goroutine that owns
// conn (the WebSocket handler), which must not return before Run does; until
// Run is called, that goroutine may still write to conn itself.
func (c *Client) Run(onMessage func([]byte)) {
	if !c.started.CompareAndSwap(false, true) {
		panic("realtime: Client.Run called twice")
	}
	defer c.hub.running.Done()
	c.writerDone = make(chan struct{})
	c.pingDue = make(chan struct{}, 1)
	c.wmu.Lock()
	c.running = true
	c.ping = time.AfterFunc(c.hub.opt.PingEvery, c.pingTick)
	c.wmu.Unlock()
	c.kick() // for what was queued, or a stop, before Run
	c.read(onMessage)
	// The reader has failed: the peer went away or sent a close frame (the
	// library has answered it), a message was too large (the library sent
	// 1009), the peer stayed silent, or the writer closed the connection.
	c.stop(0, "")
	<-c.writerDone
	c.wmu.Lock()
	c.ended = true
	c.ping.Stop()
	c.wmu.Unlock()
	c.mu.Lock()
	c.finished = true
	if c.cutoff != nil {
		c.cutoff.Stop()
	}
	c.mu.Unlock()
	c.hub.remove(c)
}

// enqueue queues msg without waiting and wakes the writer; false means the
// queue is full.
func (c *Client) enqueue(msg []byte) bool {
	select {
	case c.send <- msg:
		c.kick()
		return true
	default:
		return false
	}
}

// kick starts a writer unless one is running (it will see what was just
// queued: it checks the queue under wmu before it exits) or Run has not
// started yet.
func (c *Client) kick() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if !c.running || c.writing {
		return
	}
	c.writing = true
	go c.write()
}

// pingTick marks a ping due and re-arms itself until Run is over.
func (c *Client) pingTick() {
	c.wmu.Lock()
	if c.ended {
		c.wmu.Unlock()
		return
	}
	select {
	case c.pingDue <- struct{}{}:
	default:
	}
	c.ping.Reset(c.hub.opt.PingEvery)
	c.wmu.Unlock()
	c.kick()
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

// writerLinger is how long a writer waits for more after a message before
// it exits: long enough that a conversation in progress or a burst keeps
// its writer, short enough that idle connections have none.
const writerLinger = 2 * time.Second

// write writes queued messages and due pings, and exits once nothing has
// been queued for writerLinger (right after a ping); or sends the close
// frame and ends the connection once stop was called, or ends it after a
// failed write. Only one writer runs at a time (kick).
func (c *Client) write() {
	opt := c.hub.opt
	var linger *time.Timer
	defer func() {
		if linger != nil {
			linger.Stop()
		}
	}()
	wrote := false // a message since the last wait: linger before leaving
	for {
		var idle <-chan time.Time
		if len(c.send) == 0 && len(c.pingDue) == 0 {
			if wrote {
				if linger == nil {
					linger = time.NewTimer(writerLinger)
				} else {
					linger.Reset(writerLinger)
				}
				idle, wrote = linger.C, false
			} else {
				c.wmu.Lock()
				if len(c.send) == 0 && len(c.pingDue) == 0 && !isClosed(c.quit) {
					// A later enqueue, ping or stop starts a new writer.
					c.writing = false
					c.wmu.Unlock()
					return
				}
				c.wmu.Unlock()
				// Something came in meanwhile, or stop: the select has it.
			}
		}
		select {
		case <-c.quit:
			c.sendClose()
			c.endConn()
			return
		case msg := <-c.send:
			// Write what is queued in one go: one deadline, one wake-up.
			if err := c.conn.SetWriteDeadline(time.Now().Add(opt.WriteTimeout)); err != nil {
				c.endConn()
				return
			}
			for n := len(c.send); ; n-- {
				// A pending stop wins over queued messages.
				select {
				case <-c.quit:
					c.sendClose()
					c.endConn()
					return
				default:
				}
				if err := c.conn.WriteMessage(fws.TextMessage, msg); err != nil {
					c.hub.log.Debug("realtime: write failed", "user", c.userID, "err", err)
					c.endConn()
					return
				}
				if n <= 0 {
					break
				}
				msg = <-c.send
			}
			wrote = true
		case <-c.pingDue:
			if err := c.conn.WriteControl(fws.PingMessage, nil, time.Now().Add(opt.WriteTimeout)); err != nil {
				c.hub.log.Debug("realtime: ping failed", "user", c.userID, "err", err)
				c.endConn()
				return
			}
		case <-idle:
		}
	}
}

// endConn closes the connection and tells Run that the last writer is
// done. The writer that calls it leaves writing set, so no other writer
// starts after it.
func (c *Client) endConn() {
	c.closeConn()
	close(c.writerDone)
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
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
		if !c.finished {
			c.cutoff = time.AfterFunc(closeGrace, c.cutOff)
		}
		c.mu.Unlock()
		c.kick()
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
