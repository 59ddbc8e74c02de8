package realtime

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	fws "github.com/fasthttp/websocket"
)

// directBroker calls its subscribers synchronously, so that a test can also
// deliver what only a broker itself produces (KindResync).
type directBroker struct {
	mu   sync.Mutex
	subs []func(Event)
}

func (b *directBroker) Publish(_ context.Context, ev Event) error {
	b.mu.Lock()
	subs := b.subs
	b.mu.Unlock()
	for _, fn := range subs {
		fn(ev)
	}
	return nil
}

func (b *directBroker) Subscribe(fn func(Event)) func() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.subs = append(b.subs, fn)
	return func() {}
}

func (b *directBroker) Close() error { return nil }

func TestRelay(t *testing.T) {
	ts := newTestServer(t, HubOptions{})
	u1, u2 := ts.dial(1, 10), ts.dial(2, 20)
	ts.waitUsers(1, 1)
	ts.waitUsers(2, 1)

	var mu sync.Mutex
	var rendered []string
	render := func(_ context.Context, ev Event, user int64) ([]byte, error) {
		mu.Lock()
		rendered = append(rendered, fmt.Sprintf("%s/%d", ev.Kind, user))
		mu.Unlock()
		switch {
		case ev.Kind == KindTyping && user == ev.ActorID:
			return nil, nil // not to the typist
		case ev.MessageID == 666:
			return nil, errors.New("message gone")
		}
		return fmt.Appendf(nil, `<div id="%s-%d" hx-swap-oob="true">%d</div>`, ev.Kind, ev.MessageID, user), nil
	}
	b := &directBroker{}
	// One worker: the events of different threads below keep their order.
	stop := RelayWith(context.Background(), b, ts.hub, perUser(render), testLog(t), RelayOptions{Workers: 1})
	defer stop()
	ctx := context.Background()

	b.Publish(ctx, Event{Kind: KindMessage, UserIDs: []int64{1, 2, 3}, MessageID: 5})
	if got := u1.next(t); got != `<div id="message-5" hx-swap-oob="true">1</div>` {
		t.Fatalf("user 1 got %q", got)
	}
	if got := u2.next(t); got != `<div id="message-5" hx-swap-oob="true">2</div>` {
		t.Fatalf("user 2 got %q", got)
	}

	b.Publish(ctx, Event{Kind: KindTyping, UserIDs: []int64{1, 2}, ActorID: 1, ThreadID: 9})
	b.Publish(ctx, Event{Kind: KindMessage, UserIDs: []int64{1}, MessageID: 666}) // render error: logged, skipped
	b.Publish(ctx, Event{Kind: KindResync})
	if got := u2.next(t); got != `<div id="typing-0" hx-swap-oob="true">2</div>` {
		t.Fatalf("user 2 got %q", got)
	}
	if got := u1.next(t); got != `<div id="resync-0" hx-swap-oob="true">1</div>` {
		t.Fatalf("user 1 got %q (typing must not reach the typist)", got)
	}
	if got := u2.next(t); got != `<div id="resync-0" hx-swap-oob="true">2</div>` {
		t.Fatalf("user 2 got %q", got)
	}
	mu.Lock()
	for _, r := range rendered {
		if r == "message/3" {
			t.Error("rendered for user 3, who has no connection here")
		}
	}
	mu.Unlock()

	b.Publish(ctx, Event{Kind: KindSessionEnded, SessionID: 10})
	if code, _ := u1.closed(t); code != CloseSessionEnded {
		t.Fatalf("session 10 closed with %d", code)
	}
	ts.waitUsers(1, 0)
	if got := ts.hub.UserCount(2); got != 1 {
		t.Fatalf("user 2 has %d connections", got)
	}
}

