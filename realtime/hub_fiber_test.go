package realtime

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	fws "github.com/fasthttp/websocket"
	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
)

// TestHubWithFiber runs the hub behind Fiber and gofiber/contrib/websocket,
// as production does: contrib recycles its Conn when the handler returns,
// so under -race this also checks that nothing touches a connection after
// Run has returned.
func TestHubWithFiber(t *testing.T) {
	const origin = "http://dialoog.test"
	hub := NewHub(HubOptions{}, nil)
	received := make(chan string, 16)
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/ws", func(c *fiber.Ctx) error {
		// Where the real endpoint checks the session cookie.
		user, err := strconv.ParseInt(c.Query("user"), 10, 64)
		if err != nil || !websocket.IsWebSocketUpgrade(c) {
			return fiber.ErrUnauthorized
		}
		c.Locals("user", user)
		return c.Next()
	}, websocket.New(func(conn *websocket.Conn) {
		user := conn.Locals("user").(int64)
		client, err := hub.Register(user, user*10, conn)
		if err != nil {
			Refuse(conn, err)
			return
		}
		client.Run(func(msg []byte) { received <- string(msg) })
	}, websocket.Config{Origins: []string{origin}}))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	t.Cleanup(func() {
		if err := app.ShutdownWithTimeout(5 * time.Second); err != nil {
			t.Error(err)
		}
		<-served
	})

	dial := func(user int64, origin string) (*fws.Conn, error) {
		h := http.Header{"Origin": {origin}}
		conn, resp, err := fws.DefaultDialer.Dial("ws://"+ln.Addr().String()+"/ws?user="+strconv.FormatInt(user, 10), h)
		if resp != nil {
			resp.Body.Close()
		}
		if err == nil {
			t.Cleanup(func() { conn.Close() })
		}
		return conn, err
	}
	if _, err := dial(1, "http://evil.test"); err == nil {
		t.Fatal("foreign origin upgraded")
	}

	var conns []*fws.Conn
	for user := int64(1); user <= 3; user++ {
		c, err := dial(user, origin)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for user := int64(1); user <= 3; user++ {
		if err := hub.WaitUserCount(ctx, user, 1); err != nil {
			t.Fatal(err)
		}
	}

	for i, c := range conns {
		want := "hello " + strconv.Itoa(i+1)
		hub.SendToUser(int64(i+1), []byte(want))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, got, err := c.ReadMessage(); err != nil || string(got) != want {
			t.Fatalf("read %q, %v; want %q", got, err, want)
		}
	}
	if err := conns[0].WriteMessage(fws.TextMessage, []byte("typing")); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-received:
		if got != "typing" {
			t.Fatalf("onMessage got %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("client message not received")
	}

	hub.CloseSession(20) // user 2
	if _, _, err := conns[1].ReadMessage(); !fws.IsCloseError(err, CloseSessionEnded) {
		t.Fatalf("session end: %v", err)
	}
	if err := hub.WaitUserCount(ctx, 2, 0); err != nil {
		t.Fatal(err)
	}

	if err := hub.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*fws.Conn{conns[0], conns[2]} {
		if _, _, err := c.ReadMessage(); !fws.IsCloseError(err, CloseRestart) {
			t.Fatalf("shutdown: %v", err)
		}
	}
}
