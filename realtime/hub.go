package realtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	fws "github.com/fasthttp/websocket"
)

// HubOptions tunes a Hub; zero fields take the defaults.
type HubOptions struct {
	// MaxPerUser caps the connections of one user (tabs, devices); default 5.
	// A connection beyond it is refused (ErrTooManyConnections) rather than
	// closing an older one, which another tab may still be using.
	MaxPerUser int
	// SendQueue is how many messages may wait for one connection; default
	// 32. A connection whose queue is full is disconnected.
	SendQueue int
	// PingEvery is how often the writer pings; default 30 s.
	PingEvery time.Duration
	// WriteTimeout bounds one write; default 10 s.
	WriteTimeout time.Duration
	// ReadLimit is the largest message accepted from a client; default 4096
	// bytes. A larger one closes the connection (1009).
	ReadLimit int64
	// PongWait is how long a connection may stay silent (no pong, no
	// message) before it is closed; default 60 s, at least 2 × PingEvery.
	PongWait time.Duration
}

func (o HubOptions) withDefaults() HubOptions {
	if o.MaxPerUser <= 0 {
		o.MaxPerUser = 5
	}
	if o.SendQueue <= 0 {
		o.SendQueue = 32
	}
	if o.PingEvery <= 0 {
		o.PingEvery = 30 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.ReadLimit <= 0 {
		o.ReadLimit = 4096
	}
	if o.PongWait <= 0 {
		o.PongWait = 60 * time.Second
	}
	if o.PongWait < 2*o.PingEvery {
		o.PongWait = 2 * o.PingEvery
	}
	return o
}

// closeGrace bounds how long a disconnect may take: the close frame gets
// this long, and a writer stuck on a peer that does not read is cut off
// after it.
const closeGrace = time.Second

var (
	// ErrTooManyConnections is returned by Register when the user already
	// has MaxPerUser connections.
	ErrTooManyConnections = errors.New("realtime: too many connections")
	// ErrHubClosed is returned by Register after Shutdown.
	ErrHubClosed = errors.New("realtime: hub shut down")
	// ErrSessionEnded is returned by Register for a session that
	// EndSession ended a moment before.
	ErrSessionEnded = errors.New("realtime: session ended")
)

// endedFor is how long EndSession remembers a session: a connection
// whose session was checked before the session ended, and which comes to
// Register after EndSession ran (the upgrade takes a moment), is
// refused instead of receiving the person's pushes until the periodic
// sweep finds it. It exceeds any upgrade's handshake.
const endedFor = 2 * time.Minute

// Hub maps users to their live connections on this instance and pushes
// messages to them. It is safe for concurrent use.
//
// A WebSocket handler, after checking the session, calls Register and then
// Run, which returns when the connection is over; it must not use the
// connection afterwards (gofiber/contrib/websocket recycles it):
//
//	c, err := hub.Register(userID, sessionID, conn)
//	if err != nil {
//		realtime.Refuse(conn, err)
//		return
//	}
//	c.Run(onMessage)
type Hub struct {
	opt HubOptions
	log *slog.Logger

	mu       sync.RWMutex
	users    map[int64][]*Client
	sessions map[int64][]*Client
	ended    map[int64]time.Time // sessions EndSession ended, and when
	count    int
	closed   bool
	changed  chan struct{} // closed and replaced on every (un)registration
	running  sync.WaitGroup
}

// NewHub returns a hub; log may be nil for slog.Default().
func NewHub(opt HubOptions, log *slog.Logger) *Hub {
	if log == nil {
		log = slog.Default()
	}
	return &Hub{
		opt:      opt.withDefaults(),
		log:      log,
		users:    make(map[int64][]*Client),
		sessions: make(map[int64][]*Client),
		ended:    make(map[int64]time.Time),
		changed:  make(chan struct{}),
	}
}

// Options returns the options in effect, defaults filled in.
func (h *Hub) Options() HubOptions { return h.opt }

// Register adds conn as a connection of userID within sessionID. The caller
// must then call Run on the returned client (Shutdown waits for it). It
// refuses with ErrTooManyConnections beyond MaxPerUser and with ErrHubClosed
// after Shutdown; the caller then still owns conn (see Refuse).
func (h *Hub) Register(userID, sessionID int64, conn Conn) (*Client, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, fmt.Errorf("register user %d: %w", userID, ErrHubClosed)
	}
	if at, ok := h.ended[sessionID]; ok && time.Since(at) < endedFor {
		return nil, fmt.Errorf("register user %d: %w", userID, ErrSessionEnded)
	}
	if len(h.users[userID]) >= h.opt.MaxPerUser {
		return nil, fmt.Errorf("register user %d: %w (%d)", userID, ErrTooManyConnections, h.opt.MaxPerUser)
	}
	c := &Client{
		hub:       h,
		userID:    userID,
		sessionID: sessionID,
		conn:      conn,
		send:      make(chan []byte, h.opt.SendQueue),
		quit:      make(chan struct{}),
	}
	h.users[userID] = append(h.users[userID], c)
	h.sessions[sessionID] = append(h.sessions[sessionID], c)
	h.count++
	h.running.Add(1)
	h.notifyLocked()
	return c, nil
}

