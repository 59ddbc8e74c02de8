package main

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	fws "github.com/fasthttp/websocket"
)

// TestRealServerPush keeps the bench's real server honest as the
// application changes: seeded users connect to /ws with their session
// cookies, and a push (a reply POST) reaches both participants' sockets
// with its scheduled time in the fragment.
func TestRealServerPush(t *testing.T) {
	srv, err := startReal(context.Background(), 4, runConfig{body: 200})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.stop(ctx); err != nil {
			t.Error(err)
		}
	})
	args := map[string]string{}
	for i := 0; i+1 < len(srv.clientArgs); i += 2 {
		args[srv.clientArgs[i]] = srv.clientArgs[i+1]
	}
	rs := srv.real
	var conns []*fws.Conn
	for i := 0; i < 2; i++ {
		h := http.Header{"Origin": {args["-origin"]}, "Cookie": {args["-cookie"] + "=" + rs.tokens[i]}}
		conn, resp, err := fws.DefaultDialer.Dial("ws://"+srv.addr+"/ws", h)
		if resp != nil {
			resp.Body.Close()
		}
		if err != nil {
			t.Fatalf("dial as user %d: %v", i, err)
		}
		t.Cleanup(func() { conn.Close() })
		conns = append(conns, conn)
	}
	if err := waitFor(5*time.Second, func() bool { return srv.count() == 2 }); err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	if err := srv.push(at, 0, 0); err != nil {
		t.Fatal(err)
	}
	want := marker + strconv.FormatInt(at.UnixNano(), 10)
	for i, conn := range conns {
		found := false
		for !found {
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, msg, err := conn.ReadMessage()
			if err != nil {
				t.Fatalf("user %d: %v", i, err)
			}
			found = strings.Contains(string(msg), want)
		}
	}
}
