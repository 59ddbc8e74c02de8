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

// TestSessionLapsed: a session that sat idle or reached its absolute end
// still names its user for a day (so that a message typed meanwhile can be
// kept for them), but one that was ended, an unknown token, a live
// session, one the cleanup deleted and one of a disabled account name
// nobody; and asking revives nothing.
func TestSessionLapsed(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		s := f.inv.Sessions
		tok, _ := f.onboarded(t, "lapse@example.nl")
		id := f.userID(t, "lapse@example.nl")
		lapsed := func(what, tok string, want int64) {
			t.Helper()
			got, err := s.Lapsed(ctx, tok)
			if want == 0 {
				if apperr.CodeOf(err) != apperr.Unauthorized {
					t.Errorf("%s: user %d, %v; want nobody", what, got, err)
				}
				return
			}
			if err != nil || got != want {
				t.Errorf("%s: user %d, %v; want %d", what, got, err, want)
			}
		}
		wantOver := func(what, tok string) {
			t.Helper()
			if _, err := s.Lookup(ctx, tok); apperr.CodeOf(err) != apperr.Unauthorized {
				t.Errorf("%s: the session lives again (%v)", what, err)
			}
		}

		lapsed("live", tok, 0)
		lapsed("unknown", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 0)
		lapsed("junk", "junk", 0)

		// Idle: the user, for a day after it lapsed; never revived.
		f.clk.Add(auth.SessionIdle + time.Minute)
		lapsed("idle", tok, id)
		wantOver("idle", tok)
		lapsed("idle, asked again", tok, id)
		f.clk.Add(23 * time.Hour)
		lapsed("idle a day", tok, id)
		f.clk.Add(2 * time.Hour)
		lapsed("idle for more than a day", tok, 0)

		// At its absolute end while in use.
		tok = f.fullLogin(t, "lapse@example.nl", goodPassword, "", recoveryPhone)
		for range auth.SessionAbsolute / (20 * time.Minute) {
			f.clk.Add(20 * time.Minute)
			if _, err := s.Lookup(ctx, tok); err != nil {
				break
			}
		}
		lapsed("absolute end", tok, id)
		wantOver("absolute end", tok)

		// Purged by the cleanup.
		f.clk.Add(25 * time.Hour)
		if _, err := auth.PurgeSessions(ctx, d, f.clk.Now()); err != nil {
			t.Fatal(err)
		}
		lapsed("purged", tok, 0)

		// Ended explicitly, then idle.
		tok = f.fullLogin(t, "lapse@example.nl", goodPassword, "", recoveryPhone)
		if err := s.End(ctx, tok); err != nil {
			t.Fatal(err)
		}
		f.clk.Add(auth.SessionIdle + time.Minute)
		lapsed("logged out", tok, 0)

		// A login that never passed the second step.
		res, err := f.acc.Login(ctx, "lapse@example.nl", goodPassword, "127.0.0.1", "t")
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Add(auth.SessionIdle + time.Minute)
		lapsed("password only", res.Token, 0)

		// A disabled account.
		tok = f.fullLogin(t, "lapse@example.nl", goodPassword, "", recoveryPhone)
		f.clk.Add(auth.SessionIdle + time.Minute)
		lapsed("idle before disabled", tok, id)
		if _, err := d.NewUpdate().Model((*db.User)(nil)).Set("status = ?", db.StatusDisabled).Where("id = ?", id).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		lapsed("disabled", tok, 0)
	})
}