// Refuse closes a connection that Register refused, with a close frame that
// tells htmx-ext-ws whether to try again (after a shutdown, to reach another
// instance) or not (too many connections).
func Refuse(conn Conn, err error) {
	code, text := CloseTooManyConnections, "too many connections"
	switch {
	case errors.Is(err, ErrHubClosed):
		code, text = CloseRestart, "server restarting"
	case errors.Is(err, ErrSessionEnded):
		code, text = CloseSessionEnded, "session ended"
	}
	_ = conn.WriteControl(fws.CloseMessage, fws.FormatCloseMessage(code, text), time.Now().Add(closeGrace))
	_ = conn.Close()
}

// SendToUser queues msg for every connection of userID on this instance
// without waiting. A connection whose queue is full is disconnected (1013
// "too slow"). msg is shared between the connections and must not be
// modified afterwards.
func (h *Hub) SendToUser(userID int64, msg []byte) { h.sendToUser(userID, msg, 0) }

// sendToUser is SendToUser; with liveAt set (Unix nanoseconds), only to the
// connections whose session is known to be live then (see
// RelayOptions.SessionEnds).
func (h *Hub) sendToUser(userID int64, msg []byte, liveAt int64) {
	var slow []*Client
	h.mu.RLock()
	for _, c := range h.users[userID] {
		if liveAt != 0 && !c.liveAt(liveAt) {
			continue
		}
		if !c.enqueue(msg) {
			slow = append(slow, c)
		}
	}
	h.mu.RUnlock()
	for _, c := range slow {
		if h.remove(c) {
			h.log.Info("realtime: disconnecting slow client", "user", c.userID, "session", c.sessionID)
		}
		c.stop(CloseTooSlow, "too slow")
	}
}

// KeepSession records that sessionID is live until until (when it ends
// unless it is used again, as auth computes it), for its connections on
// this instance: pushes before then need no look at the session (see
// RelayOptions.SessionEnds). An earlier time than one known changes
// nothing.
func (h *Hub) KeepSession(sessionID int64, until time.Time) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, c := range h.sessions[sessionID] {
		c.keepUntil(until)
	}
}

// overdue returns the sessions of the connections of userIDs on this
// instance that are not known to be live at now.
func (h *Hub) overdue(userIDs []int64, now time.Time) []int64 {
	n := now.UnixNano()
	var ids []int64
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, id := range userIDs {
		for _, c := range h.users[id] {
			if !c.liveAt(n) && !slices.Contains(ids, c.sessionID) {
				ids = append(ids, c.sessionID)
			}
		}
	}
	return ids
}

// CloseSession closes every connection of sessionID on this instance (1008
// "session ended"): the periodic sweep's, for a session that may not keep
// one now (its user's stage went back, say), but may again later.
func (h *Hub) CloseSession(sessionID int64) {
	h.closeSession(sessionID, CloseSessionEnded, "session ended")
}

// EndSession is CloseSession after a logout or revocation, for a session
// that has ended for good: it also refuses the session's connections that
// come to Register for endedFor after it (ErrSessionEnded), checked
// before the session ended.
func (h *Hub) EndSession(sessionID int64) {
	now := time.Now()
	h.mu.Lock()
	for id, at := range h.ended {
		if now.Sub(at) >= endedFor {
			delete(h.ended, id)
		}
	}
	h.ended[sessionID] = now
	h.mu.Unlock()
	h.closeSession(sessionID, CloseSessionEnded, "session ended")
}

