package realtime_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"

	"dialoog/realtime"
)

// Example_endpoint shows how the /ws endpoint, the renderer and the
// services plug into the package. It is compiled, not run.
func Example_endpoint() {
	ctx := context.Background()
	log := slog.Default()
	baseOrigin := "https://dialoog.example" // scheme://host[:port] of DIALOOG_BASE_URL

	hub := realtime.NewHub(realtime.HubOptions{}, log)
	// With PostgreSQL: realtime.NewPostgresBroker(ctx, databaseURL, log).
	var broker realtime.Broker = realtime.NewLocalBroker()
	stopRelay := realtime.Relay(ctx, broker, hub, func(ctx context.Context, ev realtime.Event, userIDs []int64, send func(int64, []byte)) error {
		// Load ev.MessageID / ev.ThreadID once for all userIDs through
		// messaging (which checks participation), render the same templ
		// component as the page, with hx-swap-oob, for each user who may
		// see it, and send it to them.
		return nil
	}, log)
	typing := realtime.NewTypingThrottle(2 * time.Second)

	app := fiber.New()
	app.Get("/ws", func(c *fiber.Ctx) error {
		// The session middleware has run: no session, no upgrade.
		if c.Locals("userID") == nil || !websocket.IsWebSocketUpgrade(c) {
			return fiber.ErrUnauthorized
		}
		return c.Next()
	}, websocket.New(func(conn *websocket.Conn) {
		userID, sessionID := conn.Locals("userID").(int64), conn.Locals("sessionID").(int64)
		client, err := hub.Register(userID, sessionID, conn)
		if err != nil {
			realtime.Refuse(conn, err)
			return
		}
		// Run returns when the socket is done; only then may the handler
		// return (contrib recycles conn).
		client.Run(func(msg []byte) {
			// htmx-ext-ws sends the triggering form as JSON.
			var in struct {
				Thread int64 `json:"thread,string"`
			}
			if json.Unmarshal(msg, &in) != nil || in.Thread == 0 || !typing.Allow(userID, in.Thread, time.Now()) {
				return
			}
			// messaging checks that userID takes part in the thread and
			// returns the participants; then:
			var participants []int64
			_ = broker.Publish(ctx, realtime.Event{Kind: realtime.KindTyping, UserIDs: participants,
				ThreadID: in.Thread, ActorID: userID})
		})
	}, websocket.Config{Origins: []string{baseOrigin}}))

	// After a message is committed:
	//	broker.Publish(ctx, realtime.Event{Kind: realtime.KindMessage, UserIDs: participants, ThreadID: t, MessageID: m, ActorID: sender})
	// On logout or revocation, so that every instance closes the sockets:
	//	broker.Publish(ctx, realtime.Event{Kind: realtime.KindSessionEnded, SessionID: id})

	// Shutdown: sockets first (close frames, handlers return), then HTTP.
	shutdown, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_ = hub.Shutdown(shutdown)
	_ = app.ShutdownWithTimeout(5 * time.Second)
	stopRelay()
	_ = broker.Close()
}
