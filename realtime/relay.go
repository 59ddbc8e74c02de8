package realtime

import (
	"context"
	"log/slog"
)

// RenderFunc renders ev for one user connected to this instance: it loads
// what the ids point to, checks that the user may see it, and returns the
// HTML fragment (out-of-band swaps for htmx-ext-ws) to push. A nil message
// means nothing to send to that user (for instance the typist's own typing
// event). For KindResync it may return a fragment that makes the page
// re-fetch its inbox.
type RenderFunc func(ctx context.Context, ev Event, userID int64) ([]byte, error)

// Relay subscribes to b and pushes events to the hub's connections:
// KindSessionEnded closes the session's sockets, KindResync is rendered for
// every connected user, any other event for each of its UserIDs that has a
// connection here. Users without a connection on this instance cost nothing.
// stop ends the subscription; ctx is passed to render.
func Relay(ctx context.Context, b Broker, h *Hub, render RenderFunc, log *slog.Logger) (stop func()) {
	if log == nil {
		log = slog.Default()
	}
	push := func(ev Event, userID int64) {
		msg, err := render(ctx, ev, userID)
		if err != nil {
			log.Warn("realtime: render event", "kind", ev.Kind, "thread", ev.ThreadID,
				"message", ev.MessageID, "user", userID, "err", err)
			return
		}
		if msg != nil {
			h.SendToUser(userID, msg)
		}
	}
	return b.Subscribe(func(ev Event) {
		switch ev.Kind {
		case KindSessionEnded:
			h.CloseSession(ev.SessionID)
		case KindResync:
			for _, id := range h.UserIDs() {
				push(ev, id)
			}
		default:
			for _, id := range ev.UserIDs {
				if h.UserCount(id) > 0 {
					push(ev, id)
				}
			}
		}
	})
}
