package realtime

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	fws "github.com/fasthttp/websocket"
	"github.com/gofiber/fiber/v2"
)

const upgradeOrigin = "http://dialoog.test"

// upgradeApp serves /ws through Upgrader into hub (the user from ?user=,
// where the real endpoint reads the session) and / as a plain page.
func upgradeApp(t *testing.T, hub *Hub, keepHijacked bool, received chan<- string) string {
	t.Helper()
	app := fiber.New(fiber.Config{DisableStartupMessage: true, ReadBufferSize: 16 << 10})
	app.Server().KeepHijackedConns = keepHijacked
	up := &Upgrader{Origins: []string{upgradeOrigin}}
	app.Get("/", func(c *fiber.Ctx) error { return c.SendString(strings.Repeat("page ", 100)) })
	app.Get("/ws", func(c *fiber.Ctx) error {
		user, err := strconv.ParseInt(c.Query("user"), 10, 64)
		if err != nil {
			return fiber.ErrUnauthorized
		}
		return up.Upgrade(c, func(conn *fws.Conn) {
			client, err := hub.Register(user, user*10, conn)
			if err != nil {
				Refuse(conn, err)
				return
			}
			client.Run(func(msg []byte) { received <- string(msg) })
		})
	})
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
	return ln.Addr().String()
}

func dialUpgrade(t *testing.T, addr string, user int64) *fws.Conn {
	t.Helper()
	d := fws.Dialer{HandshakeTimeout: 5 * time.Second}
	conn, resp, err := d.Dial("ws://"+addr+"/ws?user="+strconv.FormatInt(user, 10), http.Header{"Origin": {upgradeOrigin}})
	if resp != nil {
		resp.Body.Close()
	}
	if err != nil {
		t.Fatalf("dial as user %d: %v", user, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestUpgraderLifecycle runs the hub behind Upgrader, with the connection
// detached from fasthttp's hijack handler (KeepHijackedConns, as serve
// runs it) and inside it (without). After the upgrade fasthttp hands the
// request context and read buffer to other requests; under -race this
// checks that the connection no longer touches them, and that pushes,
// messages larger than the small buffers, a session's end and shutdown
// still reach the socket.
func TestUpgraderLifecycle(t *testing.T) {
	for _, keep := range []bool{true, false} {
		t.Run("KeepHijackedConns="+strconv.FormatBool(keep), func(t *testing.T) {
			hub := NewHub(HubOptions{}, nil)
			received := make(chan string, 16)
			addr := upgradeApp(t, hub, keep, received)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()

			conns := []*fws.Conn{dialUpgrade(t, addr, 1), dialUpgrade(t, addr, 2)}
			for user := int64(1); user <= 2; user++ {
				if err := hub.WaitUserCount(ctx, user, 1); err != nil {
					t.Fatal(err)
				}
			}
			// Plain requests on new and kept-alive connections take the
			// pooled request contexts and readers the upgrades gave back.
			client := &http.Client{Timeout: 5 * time.Second}
			for i := 0; i < 20; i++ {
				resp, err := client.Get("http://" + addr + "/")
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}

			big := bytes.Repeat([]byte("fragment "), 2000) // 18 KB: beyond the read and write buffers
			for i, c := range conns {
				want := append([]byte("push "+strconv.Itoa(i+1)+" "), big...)
				hub.SendToUser(int64(i+1), want)
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, got, err := c.ReadMessage(); err != nil || !bytes.Equal(got, want) {
					t.Fatalf("user %d read %d bytes, %v; want %d bytes", i+1, len(got), err, len(want))
				}
			}
			typing := `{"typing":"7"}` + strings.Repeat(" ", 2000) // beyond the 512-byte read buffer
			if err := conns[0].WriteMessage(fws.TextMessage, []byte(typing)); err != nil {
				t.Fatal(err)
			}
			select {
			case got := <-received:
				if got != typing {
					t.Fatalf("onMessage got %d bytes, want %d", len(got), len(typing))
				}
			case <-time.After(5 * time.Second):
				t.Fatal("client message not received")
			}

			hub.CloseSession(20) // user 2
			conns[1].SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, _, err := conns[1].ReadMessage(); !fws.IsCloseError(err, CloseSessionEnded) {
				t.Fatalf("session end: %v", err)
			}
			if err := hub.WaitUserCount(ctx, 2, 0); err != nil {
				t.Fatal(err)
			}
			// The closed connection is gone for the server too.
			if _, _, err := conns[1].ReadMessage(); err == nil {
				t.Fatal("read after the session's end")
			}

			if err := hub.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			conns[0].SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, _, err := conns[0].ReadMessage(); !fws.IsCloseError(err, CloseRestart) {
				t.Fatalf("shutdown: %v", err)
			}
		})
	}
}

// TestUpgraderRefusesBadHandshakes: anything but a valid handshake from an
// accepted Origin gets an HTTP error, never an upgrade.
func TestUpgraderRefusesBadHandshakes(t *testing.T) {
	hub := NewHub(HubOptions{}, nil)
	addr := upgradeApp(t, hub, true, make(chan string, 1))
	valid := http.Header{
		"Connection":            {"Upgrade"},
		"Upgrade":               {"websocket"},
		"Sec-Websocket-Version": {"13"},
		"Sec-Websocket-Key":     {"dGhlIHNhbXBsZSBub25jZQ=="},
		"Origin":                {upgradeOrigin},
	}
	for _, tc := range []struct {
		name   string
		change func(http.Header)
		want   int
	}{
		{"plain GET", func(h http.Header) { h.Del("Upgrade"); h.Del("Connection") }, http.StatusUpgradeRequired},
		{"old version", func(h http.Header) { h.Set("Sec-Websocket-Version", "8") }, http.StatusBadRequest},
		{"no key", func(h http.Header) { h.Del("Sec-Websocket-Key") }, http.StatusBadRequest},
		{"short key", func(h http.Header) { h.Set("Sec-Websocket-Key", "c2hvcnQ=") }, http.StatusBadRequest},
		{"foreign origin", func(h http.Header) { h.Set("Origin", "http://evil.test") }, http.StatusForbidden},
		{"valid", func(http.Header) {}, http.StatusSwitchingProtocols},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/ws?user=1", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header = valid.Clone()
			tc.change(req.Header)
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want == http.StatusSwitchingProtocols {
				if got := resp.Header.Get("Sec-Websocket-Accept"); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
					t.Fatalf("Sec-WebSocket-Accept %q", got)
				}
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hub.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}
