package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/auth"
	"dialoog/config"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/realtime"
)

// TestSweepClosesDeletedSessions: the session sweep closes the sockets of
// sessions whose rows are gone (the account was deleted, `dialoog demo`
// ran again), not only of rows that say they ended; it leaves live ones
// open.
func TestSweepClosesDeletedSessions(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testSweepClosesDeletedSessions(t, "") })
	t.Run("postgres", func(t *testing.T) { testSweepClosesDeletedSessions(t, dbtest.NewTestSchema(t)) })
}

func testSweepClosesDeletedSessions(t *testing.T, databaseURL string) {
	ctx := context.Background()
	a, u, session := liveFixture(t, databaseURL)
	now := time.Now().UTC()
	live, gone := session("live", now), session("gone", now)

	hub := realtime.NewHub(realtime.HubOptions{}, nil)
	defer shutdownHub(t, hub)
	for _, id := range []int64{live, gone} {
		c, err := hub.Register(u.ID, id, newIdleConn())
		if err != nil {
			t.Fatal(err)
		}
		go c.Run(nil)
	}
	if _, err := a.db.NewDelete().Model((*db.Session)(nil)).Where("id = ?", gone).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	sweepCtx, stop := context.WithCancel(ctx)
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		a.sweepLiveSessions(sweepCtx, hub, 10*time.Millisecond)
	}()
	defer func() { stop(); <-swept }()

	wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := hub.WaitUserCount(wctx, u.ID, 1); err != nil {
		t.Fatalf("the socket of the deleted session stays open: %v", err)
	}
	// The live session's socket stays.
	time.Sleep(50 * time.Millisecond)
	if n := hub.UserCount(u.ID); n != 1 {
		t.Fatalf("%d sockets after the sweep, want the live one", n)
	}
}

// TestRelayClosesLapsedSessions: serve's relay pushes nothing to the
// socket of a session that sat idle past auth.SessionIdle and closes it at
// the push, without waiting for the session sweep (which does not run
// here); the socket of a live session of the same user gets the push.
func TestRelayClosesLapsedSessions(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testRelayClosesLapsedSessions(t, "") })
	t.Run("postgres", func(t *testing.T) { testRelayClosesLapsedSessions(t, dbtest.NewTestSchema(t)) })
}

func testRelayClosesLapsedSessions(t *testing.T, databaseURL string) {
	ctx := context.Background()
	a, u, session := liveFixture(t, databaseURL)
	now := time.Now().UTC()
	live, lapsed := session("live", now), session("lapsed", now.Add(-auth.SessionIdle-time.Minute))

	hub := realtime.NewHub(realtime.HubOptions{}, nil)
	defer shutdownHub(t, hub)
	conns := map[int64]*idleConn{live: newIdleConn(), lapsed: newIdleConn()}
	for id, conn := range conns {
		c, err := hub.Register(u.ID, id, conn)
		if err != nil {
			t.Fatal(err)
		}
		go c.Run(nil)
	}
	broker := realtime.NewLocalBroker()
	defer broker.Close()
	render := func(_ context.Context, _ realtime.Event, users []int64, send func(int64, []byte)) error {
		for _, id := range users {
			send(id, []byte("Geheime inhoud"))
		}
		return nil
	}
	stopRelay := realtime.RelayWith(ctx, broker, hub, render, nil, a.relayOptions())
	defer stopRelay()
	if err := broker.Publish(ctx, realtime.Event{Kind: realtime.KindMessage, UserIDs: []int64{u.ID}, ThreadID: 1, MessageID: 1}); err != nil {
		t.Fatal(err)
	}

	wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := hub.WaitUserCount(wctx, u.ID, 1); err != nil {
		t.Fatalf("the socket of the lapsed session stays open: %v", err)
	}
	select {
	case <-conns[lapsed].closed:
	case <-wctx.Done():
		t.Fatal("the socket of the lapsed session is not closed")
	}
	for !conns[live].wrote.Load() {
		if wctx.Err() != nil {
			t.Fatal("the live session's socket got no push")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if conns[lapsed].wrote.Load() {
		t.Fatal("the lapsed session's socket got the push")
	}
}

// liveFixture opens the app on databaseURL ("" for SQLite) with a user
// who finished the first visit; session stores a session of theirs, last
// seen at lastSeen, and returns its id.
func liveFixture(t *testing.T, databaseURL string) (*app, *db.User, func(token string, lastSeen time.Time) int64) {
	t.Helper()
	ctx := context.Background()
	cfg, _, err := config.Load(func(k string) string {
		return map[string]string{"DIALOOG_DATA_DIR": t.TempDir(), "DIALOOG_BASE_URL": "http://dialoog.test", "DIALOOG_DATABASE_URL": databaseURL}[k]
	}, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a, err := openApp(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if err := auth.EnsureTerms(ctx, a.db, time.Now); err != nil {
		t.Fatal(err)
	}
	terms, err := auth.CurrentTerms(ctx, a.db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	done := bun.NullTime{Time: now}
	u := &db.User{Email: "jan@example.nl", Kind: db.KindExternal, Status: db.StatusActive, Language: "nl", Gender: "unknown",
		CreatedAt: now, UpdatedAt: now, SecondFactorDoneAt: done, RecoveryConfirmedAt: done, ProfileCompletedAt: done}
	if _, err := a.db.NewInsert().Model(u).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.db.NewUpdate().Model(&db.Password{ID: u.ID, Hash: "x"}).WherePK().Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.db.NewInsert().Model(&db.TermsAcceptance{UserID: u.ID, TermsVersionID: terms.ID, IP: "127.0.0.1", AcceptedAt: now}).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.db.NewInsert().Model(&db.SecondFactor{UserID: u.ID, Kind: db.FactorSMS, Phone: "+31612345678", VerifiedAt: done, CreatedAt: now}).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	session := func(token string, lastSeen time.Time) int64 {
		t.Helper()
		s := &db.Session{TokenHash: []byte(token), UserID: u.ID, CreatedAt: lastSeen, LastSeenAt: lastSeen, ExpiresAt: lastSeen.Add(auth.SessionAbsolute), IP: "127.0.0.1"}
		if _, err := a.db.NewInsert().Model(s).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		return s.ID
	}
	return a, u, session
}

func shutdownHub(t *testing.T, hub *realtime.Hub) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hub.Shutdown(ctx); err != nil {
		t.Error(err)
	}
}

// idleConn is a peer that sends nothing and reads everything, until the
// hub closes it.
type idleConn struct {
	once   sync.Once
	closed chan struct{}
	wrote  atomic.Bool // a message was written to it
}

func newIdleConn() *idleConn { return &idleConn{closed: make(chan struct{})} }

func (c *idleConn) ReadMessage() (int, []byte, error) {
	<-c.closed
	return 0, nil, net.ErrClosed
}
func (c *idleConn) WriteMessage(int, []byte) error            { c.wrote.Store(true); return nil }
func (c *idleConn) WriteControl(int, []byte, time.Time) error { return nil }
func (c *idleConn) SetReadLimit(int64)                        {}
func (c *idleConn) SetWriteDeadline(time.Time) error          { return nil }
func (c *idleConn) SetPongHandler(func(string) error)         {}
func (c *idleConn) Close() error                              { c.once.Do(func() { close(c.closed) }); return nil }
func (c *idleConn) SetReadDeadline(t time.Time) error {
	if !t.After(time.Now()) {
		c.Close()
	}
	return nil
}
