package handlers

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"time"

	fws "github.com/fasthttp/websocket"
	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/components"
	"dialoog/identity"
	"dialoog/realtime"
)

const (
	// typingEvery lets through at most one typing event per user and
	// conversation this often; the page hides the indicator a few seconds
	// after the last one.
	typingEvery = 2 * time.Second
	// liveTimeout bounds the database and broker work of one message from
	// a live connection or one session-ended event.
	liveTimeout = 5 * time.Second
	// helloTimeout bounds writing the first push of a connection.
	helloTimeout = 5 * time.Second
	// aliveEvery lets the activity a connection reports (typing, input in
	// a form) keep its session alive at most this often, so that a typing
	// frame every typingEvery does not read the session each time; auth
	// moves the idle timer at most once a minute anyway.
	aliveEvery = time.Minute
)

// originOf is the Origin a browser sends for pages of base: scheme and host,
// with the port only when it is not the scheme's default.
func originOf(base *url.URL) string {
	scheme, host := strings.ToLower(base.Scheme), strings.ToLower(base.Host)
	switch {
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		host = strings.TrimSuffix(host, ":80")
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		host = strings.TrimSuffix(host, ":443")
	}
	return scheme + "://" + host
}

// wsGuard decides before the upgrade who may open the live connection: a
// page of DIALOOG_BASE_URL (the Origin, against cross-site WebSocket
// hijacking: a WebSocket is not bound by the same-origin policy, and the
// session cookie would go along) of a user who is signed in, passed the
// second factor and finished the first visit. Anyone else gets an error
// page, never an upgrade.
func (h *handler) wsGuard(c *fiber.Ctx) error {
	if origin := c.Get(fiber.HeaderOrigin); origin != h.origin {
		h.logger(c).Info("live connection refused: foreign origin", "origin", clip(strings.Clone(origin), 200))
		return apperr.New(apperr.Forbidden, "error.forbidden")
	}
	cur := current(c)
	if cur == nil {
		return apperr.New(apperr.Unauthorized, "error.unauthorized")
	}
	if cur.NeedsSecondFactor || cur.Stage != auth.StageDone {
		return apperr.New(apperr.Forbidden, "error.forbidden")
	}
	if !fws.FastHTTPIsWebSocketUpgrade(c.Context()) {
		return fiber.ErrUpgradeRequired
	}
	return c.Next()
}

// wsHandler upgrades and hands the connection to the hub. The connection
// belongs to its session: a logout or revocation closes it (1008), on
// every instance. The first push says the server has registered it; the
// only things a page sends are that its user is typing, or active in a
// form (see wsServe).
//
// The connection keeps only the user and the session id of the request:
// realtime.Upgrader lets fasthttp recycle the request context and its read
// buffer at once (see there, and KeepHijackedConns in New).
func (h *handler) wsHandler() fiber.Handler {
	hello := []byte(renderString(components.LiveReady()))
	up := &realtime.Upgrader{Origins: []string{h.origin}, HandshakeTimeout: helloTimeout}
	return func(c *fiber.Ctx) error {
		cur := current(c)
		if cur == nil || cur.Session == nil { // cannot happen behind wsGuard
			return apperr.New(apperr.Unauthorized, "error.unauthorized")
		}
		user, sessionID, liveUntil := cur.User, cur.Session.ID, cur.Session.LiveUntil
		return up.Upgrade(c, func(conn *fws.Conn) { h.wsServe(conn, user, sessionID, liveUntil, hello) })
	}
}

// wsServe runs one upgraded connection until it ends. What the page
// reports of its user typing (in a reply, or in any form: a new message,
// the settings) keeps the connection's session alive, as a request would:
// a person writing a long message makes no request for a long time, and
// must not find themselves logged out when they send it. At most every
// aliveEvery per connection; auth never revives a session that is over.
// The connection knows its session to be live until liveUntil (as the
// upgrade request found it), and later until the end each keep-alive
// gives it; a push after that end looks at the session first (see
// realtime.RelayOptions.SessionEnds).
func (h *handler) wsServe(conn *fws.Conn, user *identity.User, sessionID int64, liveUntil time.Time, hello []byte) {
	client, err := h.hub.Register(user.ID, sessionID, conn)
	if err != nil {
		h.log.Info("live connection refused", "user", user.ID, "err", err)
		realtime.Refuse(conn, err)
		return
	}
	h.hub.KeepSession(sessionID, liveUntil)
	h.log.Info("live connection opened", "user", user.ID, "session", sessionID)
	// Run has not started its writer yet, so this goroutine may write.
	if err := conn.SetWriteDeadline(time.Now().Add(helloTimeout)); err == nil {
		_ = conn.WriteMessage(fws.TextMessage, hello)
	}
	var aliveAt time.Time // when this connection last kept its session alive
	client.Run(func(msg []byte) {
		threadID, typing := typingThread(msg)
		if !typing && !activeFrame(msg) {
			return
		}
		if now := h.now(); aliveAt.IsZero() || now.Sub(aliveAt) >= aliveEvery || now.Before(aliveAt) {
			aliveAt = now
			if !h.wsKeepAlive(user, sessionID) {
				aliveAt = time.Time{} // the next frame tries again
			}
		}
		if typing {
			h.wsTyping(user, threadID)
		}
	})
	h.log.Debug("live connection closed", "user", user.ID, "session", sessionID)
}

