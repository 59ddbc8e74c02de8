package realtime

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Broker carries events to every instance of the application, including the
// publishing one. Each event is delivered once to each subscriber of each
// instance.
type Broker interface {
	// Publish sends ev to the subscribers of every instance. It never waits
	// for subscribers to handle the event.
	Publish(ctx context.Context, ev Event) error
	// Subscribe calls fn for every event delivered to this instance, in
	// publication order, from a goroutine of the broker. fn should return
	// promptly: events that arrive while a subscriber is more than
	// SubscriberQueue events behind are dropped for that subscriber (and
	// logged) rather than holding up the publisher. After cancel returns, fn
	// is not called again, apart from a call already in progress.
	Subscribe(fn func(Event)) (cancel func())
	// Close stops delivery and waits for the subscriber goroutines.
	Close() error
}

// SubscriberQueue is how many undelivered events a subscriber may lag behind
// before further events are dropped for it.
const SubscriberQueue = 1024

// ErrClosed is returned by Publish on a closed broker.
var ErrClosed = errors.New("realtime: broker closed")

// fanout delivers events to local subscribers, one goroutine and one bounded
// queue each, so that a slow subscriber never blocks the caller of dispatch.
type fanout struct {
	log *slog.Logger

	mu     sync.Mutex
	subs   map[*subscriber]struct{}
	closed bool
	wg     sync.WaitGroup
}

type subscriber struct {
	fn       func(Event)
	queue    chan Event
	quit     chan struct{}
	once     sync.Once
	dropped  int       // guarded by fanout.mu
	loggedAt time.Time // last drop warning, at most one a second
}

func newFanout(log *slog.Logger) *fanout {
	return &fanout{log: log, subs: make(map[*subscriber]struct{})}
}

func (f *fanout) subscribe(fn func(Event)) (cancel func()) {
	s := &subscriber{fn: fn, queue: make(chan Event, SubscriberQueue), quit: make(chan struct{})}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return func() {}
	}
	f.subs[s] = struct{}{}
	f.wg.Add(1)
	go f.deliver(s)
	return func() {
		f.mu.Lock()
		delete(f.subs, s)
		f.mu.Unlock()
		s.stop()
	}
}

func (s *subscriber) stop() { s.once.Do(func() { close(s.quit) }) }

func (f *fanout) deliver(s *subscriber) {
	defer f.wg.Done()
	for {
		select {
		case <-s.quit:
			return
		case ev := <-s.queue:
			// A stop that raced with the receive wins: no call after cancel.
			select {
			case <-s.quit:
				return
			default:
			}
			f.call(s, ev)
		}
	}
}

// call runs one subscriber callback; a panic in it is logged instead of
// ending the process, so one bad render does not stop live updates.
func (f *fanout) call(s *subscriber, ev Event) {
	defer func() {
		if r := recover(); r != nil {
			f.log.Error("realtime: subscriber panicked", "kind", ev.Kind, "panic", r)
		}
	}()
	s.fn(ev)
}

// dispatch queues ev for every subscriber without blocking.
func (f *fanout) dispatch(ev Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs {
		select {
		case s.queue <- ev:
		default:
			s.dropped++
			if now := time.Now(); now.Sub(s.loggedAt) >= time.Second {
				s.loggedAt = now
				f.log.Warn("realtime: subscriber too slow, events dropped",
					"kind", ev.Kind, "thread", ev.ThreadID, "message", ev.MessageID, "dropped_total", s.dropped)
			}
		}
	}
}

// close stops every subscriber and waits for their goroutines.
func (f *fanout) close() {
	f.mu.Lock()
	f.closed = true
	for s := range f.subs {
		s.stop()
		delete(f.subs, s)
	}
	f.mu.Unlock()
	f.wg.Wait()
}

// LocalBroker is the in-process Broker used with SQLite, where there is a
// single instance.
type LocalBroker struct {
	fan *fanout

	mu     sync.RWMutex
	closed bool
}

var _ Broker = (*LocalBroker)(nil)

// NewLocalBroker returns an in-process broker.
func NewLocalBroker() *LocalBroker {
	return &LocalBroker{fan: newFanout(slog.Default())}
}

// Publish queues ev for every subscriber and returns at once.
func (b *LocalBroker) Publish(ctx context.Context, ev Event) error {
	if err := ev.validate(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return ErrClosed
	}
	// The publisher may reuse its slice; subscribers must not see that.
	ev.UserIDs = slices.Clone(ev.UserIDs)
	b.fan.dispatch(ev)
	return nil
}

// Subscribe implements Broker.
func (b *LocalBroker) Subscribe(fn func(Event)) (cancel func()) { return b.fan.subscribe(fn) }

// Close implements Broker.
func (b *LocalBroker) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.fan.close()
	return nil
}