// RenewSession closes every connection of sessionID on this instance with
// 1012 ("session renewed"), after the session got a new id: the browser
// that holds the new cookie reconnects, a copy of the old one is refused.
func (h *Hub) RenewSession(sessionID int64) {
	h.closeSession(sessionID, CloseRestart, "session renewed")
}

func (h *Hub) closeSession(sessionID int64, code int, text string) {
	h.mu.Lock()
	clients := h.sessions[sessionID]
	delete(h.sessions, sessionID)
	for _, c := range clients {
		h.removeUserLocked(c)
	}
	if len(clients) > 0 {
		h.notifyLocked()
	}
	h.mu.Unlock()
	for _, c := range clients {
		c.stop(code, text)
	}
}

// CloseUser closes every connection of userID on this instance (1008
// "session ended"): the user may no longer receive what they receive
// (see RelayOptions.Admit).
func (h *Hub) CloseUser(userID int64) {
	h.mu.Lock()
	clients := slices.Clone(h.users[userID])
	for _, c := range clients {
		h.sessions[c.sessionID] = deleteClient(h.sessions[c.sessionID], c)
		if len(h.sessions[c.sessionID]) == 0 {
			delete(h.sessions, c.sessionID)
		}
		h.removeUserLocked(c)
	}
	if len(clients) > 0 {
		h.notifyLocked()
	}
	h.mu.Unlock()
	for _, c := range clients {
		c.stop(CloseSessionEnded, "session ended")
	}
}

// Shutdown refuses new connections, sends every connection a close frame
// (1012 "server restarting", so that browsers reconnect, possibly to
// another instance) and waits until all their goroutines have ended or ctx
// is done.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	var all []*Client
	for _, cs := range h.users {
		all = append(all, cs...)
	}
	clear(h.users)
	clear(h.sessions)
	h.count = 0
	h.notifyLocked()
	h.mu.Unlock()
	for _, c := range all {
		c.stop(CloseRestart, "server restarting")
	}
	done := make(chan struct{})
	go func() {
		h.running.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("hub shutdown: %w", ctx.Err())
	}
}

// Count returns the number of registered connections.
func (h *Hub) Count() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.count
}

// UserCount returns the number of registered connections of userID.
func (h *Hub) UserCount(userID int64) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.users[userID])
}

// UserIDs returns the users with at least one connection, in no order.
func (h *Hub) UserIDs() []int64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	ids := make([]int64, 0, len(h.users))
	for id := range h.users {
		ids = append(ids, id)
	}
	return ids
}

// SessionIDs returns the sessions with at least one connection, in no
// order.
func (h *Hub) SessionIDs() []int64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	ids := make([]int64, 0, len(h.sessions))
	for id := range h.sessions {
		ids = append(ids, id)
	}
	return ids
}

// WaitUserCount waits until userID has exactly n registered connections.
// The browser may see its socket open before the server has registered it;
// tests use this to know that a push will reach it.
func (h *Hub) WaitUserCount(ctx context.Context, userID int64, n int) error {
	for {
		h.mu.RLock()
		got, changed := len(h.users[userID]), h.changed
		h.mu.RUnlock()
		if got == n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("wait for %d connections of user %d (have %d): %w", n, userID, got, ctx.Err())
		}
	}
}

// remove unregisters c, reporting whether it was still registered.
func (h *Hub) remove(c *Client) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.removeUserLocked(c) {
		return false
	}
	if cs := deleteClient(h.sessions[c.sessionID], c); len(cs) > 0 {
		h.sessions[c.sessionID] = cs
	} else {
		delete(h.sessions, c.sessionID)
	}
	h.notifyLocked()
	return true
}

// removeUserLocked removes c from its user's list and the count.
func (h *Hub) removeUserLocked(c *Client) bool {
	cs := h.users[c.userID]
	if !slices.Contains(cs, c) {
		return false
	}
	if cs = deleteClient(cs, c); len(cs) > 0 {
		h.users[c.userID] = cs
	} else {
		delete(h.users, c.userID)
	}
	h.count--
	return true
}

func (h *Hub) notifyLocked() {
	close(h.changed)
	h.changed = make(chan struct{})
}

func deleteClient(cs []*Client, c *Client) []*Client {
	return slices.DeleteFunc(cs, func(x *Client) bool { return x == c })
}
