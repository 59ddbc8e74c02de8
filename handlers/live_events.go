package handlers

import (
	"context"
	"log/slog"
	"time"

	"github.com/uptrace/bun"

	"dialoog/messaging"
	"dialoog/realtime"
)

// LiveEvents hands messaging's changes to the broker, which carries their
// ids to every instance; each renders them for its own connections
// (LiveRenderer). A broker over PostgreSQL sends them inside the change's
// transaction (NOTIFY is delivered at the commit, and never for a change
// rolled back), any other after the commit.
type LiveEvents struct {
	Broker realtime.Broker
	Log    *slog.Logger // nil: discard
}

var _ messaging.Publisher = LiveEvents{}

// txBroker is a broker that can publish inside a database transaction.
type txBroker interface {
	PublishTx(ctx context.Context, tx realtime.Execer, ev realtime.Event) error
}

var _ txBroker = (*realtime.PostgresBroker)(nil)

// livePublishTimeout bounds one publication after the commit, which runs
// in the request: a slow broker must not hold the answer up for long.
const livePublishTimeout = 5 * time.Second

func liveEvent(ev messaging.Event) realtime.Event {
	return realtime.Event{Kind: ev.Kind, UserIDs: ev.UserIDs, ThreadID: ev.ThreadID, MessageID: ev.MessageID, ActorID: ev.ActorID}
}

// PublishTx implements messaging.Publisher.
func (l LiveEvents) PublishTx(ctx context.Context, tx bun.Tx, evs []messaging.Event) (bool, error) {
	tb, ok := l.Broker.(txBroker)
	if !ok {
		return false, nil
	}
	for _, ev := range evs {
		if err := tb.PublishTx(ctx, tx, liveEvent(ev)); err != nil {
			return false, err
		}
	}
	return true, nil
}

// Publish implements messaging.Publisher.
func (l LiveEvents) Publish(ctx context.Context, ev messaging.Event) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), livePublishTimeout)
	defer cancel()
	if err := l.Broker.Publish(ctx, liveEvent(ev)); err != nil && l.Log != nil {
		// The change is committed; the pages show it at the next load.
		l.Log.Warn("publish live event", "kind", ev.Kind, "thread", ev.ThreadID, "message", ev.MessageID, "err", err)
	}
}
