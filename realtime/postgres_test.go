package realtime

import (
	"context"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// testLog sends a component's log to the test's output.
func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func newPostgresBroker(t *testing.T, dsn string, opts ...PostgresOption) *PostgresBroker {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := NewPostgresBroker(ctx, dsn, testLog(t), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	return b
}

type delivery struct {
	instance string
	ev       Event
}

func subscribeAs(b Broker, instance string, ch chan<- delivery) {
	b.Subscribe(func(ev Event) { ch <- delivery{instance, ev} })
}

// TestPostgresBrokerFanOut runs two instances on one database: an event
// published through either reaches the subscribers of both, once each.
func TestPostgresBrokerFanOut(t *testing.T) {
	dsn := dbtest.NewTestSchema(t)
	a, b := newPostgresBroker(t, dsn), newPostgresBroker(t, dsn)
	if a.Channel() != b.Channel() || a.Channel() == DefaultChannel {
		t.Fatalf("channels %q and %q: want the same, derived from the test schema", a.Channel(), b.Channel())
	}
	got := make(chan delivery, 1000)
	subscribeAs(a, "a", got)
	subscribeAs(b, "b", got)

	ctx := context.Background()
	want := Event{Kind: KindMessage, UserIDs: []int64{1, 2}, ThreadID: 3, MessageID: 4, ActorID: 5}
	start := time.Now()
	if err := a.Publish(ctx, want); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	timeout := time.After(time.Second)
	for len(seen) < 2 {
		select {
		case d := <-got:
			if d.ev.Kind != want.Kind || !slices.Equal(d.ev.UserIDs, want.UserIDs) || d.ev.ThreadID != 3 ||
				d.ev.MessageID != 4 || d.ev.ActorID != 5 {
				t.Fatalf("%s received %+v, want %+v", d.instance, d.ev, want)
			}
			seen[d.instance]++
		case <-timeout:
			t.Fatalf("after 1 s only %v received the event", seen)
		}
	}
	t.Logf("both instances received the event within %v", time.Since(start))

	// Exactly once: notifications of one session arrive in order, so any
	// copy of the first event arrives before a marker published after it.
	if err := a.Publish(ctx, Event{Kind: KindRead, MessageID: 99}); err != nil {
		t.Fatal(err)
	}
	for markers := 0; markers < 2; {
		select {
		case d := <-got:
			if d.ev.Kind == KindRead {
				markers++
			} else {
				seen[d.instance]++
			}
		case <-time.After(5 * time.Second):
			t.Fatal("marker not received")
		}
	}
	if seen["a"] != 1 || seen["b"] != 1 {
		t.Fatalf("deliveries %v, want one per instance", seen)
	}

	// The other way round, with more users than fit in one notification.
	big := Event{Kind: KindMessage, MessageID: 7}
	for i := range 2000 {
		big.UserIDs = append(big.UserIDs, 1_000_000_000+int64(i))
	}
	if err := b.Publish(ctx, big); err != nil {
		t.Fatal(err)
	}
	users := map[string][]int64{}
	for len(users["a"]) < 2000 || len(users["b"]) < 2000 {
		select {
		case d := <-got:
			users[d.instance] = append(users[d.instance], d.ev.UserIDs...)
		case <-time.After(5 * time.Second):
			t.Fatalf("split event incomplete: a has %d users, b %d", len(users["a"]), len(users["b"]))
		}
	}
	for _, inst := range []string{"a", "b"} {
		slices.Sort(users[inst])
		if !slices.Equal(users[inst], big.UserIDs) {
			t.Fatalf("instance %s: users lost or duplicated", inst)
		}
	}
}

// TestPostgresBrokerListenerReconnects kills the listener's backend, as a
// database restart would, and checks that the fan-out recovers.
func TestPostgresBrokerListenerReconnects(t *testing.T) {
	dsn := dbtest.NewTestSchema(t)
	name := "dialoog-test-" + randomHex(4)
	a := newPostgresBroker(t, dsn, WithListenerName(name+"-a"))
	b := newPostgresBroker(t, dsn, WithListenerName(name+"-b"), WithHealthCheck(2*time.Second))
	got := make(chan delivery, 1000)
	subscribeAs(b, "b", got)

	ctx := context.Background()
	admin, err := db.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	listenerPID := func() (pid int64) {
		err := admin.QueryRowContext(ctx,
			"SELECT pid FROM pg_stat_activity WHERE application_name = ? AND query LIKE 'LISTEN%'", name+"-b").Scan(&pid)
		if err != nil && !db.ErrNoRows(err) {
			t.Fatal(err)
		}
		return pid
	}
	before := listenerPID()
	if before == 0 {
		t.Fatal("listener backend not found in pg_stat_activity")
	}
	var killed bool
	if err := admin.QueryRowContext(ctx, "SELECT pg_terminate_backend(?)", before).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminate listener backend %d: %v %v", before, killed, err)
	}
	start := time.Now()

	// Publish until an event gets through again, within a bound.
	var resynced bool
	deadline := time.Now().Add(15 * time.Second)
	for id := int64(1); ; id++ {
		if time.Now().After(deadline) {
			t.Fatal("fan-out did not recover within 15 s")
		}
		if err := a.Publish(ctx, Event{Kind: KindMessage, UserIDs: []int64{1}, MessageID: id}); err != nil {
			t.Fatal(err)
		}
		d, ok := receiveWithin(got, 250*time.Millisecond)
		for ok && d.ev.Kind == KindResync {
			resynced = true
			d, ok = receiveWithin(got, 250*time.Millisecond)
		}
		if ok {
			t.Logf("event %d received %v after the kill", d.ev.MessageID, time.Since(start))
			break
		}
	}
	if _, ok := receiveWithin(got, 0); !resynced && !ok {
		// The resync event is dispatched before any event of the new
		// connection, so it has been seen by now.
		t.Fatal("no resync event after the reconnect")
	}
	if after := listenerPID(); after == 0 || after == before {
		t.Fatalf("listener backend %d after the kill, was %d", after, before)
	}
	// A's listener was not touched and still works.
	subscribeAs(a, "a", got)
	if err := b.Publish(ctx, Event{Kind: KindTyping, ThreadID: 1}); err != nil {
		t.Fatal(err)
	}
	for {
		d, ok := receiveWithin(got, 5*time.Second)
		if !ok {
			t.Fatal("instance a did not receive after b's reconnect")
		}
		if d.instance == "a" && d.ev.Kind == KindTyping {
			break
		}
	}
}

func receiveWithin(ch <-chan delivery, d time.Duration) (delivery, bool) {
	if d == 0 {
		select {
		case v := <-ch:
			return v, true
		default:
			return delivery{}, false
		}
	}
	select {
	case v := <-ch:
		return v, true
	case <-time.After(d):
		return delivery{}, false
	}
}

func TestPostgresBrokerClose(t *testing.T) {
	dsn := dbtest.NewTestSchema(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := NewPostgresBroker(ctx, dsn, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	b.Subscribe(func(Event) {})
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := b.Publish(ctx, Event{Kind: KindMessage}); err == nil {
		t.Fatal("Publish after Close accepted")
	}
	eventually(t, 2*time.Second, "broker goroutines ended", func() bool {
		return !strings.Contains(allStacks(), "realtime.(*PostgresBroker)")
	})

	if _, err := NewPostgresBroker(ctx, dsn, nil, WithChannel("Not-Valid")); err == nil {
		t.Fatal("invalid channel name accepted")
	}
}

// TestPostgresBrokerSilentConnection freezes the listener's connection
// without closing it, as a network partition would: no error ever reaches
// the listener, and only the health ping notices.
func TestPostgresBrokerSilentConnection(t *testing.T) {
	dsn := dbtest.NewTestSchema(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newFreezeProxy(t, u.Host)
	u.Host = proxy.addr()
	a := newPostgresBroker(t, dsn)
	b := newPostgresBroker(t, u.String(), WithHealthCheck(500*time.Millisecond))
	got := make(chan delivery, 1000)
	subscribeAs(b, "b", got)

	ctx := context.Background()
	if err := a.Publish(ctx, Event{Kind: KindMessage, MessageID: 1}); err != nil {
		t.Fatal(err)
	}
	if _, ok := receiveWithin(got, 5*time.Second); !ok {
		t.Fatal("no delivery through the proxy")
	}

	proxy.freeze() // every open connection now swallows its traffic
	start := time.Now()
	deadline := start.Add(20 * time.Second)
	for id := int64(2); ; id++ {
		if time.Now().After(deadline) {
			t.Fatal("fan-out did not recover from a silent connection within 20 s")
		}
		if err := a.Publish(ctx, Event{Kind: KindMessage, MessageID: id}); err != nil {
			t.Fatal(err)
		}
		d, ok := receiveWithin(got, 250*time.Millisecond)
		if ok && d.ev.Kind == KindMessage {
			t.Logf("event %d received %v after the freeze", d.ev.MessageID, time.Since(start))
			break
		}
	}
}

// freezeProxy forwards TCP connections to a target until freeze, after
// which the connections open at that moment silently drop all data.
type freezeProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	conns []*frozenPair
	wg    sync.WaitGroup
}

type frozenPair struct {
	a, b   net.Conn
	frozen atomic.Bool
}

func newFreezeProxy(t *testing.T, target string) *freezeProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezeProxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *freezeProxy) addr() string { return p.ln.Addr().String() }

func (p *freezeProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		pair := &frozenPair{a: c, b: s}
		p.mu.Lock()
		p.conns = append(p.conns, pair)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(pair, c, s)
		go p.pipe(pair, s, c)
	}
}

func (p *freezeProxy) pipe(pair *frozenPair, from, to net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if err != nil {
			from.Close()
			to.Close()
			return
		}
		if pair.frozen.Load() {
			continue
		}
		if _, err := to.Write(buf[:n]); err != nil {
			from.Close()
			to.Close()
			return
		}
	}
}

