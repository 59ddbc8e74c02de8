package realtime

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"time"
)

// RenderFunc renders ev for the users among userIDs, all connected to this
// instance, and hands each user's fragment (out-of-band swaps for
// htmx-ext-ws) to send. It loads what the ids point to once for all of
// them and checks for each user that they may see it; users who may not,
// or who have nothing to see, are simply not sent anything. For KindResync
// it may send a fragment that makes the page re-fetch its inbox.
type RenderFunc func(ctx context.Context, ev Event, userIDs []int64, send func(userID int64, msg []byte)) error

// RelayOptions tune Relay; zero values take the defaults.
type RelayOptions struct {
	// Workers render events concurrently (default 4 per CPU: rendering
	// waits on the database). Events of one thread always go to the same
	// worker, so that they arrive in the order they were published.
	Workers int
	// Queue is the number of events a worker may have waiting (default
	// 256); when all are full, the broker's subscriber queue takes the rest.
	Queue int
	// Observe, when set, is told how long each render took and for how
	// many connected users (for metrics).
	Observe func(ev Event, users int, seconds float64)
	// ObservePush, when set, is told for each event rendered here how long
	// it took from the broker handing it to the relay until its fragments
	// were handed to the hub: the wait in the worker's queue plus the
	// render (for metrics).
	ObservePush func(ev Event, users int, seconds float64)
	// Admit, when set, returns those of the users connected here who may
	// receive anything now; it runs before every render but a resync's, and the
	// connections of the others are closed (1008) instead of pushed to: a
	// socket outlives the page that opened it, and its user's standing
	// (new terms, factors removed, disabled) can change meanwhile. An
	// error pushes nothing.
	Admit func(ctx context.Context, userIDs []int64) ([]int64, error)
	// SessionEnds, when set, returns when each of the given sessions that
	// is live ends unless it is used again, leaving out those that are
	// over (auth.Sessions.LiveEnds). A socket outlives its session too:
	// one that sat idle or reached its absolute end gets nothing more.
	// Every connection keeps the end its session is known to have
	// (Hub.KeepSession); before a push but a resync, the sessions of the
	// connections past it are read again, once for all of them: those kept
	// alive meanwhile (another tab) keep their new end, the others are
	// closed (1008, as the session sweep closes them) and get nothing. An
	// error pushes nothing. A push to connections within their known ends
	// costs no look.
	SessionEnds func(ctx context.Context, sessionIDs []int64) (map[int64]time.Time, error)
	// Now is the clock SessionEnds' times are compared with; default
	// time.Now.
	Now func() time.Time
}

func (o RelayOptions) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

// relayed is an event waiting for a relay worker, with the time the broker
// handed it over.
type relayed struct {
	ev       Event
	received time.Time
}

// Relay subscribes to b and pushes events to the hub's connections:
// KindSessionEnded closes the session's sockets (KindSessionRenewed too,
// asking the browser to reconnect), KindResync is rendered for
// every connected user, any other event for those of its UserIDs that have
// a connection here, in one call of render per event. Users without a
// connection on this instance cost nothing. Rendering runs on a bounded
// pool of workers (see RelayOptions). stop ends the subscription and waits
// for the workers; ctx is passed to render.
func Relay(ctx context.Context, b Broker, h *Hub, render RenderFunc, log *slog.Logger) (stop func()) {
	return RelayWith(ctx, b, h, render, log, RelayOptions{})
}