// wsKeepAlive extends the idle timer of the connection's session, and
// the end its connections here know it to have; false means it could not
// tell (a database error), so the next frame tries again. A session that
// is over stays over: the next push or the session sweep closes its
// connection.
func (h *handler) wsKeepAlive(user *identity.User, sessionID int64) bool {
	ctx, cancel := context.WithTimeout(context.Background(), liveTimeout)
	defer cancel()
	end, err := h.sessions.KeepAlive(ctx, sessionID)
	switch {
	case err == nil:
		h.hub.KeepSession(sessionID, end)
		return true
	case apperr.CodeOf(err) == apperr.Unauthorized:
		h.log.Debug("live activity: session over", "user", user.ID, "session", sessionID)
		return true
	default:
		h.log.Warn("live activity: keep session alive", "user", user.ID, "session", sessionID, "err", err)
		return false
	}
}

// wsTyping handles a typing frame: while its user types a reply, app.js
// sends {"typing": "<conversation id>"}. The other participants hear of it,
// at most every typingEvery, and only when the user takes part in the
// conversation.
func (h *handler) wsTyping(user *identity.User, threadID int64) {
	if !h.typing.Allow(user.ID, threadID, time.Now()) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), liveTimeout)
	defer cancel()
	ids, err := h.messages.ParticipantIDs(ctx, user, threadID)
	if err != nil {
		if apperr.CodeOf(err) != apperr.NotFound {
			h.log.Warn("live typing: participants", "user", user.ID, "thread", threadID, "err", err)
		}
		return
	}
	others := slices.DeleteFunc(ids, func(id int64) bool { return id == user.ID })
	if len(others) == 0 {
		return
	}
	ev := realtime.Event{Kind: realtime.KindTyping, UserIDs: others, ThreadID: threadID, ActorID: user.ID}
	if err := h.live.Publish(ctx, ev); err != nil {
		h.log.Warn("live typing: publish", "user", user.ID, "thread", threadID, "err", err)
	}
}

// typingThread reads the conversation id of a typing message, as a string
// (what app.js sends) or a number.
func typingThread(msg []byte) (int64, bool) {
	var in struct {
		Typing json.RawMessage `json:"typing"`
	}
	if err := json.Unmarshal(msg, &in); err != nil || len(in.Typing) == 0 {
		return 0, false
	}
	var s string
	if err := json.Unmarshal(in.Typing, &s); err != nil {
		s = string(in.Typing)
	}
	return parseID(s)
}

// activeFrame reports whether msg is the frame app.js sends while its user
// types in any form of the page: {"active": true}.
func activeFrame(msg []byte) bool {
	var in struct {
		Active bool `json:"active"`
	}
	return json.Unmarshal(msg, &in) == nil && in.Active
}

// sessionEnded tells every instance to close the live connections of the
// request's session, which has just ended (logout, a new login or sign-up
// in the same browser, a password reset).
func (h *handler) sessionEnded(c *fiber.Ctx) {
	cur := current(c)
	if cur == nil || cur.Session == nil {
		return
	}
	h.closeSessions(c, cur.Session.ID)
}

// closeSessions tells the live layer of every instance that sessions
// ended, so that their sockets close at once.
func (h *handler) closeSessions(c *fiber.Ctx, ids ...int64) {
	if h.live == nil || len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), liveTimeout)
	defer cancel()
	for _, id := range ids {
		if err := h.live.Publish(ctx, realtime.Event{Kind: realtime.KindSessionEnded, SessionID: id}); err != nil {
			h.logger(c).Warn("publish session end", "session", id, "err", err)
		}
	}
}
