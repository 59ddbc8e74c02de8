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

// TestSessionRemaining: a page asks how long its session has left before
// it warns that the session is about to end. Asking is no activity: it
// never moves the idle timer, and a session that ended, sat idle or
// reached its absolute end has nothing left.
func TestSessionRemaining(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		s := f.inv.Sessions

		tok := signedUpSession(t, f, "remaining@example.nl")
		if _, err := s.Lookup(ctx, tok); err != nil {
			t.Fatal(err)
		}
		f.clk.Add(10 * time.Minute)
		left, ended, err := s.Remaining(ctx, tok)
		if err != nil || ended {
			t.Fatal(err)
		}
		if want := auth.SessionIdle - 10*time.Minute; left != want {
			t.Fatalf("10 minutes idle: %v left, want %v", left, want)
		}
		// Asked again 19 minutes later: still counted from the last
		// activity, not from the question.
		f.clk.Add(19 * time.Minute)
		if left, _, err = s.Remaining(ctx, tok); err != nil || left != time.Minute {
			t.Fatalf("29 minutes idle: %v left (%v), want 1m0s", left, err)
		}
		f.clk.Add(time.Minute)
		// Lapsed, not ended: the page says why it goes (30 minutes idle).
		if left, ended, err = s.Remaining(ctx, tok); err != nil || left != 0 || ended {
			t.Fatalf("30 minutes idle: %v left, ended %v (%v), want 0, not ended", left, ended, err)
		}
		_, err = s.Lookup(ctx, tok)
		wantCode(t, err, apperr.Unauthorized)

		// Near the absolute end the idle timer does not count beyond it.
		tok = signedUpSession(t, f, "absolute@example.nl")
		created := f.clk.Now()
		for f.clk.Now().Before(created.Add(auth.SessionAbsolute - 20*time.Minute)) {
			f.clk.Add(20 * time.Minute)
			if _, err := s.Lookup(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		if left, _, err = s.Remaining(ctx, tok); err != nil || left != created.Add(auth.SessionAbsolute).Sub(f.clk.Now()) {
			t.Fatalf("near the absolute end: %v left (%v), want %v", left, err, created.Add(auth.SessionAbsolute).Sub(f.clk.Now()))
		}

		// Ended (logout, "afmelden", a password change), unknown or
		// malformed: nothing left, no error, and ended, so the page does not
		// blame the person's absence.
		tok = signedUpSession(t, f, "ended@example.nl")
		if err := s.End(ctx, tok); err != nil {
			t.Fatal(err)
		}
		for _, token := range []string{tok, tok[:len(tok)-1] + "x", "", "kort"} {
			if left, ended, err := s.Remaining(ctx, token); err != nil || left != 0 || !ended {
				t.Fatalf("token %q: %v left, ended %v (%v), want 0, ended", token, left, ended, err)
			}
		}
	})
}

// TestSessionExtend: "Ingelogd blijven" in the warning moves the idle
// timer at once (the person asked; the once-a-minute rule of requests is
// no reason to let the session end), never past the absolute end and
// never for a session that already ended.
func TestSessionExtend(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		s := f.inv.Sessions

		tok := signedUpSession(t, f, "extend@example.nl")
		sess, err := s.Lookup(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Add(27 * time.Minute)
		// The warning's page made a request a moment ago in this process
		// (a claim of the minute): the extension still writes.
		if _, err := s.Lookup(ctx, tok); err != nil {
			t.Fatal(err)
		}
		f.clk.Add(30 * time.Second)
		left, err := s.Extend(ctx, sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		if left != auth.SessionIdle {
			t.Fatalf("after extending: %v left, want %v", left, auth.SessionIdle)
		}
		if left, _, err = s.Remaining(ctx, tok); err != nil || left != auth.SessionIdle {
			t.Fatalf("asked after extending: %v left (%v), want %v", left, err, auth.SessionIdle)
		}

		// Too late: not revived.
		f.clk.Add(auth.SessionIdle)
		_, err = s.Extend(ctx, sess.ID)
		wantCode(t, err, apperr.Unauthorized)
		_, err = s.Lookup(ctx, tok)
		wantCode(t, err, apperr.Unauthorized)

		// Never past the absolute end.
		tok = signedUpSession(t, f, "late@example.nl")
		if sess, err = s.Lookup(ctx, tok); err != nil {
			t.Fatal(err)
		}
		created := f.clk.Now()
		for i := 0; i < 28; i++ { // 11 h 40 min
			f.clk.Add(25 * time.Minute)
			if _, err := s.Extend(ctx, sess.ID); err != nil {
				t.Fatalf("at %v: %v", f.clk.Now().Sub(created), err)
			}
		}
		f.clk.Add(15 * time.Minute)
		if left, err = s.Extend(ctx, sess.ID); err != nil || left != created.Add(auth.SessionAbsolute).Sub(f.clk.Now()) {
			t.Fatalf("near the absolute end: %v left (%v), want %v", left, err, created.Add(auth.SessionAbsolute).Sub(f.clk.Now()))
		}

		// Ended.
		tok = signedUpSession(t, f, "gone@example.nl")
		if sess, err = s.Lookup(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if err := s.End(ctx, tok); err != nil {
			t.Fatal(err)
		}
		_, err = s.Extend(ctx, sess.ID)
		wantCode(t, err, apperr.Unauthorized)
	})
}