// RelayWith is Relay with options.
func RelayWith(ctx context.Context, b Broker, h *Hub, render RenderFunc, log *slog.Logger, opt RelayOptions) (stop func()) {
	if log == nil {
		log = slog.Default()
	}
	if opt.Workers <= 0 {
		opt.Workers = 4 * runtime.GOMAXPROCS(0)
	}
	if opt.Queue <= 0 {
		opt.Queue = 256
	}
	quit := make(chan struct{})
	shards := make([]chan relayed, opt.Workers)
	var wg sync.WaitGroup
	for i := range shards {
		shards[i] = make(chan relayed, opt.Queue)
		wg.Add(1)
		go func(queue chan relayed) {
			defer wg.Done()
			for {
				select {
				case r := <-queue:
					relayOne(ctx, h, render, log, opt, r.ev, r.received)
				case <-quit:
					return
				}
			}
		}(shards[i])
	}
	cancel := b.Subscribe(func(ev Event) {
		switch ev.Kind {
		case KindSessionEnded:
			h.EndSession(ev.SessionID)
			return
		case KindSessionRenewed:
			h.RenewSession(ev.SessionID)
			return
		}
		shard := shards[uint64(ev.ThreadID)%uint64(len(shards))]
		select {
		case shard <- relayed{ev: ev, received: time.Now()}:
		case <-quit:
		}
	})
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			close(quit)
			wg.Wait()
		})
	}
}

func relayOne(ctx context.Context, h *Hub, render RenderFunc, log *slog.Logger, opt RelayOptions, ev Event, received time.Time) {
	var users []int64
	if ev.Kind == KindResync {
		users = h.UserIDs()
	} else {
		for _, id := range ev.UserIDs {
			if h.UserCount(id) > 0 {
				users = append(users, id)
			}
		}
	}
	if len(users) == 0 {
		return
	}
	// A resync carries nothing but "fetch the page again", which the
	// session check answers, and follows a lost database connection, when
	// the check would fail too: it goes to every socket here.
	if opt.Admit != nil && ev.Kind != KindResync {
		admitted, err := opt.Admit(ctx, users)
		if err != nil {
			log.Warn("realtime: admit users", "kind", ev.Kind, "thread", ev.ThreadID, "users", len(users), "err", err)
			return
		}
		for _, id := range users {
			if !slices.Contains(admitted, id) {
				h.CloseUser(id)
			}
		}
		users = admitted
		if len(users) == 0 {
			return
		}
	}
	send := h.SendToUser
	if opt.SessionEnds != nil && ev.Kind != KindResync {
		live, err := liveSessions(ctx, h, opt, users)
		if err != nil {
			log.Warn("realtime: check sessions", "kind", ev.Kind, "thread", ev.ThreadID, "users", len(users), "err", err)
			return
		}
		if users = live; len(users) == 0 {
			return
		}
		// A session that ends while the event renders gets nothing either.
		send = func(userID int64, msg []byte) { h.sendToUser(userID, msg, opt.now().UnixNano()) }
	}
	start := time.Now()
	err := render(ctx, ev, users, send)
	end := time.Now()
	if opt.Observe != nil {
		opt.Observe(ev, len(users), end.Sub(start).Seconds())
	}
	if opt.ObservePush != nil {
		opt.ObservePush(ev, len(users), end.Sub(received).Seconds())
	}
	if err != nil {
		log.Warn("realtime: render event", "kind", ev.Kind, "thread", ev.ThreadID,
			"message", ev.MessageID, "users", len(users), "err", err)
	}
}

// liveSessions reads again the sessions of the connections of users here
// that are past the end they were known to have (see
// RelayOptions.SessionEnds): the connections of those still live keep
// their new end, the others are closed. It returns the users who still
// have a connection here.
func liveSessions(ctx context.Context, h *Hub, opt RelayOptions, users []int64) ([]int64, error) {
	now := opt.now()
	due := h.overdue(users, now)
	if len(due) == 0 {
		return users, nil
	}
	ends, err := opt.SessionEnds(ctx, due)
	if err != nil {
		return nil, fmt.Errorf("read %d sessions: %w", len(due), err)
	}
	for _, id := range due {
		if end, ok := ends[id]; ok && end.After(now) {
			h.KeepSession(id, end)
		} else {
			h.CloseSession(id)
		}
	}
	return slices.DeleteFunc(slices.Clone(users), func(id int64) bool { return h.UserCount(id) == 0 }), nil
}
