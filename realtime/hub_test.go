package realtime

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	fws "github.com/fasthttp/websocket"
)

func TestHubSendToUser(t *testing.T) {
	forEachServer(t, HubOptions{}, func(t *testing.T, ts *testServer) {
		tab1, tab2 := ts.dial(1, 10), ts.dial(1, 11)
		other := ts.dial(2, 20)
		ts.waitUsers(1, 2)
		ts.waitUsers(2, 1)
		if got := ts.hub.Count(); got != 3 {
			t.Fatalf("Count = %d, want 3", got)
		}

		ts.hub.SendToUser(1, []byte("for one"))
		ts.hub.SendToUser(2, []byte("for two"))
		ts.hub.SendToUser(3, []byte("nobody")) // no connection: nothing happens
		for _, c := range []*testClient{tab1, tab2} {
			if got := c.next(t); got != "for one" {
				t.Fatalf("user 1 got %q", got)
			}
		}
		if got := other.next(t); got != "for two" {
			t.Fatalf("user 2 got %q", got)
		}

		if err := tab1.conn.WriteMessage(fws.TextMessage, []byte(`{"typing":1}`)); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-ts.received:
			if got != `1:{"typing":1}` {
				t.Fatalf("onMessage got %q", got)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("client message not handed to onMessage")
		}
	})
}

func TestHubSlowClientDisconnected(t *testing.T) {
	// A long write timeout shows that the cut-off, not the timeout, ends a
	// writer stuck on a peer that does not read.
	forEachServer(t, HubOptions{SendQueue: 2, WriteTimeout: time.Minute}, func(t *testing.T, ts *testServer) {
		slow := ts.dialRaw(1, 10) // never reads
		fast := ts.dial(2, 20)
		ts.waitUsers(1, 1)
		ts.waitUsers(2, 1)

		big := bytes.Repeat([]byte("x"), 64<<10)
		deadline := time.Now().Add(20 * time.Second)
		i := 0
		for ts.hub.UserCount(1) > 0 {
			if time.Now().After(deadline) {
				t.Fatalf("slow client still connected after %d messages", i)
			}
			ts.hub.SendToUser(1, big)
			want := "m" + strconv.Itoa(i)
			ts.hub.SendToUser(2, []byte(want))
			if got := fast.next(t); got != want {
				t.Fatalf("fast client got %q, want %q", got, want)
			}
			i++
		}
		t.Logf("slow client disconnected after %d messages of 64 KiB", i)

		// The fast client keeps receiving everything.
		for j := range 50 {
			want := "after" + strconv.Itoa(j)
			ts.hub.SendToUser(2, []byte(want))
			if got := fast.next(t); got != want {
				t.Fatalf("fast client got %q, want %q", got, want)
			}
		}
		// The slow client's handler has returned, without waiting for the
		// one-minute write timeout.
		select {
		case u := <-ts.ended:
			if u != 1 {
				t.Fatalf("handler of user %d ended, want 1", u)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("slow client's Run did not return")
		}
		// Reading now drains what was buffered and then meets the end.
		slow.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			if _, _, err := slow.ReadMessage(); err != nil {
				var ne interface{ Timeout() bool }
				if errors.As(err, &ne) && ne.Timeout() {
					t.Fatal("slow client's connection still open")
				}
				break
			}
		}
		if got := ts.hub.UserCount(2); got != 1 {
			t.Fatalf("fast client count = %d", got)
		}
	})
}

func TestHubPerUserCap(t *testing.T) {
	forEachServer(t, HubOptions{MaxPerUser: 2}, func(t *testing.T, ts *testServer) {
		a := ts.dial(1, 10)
		ts.dial(1, 11)
		ts.waitUsers(1, 2)

		refused := ts.dial(1, 12)
		if code, text := refused.closed(t); code != CloseTooManyConnections || text != "too many connections" {
			t.Fatalf("third connection closed with %d %q", code, text)
		}
		if got := ts.hub.UserCount(1); got != 2 {
			t.Fatalf("UserCount = %d, want 2", got)
		}
		ts.dial(2, 20) // other users are not affected
		ts.waitUsers(2, 1)

		// Closing a tab makes room again.
		a.conn.Close()
		ts.waitUsers(1, 1)
		again := ts.dial(1, 13)
		ts.waitUsers(1, 2)
		ts.hub.SendToUser(1, []byte("hi"))
		if got := again.next(t); got != "hi" {
			t.Fatalf("got %q", got)
		}
	})
}