// TestRelayPool: events of one thread arrive in publication order, and a
// slow render in one thread does not hold up pushes of other threads.
func TestRelayPool(t *testing.T) {
	ts := newTestServer(t, HubOptions{SendQueue: 512})
	u1 := ts.dial(1, 10)
	ts.waitUsers(1, 1)
	stuck := make(chan struct{})
	render := func(ctx context.Context, ev Event, users []int64, send func(int64, []byte)) error {
		if ev.ThreadID == 1 {
			<-stuck // thread 1 renders slowly
		}
		for _, u := range users {
			send(u, fmt.Appendf(nil, "%d/%d", ev.ThreadID, ev.MessageID))
		}
		return nil
	}
	b := &directBroker{}
	stop := RelayWith(context.Background(), b, ts.hub, render, testLog(t), RelayOptions{Workers: 4})
	defer stop()
	ctx := context.Background()
	b.Publish(ctx, Event{Kind: KindMessage, UserIDs: []int64{1}, ThreadID: 1, MessageID: 1})
	for i := range 200 {
		b.Publish(ctx, Event{Kind: KindMessage, UserIDs: []int64{1}, ThreadID: 2, MessageID: int64(i)})
	}
	for i := range 200 {
		if got, want := u1.next(t), fmt.Sprintf("2/%d", i); got != want {
			t.Fatalf("push %d: %q, want %q", i, got, want)
		}
	}
	close(stuck)
	if got := u1.next(t); got != "1/1" {
		t.Fatalf("the slow thread's push: %q", got)
	}
}

// TestRelayObservePush: the push latency of an event covers its wait in the
// worker's queue as well as its render, which Observe reports alone.
func TestRelayObservePush(t *testing.T) {
	ts := newTestServer(t, HubOptions{})
	u1 := ts.dial(1, 10)
	ts.waitUsers(1, 1)
	release := make(chan struct{})
	render := func(ctx context.Context, ev Event, users []int64, send func(int64, []byte)) error {
		if ev.MessageID == 1 {
			<-release
		}
		for _, u := range users {
			send(u, fmt.Appendf(nil, "%d", ev.MessageID))
		}
		return nil
	}
	type observed struct{ render, push float64 }
	var mu sync.Mutex
	got := map[int64]*observed{}
	at := func(id int64) *observed {
		if got[id] == nil {
			got[id] = &observed{}
		}
		return got[id]
	}
	b := &directBroker{}
	stop := RelayWith(context.Background(), b, ts.hub, render, testLog(t), RelayOptions{
		Workers: 1,
		Observe: func(ev Event, users int, seconds float64) {
			mu.Lock()
			defer mu.Unlock()
			if users != 1 {
				t.Errorf("event %d observed for %d users", ev.MessageID, users)
			}
			at(ev.MessageID).render = seconds
		},
		ObservePush: func(ev Event, users int, seconds float64) {
			mu.Lock()
			defer mu.Unlock()
			at(ev.MessageID).push = seconds
		},
	})
	defer stop()
	ctx := context.Background()
	b.Publish(ctx, Event{Kind: KindMessage, UserIDs: []int64{1}, ThreadID: 1, MessageID: 1})
	b.Publish(ctx, Event{Kind: KindMessage, UserIDs: []int64{1}, ThreadID: 1, MessageID: 2})
	const held = 50 * time.Millisecond
	time.Sleep(held) // event 2 waits behind event 1 at least this long
	close(release)
	for _, want := range []string{"1", "2"} {
		if got := u1.next(t); got != want {
			t.Fatalf("push %q, want %q", got, want)
		}
	}
	stop()
	mu.Lock()
	defer mu.Unlock()
	for id, o := range got {
		if o.push < o.render || o.render <= 0 {
			t.Errorf("event %d: render %.6fs, push %.6fs", id, o.render, o.push)
		}
	}
	if o := got[2]; o == nil || o.push < held.Seconds() {
		t.Fatalf("event 2, queued behind a render held %v: %+v", held, o)
	}
}

// perUser adapts a renderer of one user at a time to a RenderFunc, for
// renderers whose work does not depend on the other recipients. A nil
// fragment means nothing to send to that user.
func perUser(render func(ctx context.Context, ev Event, userID int64) ([]byte, error)) RenderFunc {
	return func(ctx context.Context, ev Event, userIDs []int64, send func(int64, []byte)) error {
		for _, id := range userIDs {
			msg, err := render(ctx, ev, id)
			if err != nil {
				return err
			}
			if msg != nil {
				send(id, msg)
			}
		}
		return nil
	}
}

