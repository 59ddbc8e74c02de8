package messaging_test

import (
	"context"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// A person who has not signed up yet is invited by the first message and
// reminded like an active user is notified: not again for every message
// while the earlier ones are unread, but after NotifyEvery. Each new link
// replaces the last, so a flood of messages would also kill the link in
// the mail the person is about to open.
func TestInviteeNotRemindedEveryMessage(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{"nieuw@example.nl"}, Subject: "Welkom", Body: "Eerste"})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(f.mailsTo(t, "nieuw@example.nl")); n != 1 {
			t.Fatalf("%d invitations after the first message, want 1", n)
		}
		for range 3 {
			f.clk.Add(time.Minute)
			if _, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Nog iets"}); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(f.mailsTo(t, "nieuw@example.nl")); n != 1 {
			t.Fatalf("%d invitations after three quick replies, want 1", n)
		}
		f.clk.Add(messaging.NotifyEvery)
		if _, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Later"}); err != nil {
			t.Fatal(err)
		}
		if n := len(f.mailsTo(t, "nieuw@example.nl")); n != 2 {
			t.Fatalf("%d invitations after a reply %s later, want 2", n, messaging.NotifyEvery)
		}
	})
}
