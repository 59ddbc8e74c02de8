package messaging_test

import (
	"context"
	"testing"
	"time"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// An absence period is a range of Dutch dates: it starts and ends at
// midnight in Europe/Amsterdam (winter and summer time), not at midnight
// UTC, and answers once per conversation in the period.
func TestAbsenceFollowsLocalMidnight(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
		setAway := func(from, until string) {
			t.Helper()
			t0, _ := time.Parse("2006-01-02", from)
			t1, _ := time.Parse("2006-01-02", until)
			if _, err := d.NewUpdate().Model((*db.User)(nil)).Set("away_enabled = ?", true).
				Set("away_sealed = ?", auth.SealAway(f.v, jan.ID, "Ik ben afwezig")).Set("away_changed_at = ?", f.clk.Now().Add(-30*24*time.Hour)).
				Set("away_from = ?", t0).Set("away_until = ?", t1).Where("id = ?", jan.ID).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		// answered composes a new conversation to Jan at the instant at
		// and says whether his absence reply came.
		answered := func(at string) bool {
			t.Helper()
			now, err := time.Parse(time.RFC3339, at)
			if err != nil {
				t.Fatal(err)
			}
			f.clk.mu.Lock()
			f.clk.t = now
			f.clk.mu.Unlock()
			tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Vraag " + at, Body: "?"})
			if err != nil {
				t.Fatal(err)
			}
			v, _ := f.svc.Thread(ctx, f.hr.Identity(), tid)
			return len(v.Messages) == 2 && v.Messages[1].AutoReply
		}
		setAway("2026-03-10", "2026-03-12") // winter time, UTC+1
		for at, want := range map[string]bool{
			"2026-03-09T22:59:00Z": false, // 23:59 on the 9th
			"2026-03-09T23:00:00Z": true,  // 00:00 on the 10th
			"2026-03-12T22:59:00Z": true,  // 23:59 on the 12th
			"2026-03-12T23:00:00Z": false, // 00:00 on the 13th
		} {
			if got := answered(at); got != want {
				t.Errorf("winter %s: absence reply %v, want %v", at, got, want)
			}
		}
		setAway("2026-04-01", "2026-04-01") // summer time, UTC+2
		for at, want := range map[string]bool{
			"2026-03-31T21:59:00Z": false,
			"2026-03-31T22:00:00Z": true,
			"2026-04-01T21:59:00Z": true,
			"2026-04-01T22:00:00Z": false,
		} {
			if got := answered(at); got != want {
				t.Errorf("summer %s: absence reply %v, want %v", at, got, want)
			}
		}
	})
}

// TestAutoReplyMailsNotItsCause: the person whose message an absence
// reply answers is in Dialoog at that moment and sees the reply there; a
// mail (or push) "Je hebt een nieuw bericht van ..." seconds after sending
// would only make them log in again to read what they just saw. The other
// participants are told of the conversation as always.
func TestAutoReplyMailsNotItsCause(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
		if _, err := d.NewUpdate().Model((*db.User)(nil)).Set("away_enabled = ?", true).
			Set("away_sealed = ?", auth.SealAway(f.v, f.hr.ID, "Ik ben op vakantie")).Set("away_changed_at = ?", f.clk.Now()).
			Where("id = ?", f.hr.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		// The boss writes to Jan and to the absent HR officer: one auto-reply.
		tid, err := f.svc.Compose(ctx, f.boss.Identity(), messaging.ComposeInput{To: []string{jan.Email, f.hr.Email}, Subject: "Verzuim", Body: "Hoe gaat het?"})
		if err != nil {
			t.Fatal(err)
		}
		v, _ := f.svc.Thread(ctx, f.boss.Identity(), tid)
		if len(v.Messages) != 2 || !v.Messages[1].AutoReply {
			t.Fatalf("want the message and one auto-reply, got %d messages", len(v.Messages))
		}
		if got := len(f.mailsTo(t, f.boss.Email)); got != 0 {
			t.Errorf("the sender got %d mails about the auto-reply to their own message, want 0", got)
		}
		if got := len(f.mailsTo(t, jan.Email)); got != 1 {
			t.Errorf("jan: %d mails, want 1 (the message and its auto-reply in one)", got)
		}
		// An outsider answers a conversation the absent HR officer
		// started, having read it: no mail to the outsider about the
		// reply to what they just wrote.
		f.clk.Add(messaging.NotifyEvery + time.Minute)
		t2, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Afspraak", Body: "Dinsdag?"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.MarkRead(ctx, jan.Identity(), t2); err != nil {
			t.Fatal(err)
		}
		before := len(f.mailsTo(t, jan.Email))
		f.clk.Add(messaging.NotifyEvery + time.Minute)
		if _, err := f.svc.Reply(ctx, jan.Identity(), messaging.ReplyInput{ThreadID: t2, Body: "Prima"}); err != nil {
			t.Fatal(err)
		}
		v2, _ := f.svc.Thread(ctx, jan.Identity(), t2)
		if len(v2.Messages) != 3 || !v2.Messages[2].AutoReply {
			t.Fatalf("want the auto-reply to Jan's answer, got %d messages", len(v2.Messages))
		}
		if got := len(f.mailsTo(t, jan.Email)) - before; got != 0 {
			t.Errorf("jan got %d mails about the auto-reply to his own answer, want 0", got)
		}
	})
}
