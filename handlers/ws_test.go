package handlers

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	fws "github.com/fasthttp/websocket"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/realtime"
)

// liveApp is a realApp with the live layer as serve wires it (hub, local
// broker, relay with LiveRenderer, messaging publishing to the broker),
// listening on a real port so that WebSocket clients can dial it.
type liveApp struct {
	*realApp
	hub  *realtime.Hub
	addr string
}

func newLiveApp(t testing.TB) *liveApp { return newLiveAppOn(t, dbtest.MustOpenSQLite(t)) }

// newLiveAppOn is newLiveApp over d. Like serve, the relay admits only
// users whose stage is done (auth.LiveAdmitted), and pushes only to
// sockets whose session is live (auth.Sessions.LiveEnds, on the test
// clock).
func newLiveAppOn(t testing.TB, d *db.DB) *liveApp {
	t.Helper()
	hub := realtime.NewHub(realtime.HubOptions{}, nil)
	broker := realtime.NewLocalBroker()
	ra := newRealAppOn(t, d, func(d *Deps) { d.Hub, d.Live = hub, broker })
	ra.msg.Events = LiveEvents{Broker: broker}
	ra.acc.SessionsEnded = LiveEvents{Broker: broker}.SessionsEnded
	ra.msg.SessionsEnded = ra.acc.SessionsEnded
	ra.acc.SessionRenewed = LiveEvents{Broker: broker}.SessionRenewed
	stopRelay := realtime.RelayWith(context.Background(), broker, hub, LiveRenderer(ra.msg, ra.clk.Now), nil,
		realtime.RelayOptions{Admit: func(ctx context.Context, ids []int64) ([]int64, error) { return auth.LiveAdmitted(ctx, ra.d, ids) },
			SessionEnds: ra.acc.Sessions.LiveEnds, Now: ra.clk.Now})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- ra.app.Listener(ln) }()
	t.Cleanup(func() {
		// The order of serve: sockets, HTTP, relay, broker.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := hub.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		if err := ra.app.ShutdownWithTimeout(5 * time.Second); err != nil {
			t.Error(err)
		}
		<-served
		stopRelay()
		broker.Close()
	})
	return &liveApp{realApp: ra, hub: hub, addr: ln.Addr().String()}
}

// dial opens /ws with the session cookie of token ("" for none) and the
// Origin header origin ("" for none).
func (la *liveApp) dial(t testing.TB, token, origin string) (*fws.Conn, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	if token != "" {
		h.Set("Cookie", sessionCookie+"="+token)
	}
	d := fws.Dialer{HandshakeTimeout: 5 * time.Second}
	conn, resp, err := d.Dial("ws://"+la.addr+"/ws", h)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if conn != nil {
		t.Cleanup(func() { conn.Close() })
	}
	return conn, resp, err
}

