package auth_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
)

// touchLog counts the statements that refresh a session's idle timer, and
// holds the first of them back for a moment, so that requests running
// beside it certainly read the session before it is written.
type touchLog struct {
	mu      sync.Mutex
	touches int
}

func (l *touchLog) BeforeQuery(ctx context.Context, ev *bun.QueryEvent) context.Context {
	if strings.Contains(ev.Query, `UPDATE "sessions" AS "session" SET last_seen_at`) {
		l.mu.Lock()
		l.touches++
		first := l.touches == 1
		l.mu.Unlock()
		if first {
			time.Sleep(100 * time.Millisecond)
		}
	}
	return ctx
}

func (l *touchLog) AfterQuery(context.Context, *bun.QueryEvent) {}

func (l *touchLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.touches
}

// TestSessionTouchedOnce: the requests of one session that arrive together
// once its idle timer is due refresh it once, not once each (each a write
// that waits for the one before on the same row: a page and its partials,
// or a burst, queued behind one another); a minute later it is refreshed
// again.
func TestSessionTouchedOnce(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		tok := signedUpSession(t, f, "touch@example.nl")
		log := &touchLog{}
		d.AddQueryHook(log)
		for round := 1; round <= 2; round++ {
			f.clk.Add(2 * time.Minute)
			var wg sync.WaitGroup
			for range 12 {
				wg.Go(func() {
					if _, err := f.inv.Sessions.Lookup(ctx, tok); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if n := log.count(); n != round {
				t.Fatalf("round %d: the session was refreshed %d times in all, want %d", round, n, round)
			}
			var seen time.Time
			if err := d.NewSelect().Model((*db.Session)(nil)).Column("last_seen_at").Where("token_hash IS NOT NULL").
				OrderExpr("id DESC").Limit(1).Scan(ctx, &seen); err != nil {
				t.Fatal(err)
			}
			if !seen.Equal(f.clk.Now()) {
				t.Errorf("round %d: last seen %v, want %v", round, seen, f.clk.Now())
			}
		}
	})
}

// signedUpSession invites email and accepts the invitation, and returns
// the new session's token.
func signedUpSession(t *testing.T, f *fixture, email string) string {
	t.Helper()
	ctx := context.Background()
	link, _, err := f.inv.Invite(ctx, auth.InviteInput{Email: email, OrgID: f.org.ID})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := f.inv.Accept(ctx, token(link), "127.0.0.1", "t")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