func (p *freezeProxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.frozen.Store(true)
	}
}

func (p *freezeProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.a.Close()
		c.b.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// TestPostgresBrokerPublishTx: an event published inside a transaction
// arrives when the transaction commits, and never when it rolls back.
func TestPostgresBrokerPublishTx(t *testing.T) {
	dsn := dbtest.NewTestSchema(t)
	b := newPostgresBroker(t, dsn)
	got := make(chan delivery, 10)
	subscribeAs(b, "b", got)
	d, err := db.OpenPostgres(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	inTx := func(messageID int64, commit bool) {
		tx, err := d.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.PublishTx(ctx, tx, Event{Kind: KindMessage, UserIDs: []int64{1}, MessageID: messageID}); err != nil {
			t.Fatal(err)
		}
		select {
		case d := <-got:
			t.Fatalf("event %d delivered before the commit", d.ev.MessageID)
		case <-time.After(200 * time.Millisecond):
		}
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	inTx(1, false)
	inTx(2, true)
	select {
	case d := <-got:
		if d.ev.MessageID != 2 {
			t.Fatalf("delivered event %d, want only the committed 2", d.ev.MessageID)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the committed event never arrived")
	}
	select {
	case d := <-got:
		t.Fatalf("also delivered %d", d.ev.MessageID)
	case <-time.After(300 * time.Millisecond):
	}
}