func TestHubCloseSession(t *testing.T) {
	forEachServer(t, HubOptions{}, func(t *testing.T, ts *testServer) {
		ended1, ended2 := ts.dial(1, 10), ts.dial(1, 10)
		kept := ts.dial(1, 11)
		other := ts.dial(2, 12)
		ts.waitUsers(1, 3)
		ts.waitUsers(2, 1)

		ts.hub.CloseSession(10)
		for _, c := range []*testClient{ended1, ended2} {
			if code, text := c.closed(t); code != CloseSessionEnded || text != "session ended" {
				t.Fatalf("closed with %d %q", code, text)
			}
		}
		if got := ts.hub.UserCount(1); got != 1 {
			t.Fatalf("UserCount(1) = %d, want 1", got)
		}
		ts.hub.SendToUser(1, []byte("still here"))
		ts.hub.SendToUser(2, []byte("me too"))
		if got := kept.next(t); got != "still here" {
			t.Fatalf("other session got %q", got)
		}
		if got := other.next(t); got != "me too" {
			t.Fatalf("other user got %q", got)
		}
		ts.hub.CloseSession(99) // unknown: nothing happens
		if got := ts.hub.Count(); got != 2 {
			t.Fatalf("Count = %d, want 2", got)
		}
	})
}

func TestHubShutdownLeavesNoGoroutines(t *testing.T) {
	for _, k := range serverKinds {
		t.Run(k.name, func(t *testing.T) {
			baseline := runtime.NumGoroutine()
			ts := k.new(t, HubOptions{PingEvery: 20 * time.Millisecond})
			var clients []*testClient
			for i := range 6 {
				clients = append(clients, ts.dial(int64(i%3), int64(i)))
			}
			for u := range 3 {
				ts.waitUsers(int64(u), 2)
			}
			for u := range 3 {
				ts.hub.SendToUser(int64(u), []byte("x"))
			}
			for _, c := range clients {
				if got := c.next(t); got != "x" {
					t.Fatalf("got %q", got)
				}
			}
			// writerLinger after the last message an idle connection has
			// only its reader; the writers (and those of the pings) have
			// exited.
			eventually(t, writerLinger+3*time.Second, "6 hub goroutines", func() bool { return hubGoroutines() == 6 })

			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := ts.hub.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			for _, c := range clients {
				if code, _ := c.closed(t); code != CloseRestart {
					t.Fatalf("closed with %d, want %d", code, CloseRestart)
				}
			}
			if got := ts.hub.Count(); got != 0 {
				t.Fatalf("Count after Shutdown = %d", got)
			}
			if _, err := ts.hub.Register(9, 9, nil); !errors.Is(err, ErrHubClosed) {
				t.Fatalf("Register after Shutdown: %v", err)
			}
			late := ts.dial(9, 9)
			if code, _ := late.closed(t); code != CloseRestart {
				t.Fatalf("late connection closed with %d", code)
			}

			// Shutdown has waited for every pump (a cut-off timer that
			// fired may still be returning).
			eventually(t, 2*time.Second, "no hub goroutines", func() bool { return hubGoroutines() == 0 })
			ts.close()
			if ts.srv == nil {
				// fasthttp keeps idle workers for 10 s and a process-wide
				// clock goroutine: the total count is only meaningful for
				// net/http.
				return
			}
			eventually(t, 5*time.Second, "goroutines back to baseline", func() bool {
				return runtime.NumGoroutine() <= baseline
			})
		})
	}
}

