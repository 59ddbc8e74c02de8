package realtime

import (
	"time"

	fws "github.com/fasthttp/websocket"
	"github.com/gofiber/contrib/websocket"
)

// Conn is the part of a WebSocket connection the hub uses. Both
// *websocket.Conn of fasthttp/websocket (production, through Upgrader; also
// net/http servers) and *websocket.Conn of gofiber/contrib/websocket satisfy
// it.
//
// As with gorilla/websocket, one goroutine may read and one may write at a
// time; WriteControl, SetReadDeadline and Close may be called concurrently
// with the others. If the connection also has a NetConn() net.Conn method
// (both websocket types do), the hub uses it to abort a write stuck on a
// peer that does not read.
type Conn interface {
	ReadMessage() (messageType int, p []byte, err error)
	WriteMessage(messageType int, data []byte) error
	WriteControl(messageType int, data []byte, deadline time.Time) error
	SetReadLimit(limit int64)
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
	SetPongHandler(h func(appData string) error)
	Close() error
}

var (
	_ Conn = (*websocket.Conn)(nil)
	_ Conn = (*fws.Conn)(nil)
)

// Close codes the hub sends. htmx-ext-ws reconnects after 1006, 1011, 1012
// and 1013 and stays closed after any other code.
const (
	// CloseSessionEnded (1008, policy violation): the session was logged out
	// or revoked; the page has to sign in again, so no reconnect.
	CloseSessionEnded = fws.ClosePolicyViolation
	// CloseTooManyConnections (1008): the user already has MaxPerUser
	// connections; reconnecting would not help.
	CloseTooManyConnections = fws.ClosePolicyViolation
	// CloseTooSlow (1013, try again later): the client fell behind its send
	// queue; it reconnects and re-fetches what it missed.
	CloseTooSlow = fws.CloseTryAgainLater
	// CloseRestart (1012, service restart): the server is shutting down, or
	// the session got a new id; the client reconnects, possibly to another
	// instance, with the cookie it holds now.
	CloseRestart = fws.CloseServiceRestart
)