// TestRelayResyncWithoutAdmit: the check of who may receive runs before
// every push but a resync's, which carries no content and follows a lost
// database connection, when the check fails too.
func TestRelayResyncWithoutAdmit(t *testing.T) {
	ts := newTestServer(t, HubOptions{})
	u1 := ts.dial(1, 10)
	ts.waitUsers(1, 1)
	render := func(_ context.Context, ev Event, user int64) ([]byte, error) {
		return fmt.Appendf(nil, `<div id="%s" hx-swap-oob="true">%d</div>`, ev.Kind, user), nil
	}
	b := &directBroker{}
	stop := RelayWith(context.Background(), b, ts.hub, perUser(render), testLog(t), RelayOptions{Workers: 1,
		Admit: func(context.Context, []int64) ([]int64, error) { return nil, errors.New("database restarting") }})
	defer stop()
	ctx := context.Background()
	b.Publish(ctx, Event{Kind: KindMessage, UserIDs: []int64{1}, MessageID: 5}) // not admitted: nothing
	b.Publish(ctx, Event{Kind: KindResync})
	if got := u1.next(t); got != `<div id="resync" hx-swap-oob="true">1</div>` {
		t.Fatalf("user 1 got %q, want only the resync", got)
	}
}

// TestRelaySessionEnds: a push to connections within the end their session
// is known to have looks at no session; past it (or not known yet), the
// sessions are read again, once for all of them: one kept alive meanwhile
// gets the push and keeps its new end, a lapsed one is closed (1008) and
// gets nothing.
func TestRelaySessionEnds(t *testing.T) {
	ts := newTestServer(t, HubOptions{})
	u1, u2 := ts.dial(1, 10), ts.dial(2, 20)
	ts.waitUsers(1, 1)
	ts.waitUsers(2, 1)
	start := time.Date(2026, 2, 23, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := start
	ends := map[int64]time.Time{10: start.Add(30 * time.Minute), 20: start.Add(30 * time.Minute)}
	var reads [][]int64
	opt := RelayOptions{Workers: 1,
		Now: func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return now
		},
		SessionEnds: func(_ context.Context, ids []int64) (map[int64]time.Time, error) {
			mu.Lock()
			defer mu.Unlock()
			reads = append(reads, slices.Clone(ids))
			live := map[int64]time.Time{}
			for _, id := range ids {
				if end, ok := ends[id]; ok && end.After(now) {
					live[id] = end
				}
			}
			return live, nil
		}}
	render := func(_ context.Context, ev Event, user int64) ([]byte, error) {
		return fmt.Appendf(nil, "%d/%d", ev.MessageID, user), nil
	}
	b := &directBroker{}
	stop := RelayWith(context.Background(), b, ts.hub, perUser(render), testLog(t), opt)
	defer stop()
	ctx := context.Background()
	wantReads := func(want ...[]int64) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if fmt.Sprint(reads) != fmt.Sprint(want) {
			t.Fatalf("sessions read %v, want %v", reads, want)
		}
	}
	push := func(id int64) { b.Publish(ctx, Event{Kind: KindMessage, UserIDs: []int64{1, 2}, MessageID: id}) }

	// Registered without an end: read at the first push, then known.
	for _, id := range []int64{1, 2} {
		push(id)
		if got, want := u1.next(t), fmt.Sprintf("%d/1", id); got != want {
			t.Fatalf("user 1 got %q, want %q", got, want)
		}
		if got, want := u2.next(t), fmt.Sprintf("%d/2", id); got != want {
			t.Fatalf("user 2 got %q, want %q", got, want)
		}
	}
	wantReads([]int64{10, 20})

	// Past the known ends: session 10 was kept alive elsewhere, 20 lapsed.
	mu.Lock()
	now, ends[10] = start.Add(31*time.Minute), start.Add(50*time.Minute)
	mu.Unlock()
	push(3)
	if got := u1.next(t); got != "3/1" {
		t.Fatalf("user 1 got %q", got)
	}
	select {
	case msg := <-u2.msgs:
		t.Fatalf("the lapsed session's connection got %q", msg)
	case err := <-u2.done:
		var ce *fws.CloseError
		if !errors.As(err, &ce) || ce.Code != CloseSessionEnded {
			t.Fatalf("the lapsed session's connection ended with %v, want 1008", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the lapsed session's connection stays open")
	}
	push(4)
	if got := u1.next(t); got != "4/1" {
		t.Fatalf("user 1 got %q", got)
	}
	wantReads([]int64{10, 20}, []int64{10, 20})
}