// connect opens a live connection of u, waits until the hub has registered
// it and reads the greeting.
func (la *liveApp) connect(t testing.TB, u *db.User, token string) *fws.Conn {
	t.Helper()
	before := la.hub.UserCount(u.ID)
	conn, _, err := la.dial(t, token, testBase)
	if err != nil {
		t.Fatalf("dial as %s: %v", u.Email, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := la.hub.WaitUserCount(ctx, u.ID, before+1); err != nil {
		t.Fatal(err)
	}
	if got := readLive(t, conn); !strings.Contains(got, "data-live-ready") {
		t.Fatalf("first push %q, want the greeting", got)
	}
	return conn
}

// readLive returns the next push, failing after 5 s.
func readLive(t testing.TB, conn *fws.Conn) string {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	typ, msg, err := conn.ReadMessage()
	if err != nil {
		t.Fatalf("read push: %v", err)
	}
	if typ != fws.TextMessage {
		t.Fatalf("push of type %d", typ)
	}
	return string(msg)
}

// readLiveUntil reads pushes until one contains want and returns it.
func readLiveUntil(t testing.TB, conn *fws.Conn, want string) string {
	t.Helper()
	for i := 0; i < 20; i++ {
		if msg := readLive(t, conn); strings.Contains(msg, want) {
			return msg
		}
	}
	t.Fatalf("no push containing %q", want)
	return ""
}

func TestLiveRefusesWithoutSession(t *testing.T) {
	la := newLiveApp(t)
	for _, token := range []string{"", "not-a-session"} {
		conn, resp, err := la.dial(t, token, testBase)
		if err == nil || conn != nil {
			t.Fatalf("token %q: upgraded", token)
		}
		if resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("token %q: %v, want 401", token, resp)
		}
	}
	// Signed in, but the second factor not passed yet.
	u := la.storeUser(t, "jan@example.nl", false, "Jan", "", "Berg", "nl")
	token, err := la.acc.Sessions.Create(context.Background(), la.d, u.ID, "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, resp, err := la.dial(t, token, testBase); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("session before the second factor: %v, %v; want 403", resp, err)
	}
	if la.hub.Count() != 0 {
		t.Fatalf("%d connections registered", la.hub.Count())
	}
}

func TestLiveRefusesForeignOrigin(t *testing.T) {
	la := newLiveApp(t)
	u := la.storeUser(t, "jan@example.nl", false, "Jan", "", "Berg", "nl")
	token := la.sessionToken(t, u)
	for _, origin := range []string{"", "http://evil.test", "https://dialoog.test", "http://dialoog.test.evil.test", "null"} {
		conn, resp, err := la.dial(t, token, origin)
		if err == nil || conn != nil {
			t.Fatalf("origin %q: upgraded", origin)
		}
		if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("origin %q: %v, want 403", origin, resp)
		}
	}
	// A plain GET (no upgrade) from the right page is no WebSocket either.
	b := la.signIn(t, u)
	resp, _ := b.get("/ws", "Origin", testBase)
	wantStatus(t, resp, http.StatusUpgradeRequired)
	if la.hub.Count() != 0 {
		t.Fatalf("%d connections registered", la.hub.Count())
	}
}

func TestOriginOf(t *testing.T) {
	for in, want := range map[string]string{
		"http://localhost:8080":          "http://localhost:8080",
		"https://Dialoog.Example":        "https://dialoog.example",
		"https://dialoog.example:443/x/": "https://dialoog.example",
		"http://dialoog.example:80":      "http://dialoog.example",
		"http://dialoog.example:443":     "http://dialoog.example:443",
	} {
		u, err := url.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := originOf(u); got != want {
			t.Errorf("originOf(%s) = %s, want %s", in, got, want)
		}
	}
}

