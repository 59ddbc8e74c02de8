package realtime

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	fws "github.com/fasthttp/websocket"
	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
)

// testServer serves a hub over real WebSocket connections with net/http and
// fasthttp/websocket's Upgrader, the same connection type that
// gofiber/contrib/websocket wraps.
type testServer struct {
	t         *testing.T
	hub       *Hub
	srv       *httptest.Server // nil for Fiber
	url       string
	stop      func()
	closeOnce sync.Once
	received  chan string // text messages clients sent, "user:message"
	ended     chan int64  // user id of every handler that returned after Run
}

// serverKinds are the two ways the hub is served in tests: net/http with
// fasthttp/websocket's Upgrader, and Fiber with gofiber/contrib/websocket as
// in production (where Close on the hijacked connection does nothing until
// the handler returns).
var serverKinds = []struct {
	name string
	new  func(*testing.T, HubOptions) *testServer
}{
	{"nethttp", newTestServer},
	{"fiber", newFiberTestServer},
}

// forEachServer runs fn as a subtest against both kinds of server.
func forEachServer(t *testing.T, opt HubOptions, fn func(t *testing.T, ts *testServer)) {
	for _, k := range serverKinds {
		t.Run(k.name, func(t *testing.T) { fn(t, k.new(t, opt)) })
	}
}

func newTestServer(t *testing.T, opt HubOptions) *testServer {
	t.Helper()
	ts := &testServer{
		t:        t,
		hub:      NewHub(opt, nil),
		received: make(chan string, 1024),
		ended:    make(chan int64, 1024),
	}
	up := fws.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	ts.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		user, _ := strconv.ParseInt(r.URL.Query().Get("user"), 10, 64)
		session, _ := strconv.ParseInt(r.URL.Query().Get("session"), 10, 64)
		ts.serve(user, session, conn)
	}))
	ts.url = "ws" + strings.TrimPrefix(ts.srv.URL, "http")
	ts.stop = ts.srv.Close
	t.Cleanup(ts.close)
	return ts
}

func newFiberTestServer(t *testing.T, opt HubOptions) *testServer {
	t.Helper()
	ts := &testServer{
		t:        t,
		hub:      NewHub(opt, nil),
		received: make(chan string, 1024),
		ended:    make(chan int64, 1024),
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/ws", websocket.New(func(conn *websocket.Conn) {
		user, _ := strconv.ParseInt(conn.Query("user"), 10, 64)
		session, _ := strconv.ParseInt(conn.Query("session"), 10, 64)
		ts.serve(user, session, conn)
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	ts.url = "ws://" + ln.Addr().String()
	ts.stop = func() {
		if err := app.ShutdownWithTimeout(5 * time.Second); err != nil {
			t.Error(err)
		}
		<-served
	}
	t.Cleanup(ts.close)
	return ts
}

// serve is the WebSocket handler: what the real endpoint does once it has
// checked the session and the Origin.
func (ts *testServer) serve(user, session int64, conn Conn) {
	c, err := ts.hub.Register(user, session, conn)
	if err != nil {
		Refuse(conn, err)
		return
	}
	c.Run(func(msg []byte) {
		select {
		case ts.received <- strconv.FormatInt(user, 10) + ":" + string(msg):
		default:
		}
	})
	ts.ended <- user
}

// close shuts the hub down and stops the server (once).
func (ts *testServer) close() {
	ts.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = ts.hub.Shutdown(ctx)
		ts.stop()
	})
}

// dialRaw opens a connection without reading from it.
func (ts *testServer) dialRaw(user, session int64) *fws.Conn {
	ts.t.Helper()
	u := ts.url + "/ws?user=" + strconv.FormatInt(user, 10) + "&session=" + strconv.FormatInt(session, 10)
	conn, resp, err := fws.DefaultDialer.Dial(u, nil)
	if err != nil {
		ts.t.Fatalf("dial: %v", err)
	}
	resp.Body.Close()
	ts.t.Cleanup(func() { conn.Close() })
	return conn
}

// testClient reads its connection in a goroutine.
type testClient struct {
	conn  *fws.Conn
	msgs  chan string
	done  chan error // the error that ended reading
	pings atomic.Int32
}

// dial opens a connection that reads (and so answers pings) continuously.
func (ts *testServer) dial(user, session int64) *testClient {
	ts.t.Helper()
	c := &testClient{conn: ts.dialRaw(user, session), msgs: make(chan string, 4096), done: make(chan error, 1)}
	c.conn.SetPingHandler(func(data string) error {
		c.pings.Add(1)
		return c.conn.WriteControl(fws.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	go func() {
		for {
			_, msg, err := c.conn.ReadMessage()
			if err != nil {
				c.done <- err
				return
			}
			c.msgs <- string(msg)
		}
	}()
	return c
}

// next returns the next message or fails after a timeout.
func (c *testClient) next(t *testing.T) string {
	t.Helper()
	select {
	case m := <-c.msgs:
		return m
	case err := <-c.done:
		t.Fatalf("connection ended while waiting for a message: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5 s")
	}
	return ""
}

// closed waits for the connection to end and returns its close code (or
// -1 without a close frame).
func (c *testClient) closed(t *testing.T) (code int, text string) {
	t.Helper()
	for {
		select {
		case <-c.msgs:
		case err := <-c.done:
			var ce *fws.CloseError
			if errors.As(err, &ce) {
				return ce.Code, ce.Text
			}
			return -1, err.Error()
		case <-time.After(5 * time.Second):
			t.Fatal("connection not closed within 5 s")
		}
	}
}

// waitUsers waits until user has n registered connections.
func (ts *testServer) waitUsers(user int64, n int) {
	ts.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ts.hub.WaitUserCount(ctx, user, n); err != nil {
		ts.t.Fatal(err)
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
