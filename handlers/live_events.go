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

// SessionsEnded tells every instance that the sessions ids have ended (a
// new factor or a password reset ended a user's other sessions), so their
// live connections close at once instead of at the next session sweep.
// It fits auth.Accounts.SessionsEnded.
func (l LiveEvents) SessionsEnded(ctx context.Context, ids []int64) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), livePublishTimeout)
	defer cancel()
	for _, id := range ids {
		if err := l.Broker.Publish(ctx, realtime.Event{Kind: realtime.KindSessionEnded, SessionID: id}); err != nil && l.Log != nil {
			// The sweep closes them within its interval.
			l.Log.Warn("publish session end", "session", id, "err", err)
		}
	}
}

// SessionRenewed tells every instance that session id got a new id (a
// password or factor change), so that its live connections, opened with
// the old cookie, close and the browser reconnects with the new one. It
// fits auth.Accounts.SessionRenewed.
func (l LiveEvents) SessionRenewed(ctx context.Context, id int64) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), livePublishTimeout)
	defer cancel()
	if err := l.Broker.Publish(ctx, realtime.Event{Kind: realtime.KindSessionRenewed, SessionID: id}); err != nil && l.Log != nil {
		l.Log.Warn("publish session renewal", "session", id, "err", err)
	}
}