// TestLivePushes follows a conversation over live connections: the new
// message reaches the employee as out-of-band swaps rendered by the page
// components, typing reaches the other participant only, a read receipt
// reaches the sender.
func TestLivePushes(t *testing.T) {
	la := newLiveApp(t)
	hr := la.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	emp := la.person(t, "jan@example.nl", false, "Jan", "van der", "Berg", "nl")
	empConn := la.connect(t, emp.u, emp.b.session())
	hrConn := la.connect(t, hr.u, hr.b.session())

	threadID := la.compose(t, hr.u, "Live test", "Hoe gaat het?", emp.u.Email)
	msgID := la.lastMessageID(t, threadID)
	got := readLiveUntil(t, empConn, "Live test")
	wantContains(t, got,
		// The inbox line moves to the top of the live list.
		`hx-swap-oob="delete:#thread-list[data-live] &gt; #thread-`+itoa(threadID)+`"`,
		`<div hx-swap-oob="afterbegin:#thread-list[data-live]"><li id="thread-`+itoa(threadID)+`" class="thread thread--unread">`,
		`<span class="thread__org">OSAW</span>`, "Hanna de Vries", "1 ongelezen",
		// The header and the inbox's count.
		`<a id="inbox-link" class="account__inbox" href="/berichten" hx-swap-oob="innerHTML">Berichten (1)</a>`,
		`<p id="inbox-unread" class="inbox-unread" hx-swap-oob="true">Je hebt 1 ongelezen bericht.</p>`,
		// The message, appended to the open conversation, which reads it.
		`<li id="message-`+itoa(msgID)+`" hx-swap-oob="delete"></li>`,
		`<div hx-swap-oob="beforeend:#messages-`+itoa(threadID)+`"><li id="message-`+itoa(msgID)+`" class="message message--unread">`,
		"Hoe gaat het?",
		`<div id="read-`+itoa(threadID)+`" hx-post="/berichten/`+itoa(threadID)+`/gelezen" hx-trigger="load"`,
		// Screen readers hear of it.
		`<div id="live-status" hx-swap-oob="innerHTML"><p>Nieuw bericht van OSAW: Live test</p></div>`,
	)
	// No CSRF token: the push is shared by the user's tabs (app.js fills the
	// fields in from the page).
	wantContains(t, got, `name="_csrf" value=""`)
	wantNotContains(t, got, "<script", emp.b.csrf())
	// The sender's own tabs get it too, as their own message: no
	// announcement, nothing to mark read.
	mine := readLiveUntil(t, hrConn, "Live test")
	wantContains(t, mine, `class="message message--mine"`, "Hoe gaat het?")
	wantNotContains(t, mine, "live-status", "/gelezen")

	// Typing: the employee hears of it, the typist does not; a conversation
	// the typist is not in tells nobody.
	other := la.storeUser(t, "bram@osaw.nl", true, "Bram", "", "Arts", "nl")
	foreign := la.compose(t, other, "Niet van Hanna", "x", "piet@example.nl")
	if err := hrConn.WriteMessage(fws.TextMessage, []byte(`{"typing":"`+itoa(foreign)+`","HEADERS":{}}`)); err != nil {
		t.Fatal(err)
	}
	if err := hrConn.WriteMessage(fws.TextMessage, []byte(`{"typing":"`+itoa(threadID)+`","HEADERS":{"HX-Request":"true"}}`)); err != nil {
		t.Fatal(err)
	}
	typing := readLive(t, empConn)
	wantContains(t, typing, `<p id="typing-`+itoa(threadID)+`" class="typing" hx-swap-oob="true">Hanna de Vries is aan het typen…</p>`)

	// The employee reads it: the sender's message gets its tick.
	if _, err := la.msg.MarkRead(context.Background(), emp.u.Identity(), threadID); err != nil {
		t.Fatal(err)
	}
	read := readLiveUntil(t, hrConn, "Gelezen door")
	wantContains(t, read, `<li id="message-`+itoa(msgID)+`" class="message message--mine">`, "Gelezen door Jan van der Berg")
	// And the reader's other tabs lose the unread count.
	wantContains(t, readLiveUntil(t, empConn, "inbox-link"), `hx-swap-oob="innerHTML">Berichten</a>`)
}

