package auth_test

import (
	"context"
	"testing"
	"time"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestSessionKeepAlive: activity without a request (typing in an open
// page) keeps a valid session alive, at most one write a minute, and
// never revives one that ended, sat idle too long or reached its absolute
// end.
func TestSessionKeepAlive(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		s := f.inv.Sessions
		start := f.clk.Now()
		lastSeen := func(id int64) time.Time {
			t.Helper()
			var seen time.Time
			if err := d.NewSelect().Model((*db.Session)(nil)).Column("last_seen_at").Where("id = ?", id).Scan(ctx, &seen); err != nil {
				t.Fatal(err)
			}
			return seen.UTC()
		}
		session := func(email string) (string, int64) {
			t.Helper()
			tok := signedUpSession(t, f, email)
			sess, err := s.Lookup(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			return tok, sess.ID
		}

		// 29 minutes without a request, then typing: the session lives on,
		// and a request 20 minutes later still finds it.
		tok, id := session("typing@example.nl")
		f.clk.Add(29 * time.Minute)
		end, err := s.KeepAlive(ctx, id)
		if err != nil {
			t.Fatalf("keep alive after 29 minutes: %v", err)
		}
		if want := f.clk.Now().Add(auth.SessionIdle); !end.Equal(want) {
			t.Fatalf("keep alive: the session ends at %v, want %v", end, want)
		}
		if got, want := lastSeen(id), f.clk.Now(); !got.Equal(want) {
			t.Fatalf("last seen %v, want %v", got, want)
		}
		// Not more than once a minute.
		f.clk.Add(40 * time.Second)
		if _, err := s.KeepAlive(ctx, id); err != nil {
			t.Fatal(err)
		}
		if got, want := lastSeen(id), start.Add(29*time.Minute); !got.Equal(want) {
			t.Fatalf("within a minute: last seen %v, want %v (unchanged)", got, want)
		}
		f.clk.Add(20 * time.Second)
		if _, err := s.KeepAlive(ctx, id); err != nil {
			t.Fatal(err)
		}
		if got, want := lastSeen(id), f.clk.Now(); !got.Equal(want) {
			t.Fatalf("a minute later: last seen %v, want %v", got, want)
		}
		f.clk.Add(20 * time.Minute)
		if _, err := s.Lookup(ctx, tok); err != nil {
			t.Fatalf("request 20 minutes after typing: %v", err)
		}

		// Already idle past SessionIdle: not revived, nothing written.
		tok, id = session("idle@example.nl")
		before := lastSeen(id)
		f.clk.Add(auth.SessionIdle)
		_, err = s.KeepAlive(ctx, id)
		wantCode(t, err, apperr.Unauthorized)
		if got := lastSeen(id); !got.Equal(before) {
			t.Fatalf("idle session: last seen moved from %v to %v", before, got)
		}
		_, err = s.Lookup(ctx, tok)
		wantCode(t, err, apperr.Unauthorized)

		// Ended (logged out).
		tok, id = session("ended@example.nl")
		if err := s.End(ctx, tok); err != nil {
			t.Fatal(err)
		}
		f.clk.Add(2 * time.Minute)
		before = lastSeen(id)
		_, err = s.KeepAlive(ctx, id)
		wantCode(t, err, apperr.Unauthorized)
		if got := lastSeen(id); !got.Equal(before) {
			t.Fatalf("ended session: last seen moved from %v to %v", before, got)
		}

		// Typing every 29 minutes keeps a session no longer than its
		// absolute end.
		tok, id = session("long@example.nl")
		created := f.clk.Now()
		for {
			f.clk.Add(29 * time.Minute)
			before = lastSeen(id)
			_, err := s.KeepAlive(ctx, id)
			if f.clk.Now().Before(created.Add(auth.SessionAbsolute)) {
				if err != nil {
					t.Fatalf("at %v, before the absolute end: %v", f.clk.Now().Sub(created), err)
				}
				continue
			}
			wantCode(t, err, apperr.Unauthorized)
			break
		}
		if got := lastSeen(id); !got.Equal(before) {
			t.Fatalf("past the absolute end: last seen moved from %v to %v", before, got)
		}
		_, err = s.Lookup(ctx, tok)
		wantCode(t, err, apperr.Unauthorized)

		// A session that does not exist.
		_, err = s.KeepAlive(ctx, id+1000)
		wantCode(t, err, apperr.Unauthorized)
	})
}

// TestSessionLiveEnds: the live connections' view of their sessions: for
// each live session the end that keepAlive's rule gives it now (idle or
// absolute, whichever first); sessions that ended, sat idle, reached their
// absolute end or are gone are left out.
func TestSessionLiveEnds(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		s := f.inv.Sessions
		session := func(email string) (string, int64) {
			t.Helper()
			tok := signedUpSession(t, f, email)
			sess, err := s.Lookup(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			return tok, sess.ID
		}
		_, idle := session("idle@example.nl")
		f.clk.Add(10 * time.Minute)
		_, live := session("live@example.nl")
		_, late := session("late@example.nl")
		lateEnd := f.clk.Now().Add(5 * time.Minute)
		if _, err := d.NewUpdate().Model((*db.Session)(nil)).Set("expires_at = ?", lateEnd).Where("id = ?", late).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		tok, ended := session("ended@example.nl")
		if err := s.End(ctx, tok); err != nil {
			t.Fatal(err)
		}
		liveEnd := f.clk.Now().Add(auth.SessionIdle)

		f.clk.Add(4 * time.Minute)
		ends, err := s.LiveEnds(ctx, []int64{late})
		if err != nil {
			t.Fatal(err)
		}
		if !ends[late].Equal(lateEnd) {
			t.Fatalf("a session before its absolute end: %v, want until %v", ends, lateEnd)
		}

		f.clk.Add(auth.SessionIdle - 14*time.Minute) // the first session's idle end
		ends, err = s.LiveEnds(ctx, []int64{idle, live, late, ended, ended + 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(ends) != 1 || !ends[live].Equal(liveEnd) {
			t.Fatalf("live ends %v, want only %d until %v", ends, live, liveEnd)
		}
	})
}
