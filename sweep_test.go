package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
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
	defer a.Close()
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
	session := func(token string) int64 {
		s := &db.Session{TokenHash: []byte(token), UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(auth.SessionAbsolute), IP: "127.0.0.1"}
		if _, err := a.db.NewInsert().Model(s).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		return s.ID
	}
	live, gone := session("live"), session("gone")

	hub := realtime.NewHub(realtime.HubOptions{}, nil)
	defer func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := hub.Shutdown(sctx); err != nil {
			t.Error(err)
		}
	}()
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

// idleConn is a peer that sends nothing and reads everything, until the
// hub closes it.
type idleConn struct {
	once   sync.Once
	closed chan struct{}
}

func newIdleConn() *idleConn { return &idleConn{closed: make(chan struct{})} }

func (c *idleConn) ReadMessage() (int, []byte, error) {
	<-c.closed
	return 0, nil, net.ErrClosed
}
func (c *idleConn) WriteMessage(int, []byte) error            { return nil }
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