// TestLiveLogoutClosesSocket: logging out ends the session's live
// connections with 1008 (no reconnect); another session of the same user
// keeps its own.
func TestLiveLogoutClosesSocket(t *testing.T) {
	la := newLiveApp(t)
	emp := la.person(t, "jan@example.nl", false, "Jan", "van der", "Berg", "nl")
	conn := la.connect(t, emp.u, emp.b.session())
	phone := la.signIn(t, emp.u)
	phoneConn := la.connect(t, emp.u, phone.session())

	resp, _ := emp.b.post("/uitloggen", nil)
	wantStatus(t, resp, http.StatusSeeOther)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := conn.ReadMessage()
	var ce *fws.CloseError
	if !errors.As(err, &ce) || ce.Code != fws.ClosePolicyViolation {
		t.Fatalf("after logout: %v, want close 1008", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := la.hub.WaitUserCount(ctx, emp.u.ID, 1); err != nil {
		t.Fatal(err)
	}
	// The ended session cannot connect again.
	if _, resp, err := la.dial(t, emp.b.session(), testBase); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("ended session reconnects: %v, %v", resp, err)
	}
	// The other session still gets pushes.
	hr := la.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	la.compose(t, hr.u, "Na het uitloggen", "x", emp.u.Email)
	readLiveUntil(t, phoneConn, "Na het uitloggen")
}

// TestLiveRendererChecksParticipants: a push is rendered only for what the
// user may see; a resync asks the page to re-fetch.
func TestLiveRendererChecksParticipants(t *testing.T) {
	ra := newRealApp(t)
	ctx := context.Background()
	hr := ra.storeUser(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	emp := ra.storeUser(t, "jan@example.nl", false, "Jan", "", "Berg", "en")
	outsider := ra.storeUser(t, "kim@example.nl", false, "Kim", "", "Jansen", "nl")
	threadID := ra.compose(t, hr, "Verzuim", "Hoi", emp.Email)
	msgID := ra.lastMessageID(t, threadID)
	batch := LiveRenderer(ra.msg, ra.clk.Now)
	render := func(ctx context.Context, ev realtime.Event, userID int64) ([]byte, error) {
		var got []byte
		err := batch(ctx, ev, []int64{userID}, func(id int64, msg []byte) {
			if id != userID || got != nil {
				t.Errorf("pushed to %d (again: %v)", id, got != nil)
			}
			got = msg
		})
		return got, err
	}

	ev := realtime.Event{Kind: realtime.KindMessage, ThreadID: threadID, MessageID: msgID, ActorID: hr.ID}
	for _, kind := range []string{realtime.KindMessage, realtime.KindRead, messaging.EventDeleted, realtime.KindTyping} {
		ev.Kind = kind
		if got, err := render(ctx, ev, outsider.ID); err != nil || got != nil {
			t.Errorf("%s for an outsider: %q, %v", kind, got, err)
		}
	}
	// In the user's own language.
	ev.Kind = realtime.KindMessage
	got, err := render(ctx, ev, emp.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantContains(t, string(got), "New message from OSAW: Verzuim", "Messages (1)")
	ev.Kind = realtime.KindTyping
	got, err = render(ctx, ev, emp.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantContains(t, string(got), "Hanna de Vries is typing…")
	if got, err := render(ctx, ev, hr.ID); err != nil || got != nil {
		t.Errorf("typing for the typist: %q, %v", got, err)
	}
	got, err = render(ctx, realtime.Event{Kind: realtime.KindResync}, emp.ID)
	if err != nil || !strings.Contains(string(got), "data-live-resync") {
		t.Fatalf("resync: %q, %v", got, err)
	}
	if got, err := render(ctx, realtime.Event{Kind: "unknown"}, emp.ID); err != nil || got != nil {
		t.Errorf("unknown kind: %q, %v", got, err)
	}
}

// TestResyncKeepsHistory: app.js's re-fetch after a reconnect gets the
// partial without a new history entry.
func TestResyncKeepsHistory(t *testing.T) {
	ra := newRealApp(t)
	emp := ra.person(t, "jan@example.nl", false, "Jan", "", "Berg", "nl")
	resp, _ := emp.b.get("/berichten", "HX-Request", "true")
	if resp.Header.Get("HX-Push-Url") == "" {
		t.Fatal("a normal partial has no HX-Push-Url")
	}
	resp, body := emp.b.get("/berichten", "HX-Request", "true", "X-Dialoog-Resync", "true")
	wantStatus(t, resp, http.StatusOK)
	if got := resp.Header.Get("HX-Push-Url"); got != "" {
		t.Fatalf("resync pushes %q into the history", got)
	}
	wantContains(t, body, "<title>Berichten – Dialoog</title>", `<ul id="thread-list"`)
}