// hubGoroutines counts the goroutines running code of the hub's clients
// (their pumps and the handlers blocked in Run).
func hubGoroutines() int {
	count := 0
	for _, g := range strings.Split(allStacks(), "\n\n") {
		if strings.Contains(g, "realtime.(*Client)") {
			count++
		}
	}
	return count
}

// allStacks returns the stacks of all goroutines.
func allStacks() string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}

func TestHubPings(t *testing.T) {
	// PingEvery leaves room for a scheduler that is busy with other tests:
	// a pong that comes later than PongWait ends the connection.
	forEachServer(t, HubOptions{PingEvery: 50 * time.Millisecond, PongWait: time.Millisecond}, func(t *testing.T, ts *testServer) {
		if got := ts.hub.Options().PongWait; got != 100*time.Millisecond {
			t.Fatalf("PongWait = %v, want raised to 2 × PingEvery", got)
		}
		c := ts.dial(1, 10)
		ts.waitUsers(1, 1)
		// Pongs keep the connection alive well beyond PongWait.
		eventually(t, 5*time.Second, "ten pings", func() bool { return c.pings.Load() >= 10 })
		if got := ts.hub.UserCount(1); got != 1 {
			t.Fatalf("answering client dropped")
		}
		ts.hub.SendToUser(1, []byte("alive"))
		if got := c.next(t); got != "alive" {
			t.Fatalf("got %q", got)
		}

		// A client that never answers is dropped after PongWait.
		ts.dialRaw(2, 20)
		ts.waitUsers(2, 1)
		ts.waitUsers(2, 0)
	})
}

func TestHubReadLimit(t *testing.T) {
	forEachServer(t, HubOptions{ReadLimit: 64}, func(t *testing.T, ts *testServer) {
		c := ts.dial(1, 10)
		ts.waitUsers(1, 1)
		if err := c.conn.WriteMessage(fws.TextMessage, []byte("small")); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-ts.received:
			if got != "1:small" {
				t.Fatalf("onMessage got %q", got)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("small message not received")
		}
		if err := c.conn.WriteMessage(fws.TextMessage, bytes.Repeat([]byte("a"), 1024)); err != nil {
			t.Fatal(err)
		}
		if code, _ := c.closed(t); code != fws.CloseMessageTooBig {
			t.Fatalf("closed with %d, want %d", code, fws.CloseMessageTooBig)
		}
		ts.waitUsers(1, 0)
	})
}

func TestHubWaitUserCountContext(t *testing.T) {
	h := NewHub(HubOptions{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := h.WaitUserCount(ctx, 1, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if err := h.WaitUserCount(context.Background(), 1, 0); err != nil {
		t.Fatal(err)
	}
}

// TestHubEndedSessionConnectsLate: a connection whose session was
// checked just before a logout or revocation ended it, and which
// registers only after the session's end reached the hub (the upgrade
// takes a moment), is refused with "session ended" instead of receiving
// the person's pushes until the periodic sweep; other sessions, and a
// session the sweep closed (CloseSession: it may come back), still
// connect.
func TestHubEndedSessionConnectsLate(t *testing.T) {
	forEachServer(t, HubOptions{}, func(t *testing.T, ts *testServer) {
		ts.hub.EndSession(10)
		late := ts.dial(1, 10)
		if code, text := late.closed(t); code != CloseSessionEnded || text != "session ended" {
			t.Fatalf("late connection of an ended session: closed with %d %q", code, text)
		}
		ts.hub.CloseSession(11)
		kept, other := ts.dial(1, 11), ts.dial(1, 12)
		ts.waitUsers(1, 2)
		ts.hub.SendToUser(1, []byte("hallo"))
		for _, c := range []*testClient{kept, other} {
			if got := c.next(t); got != "hallo" {
				t.Fatalf("got %q", got)
			}
		}
		if got := ts.hub.UserCount(1); got != 2 {
			t.Fatalf("UserCount(1) = %d, want 2", got)
		}
	})
}
