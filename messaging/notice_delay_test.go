package messaging_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/notify"
)

// sentTo counts the outbox rows of channel delivered to recipient (the dev
// transports record a delivery as a real one would) and those still
// waiting.
func (f *fx) sentTo(t *testing.T, channel, recipient string) (sent, waiting int) {
	t.Helper()
	var rows []db.OutboxItem
	if err := f.d.NewSelect().Model(&rows).Where("channel = ?", channel).Where("recipient = ?", recipient).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		switch r.Status {
		case db.OutboxSent:
			sent++
		case db.OutboxPending, db.OutboxSending:
			waiting++
		}
	}
	return sent, waiting
}

// TestLiveReaderGetsNoMailPerMessage: someone who reads a conversation as
// its messages arrive (the live page marks each one read) gets no mail and
// no push for them. The notice of a new message waits NotifyDelay and goes
// out only if the message it tells of is still unread then and no later
// notice of the same conversation replaced it; one that is still unread
// is told once, as before.
func TestLiveReaderGetsNoMailPerMessage(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		f.svc.NotifyDelay = messaging.DefaultNotifyDelay
		// Times as a real clock gives them, finer than the engines store.
		f.clk.Add(123456789 * time.Nanosecond)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		f.subscribe(t, jan, "https://push.example.test/jan")
		jan = f.user(t, jan.Email) // with the subscription counted
		sub := func() string {
			var id int64
			if err := d.NewSelect().Model((*db.PushSubscription)(nil)).Column("id").Where("user_id = ?", jan.ID).Scan(ctx, &id); err != nil {
				t.Fatal(err)
			}
			return "push:" + itoa(id)
		}()
		run := func(at time.Time) {
			t.Helper()
			w := notify.NewWorker(d, f.v, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), notify.WorkerOptions{
				Now: func() time.Time { return at },
				NoticeWanted: func(ctx context.Context, n notify.Notice) (bool, error) {
					return messaging.NoticeWanted(ctx, d, n)
				},
			})
			if _, err := w.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
		}
		later := func() time.Time { return f.clk.Now().Add(messaging.DefaultNotifyDelay + time.Second) }
		want := func(step string, mails, pushes, waiting int) {
			t.Helper()
			ms, mw := f.sentTo(t, db.ChannelMail, jan.Email)
			ps, pw := f.sentTo(t, db.ChannelPush, sub)
			if ms != mails || ps != pushes || mw+pw != waiting {
				t.Fatalf("%s: %d mails and %d pushes sent, %d waiting; want %d, %d and %d", step, ms, ps, mw+pw, mails, pushes, waiting)
			}
		}

		// Also to a new address: its invitation goes out at once, and the
		// lane's first delivery (which makes rows waiting out a backoff due)
		// leaves the notices waiting.
		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email, "nieuw@example.nl"}, Subject: "Verzuim", Body: "Hoe gaat het?"})
		if err != nil {
			t.Fatal(err)
		}
		run(f.clk.Now())
		if sent, _ := f.sentTo(t, db.ChannelMail, "nieuw@example.nl"); sent != 1 {
			t.Fatalf("the invitation: %d sent, want 1 at once", sent)
		}
		run(f.clk.Now()) // a pass after the lane came up
		want("right after the message", 0, 0, 2)

		// Jan reads it at once, as the open conversation does.
		f.clk.Add(5 * time.Second)
		if _, err := f.svc.MarkRead(ctx, jan.Identity(), tid); err != nil {
			t.Fatal(err)
		}
		run(later())
		want("after a message read in time", 0, 0, 0)

		// A live chat: every message read within seconds, none mailed.
		for i := range 5 {
			f.clk.Add(20 * time.Second)
			if _, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Bericht " + itoa(int64(i))}); err != nil {
				t.Fatal(err)
			}
			f.clk.Add(3 * time.Second)
			if _, err := f.svc.MarkRead(ctx, jan.Identity(), tid); err != nil {
				t.Fatal(err)
			}
		}
		run(later())
		want("after a live chat", 0, 0, 0)

		// Jan reads one, then leaves: the next message's notice replaces
		// the first and goes out once.
		f.clk.Add(20 * time.Second)
		if _, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Nog een vraag"}); err != nil {
			t.Fatal(err)
		}
		f.clk.Add(3 * time.Second)
		if _, err := f.svc.MarkRead(ctx, jan.Identity(), tid); err != nil {
			t.Fatal(err)
		}
		f.clk.Add(20 * time.Second)
		if _, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Ben je er nog?"}); err != nil {
			t.Fatal(err)
		}
		run(f.clk.Now())
		want("before the delay: two notices, the first replaced by the second", 0, 0, 4)
		run(later())
		want("after a message left unread", 1, 1, 0)

		// Still unread, a further message within the quarter of an hour
		// tells nothing new (the rule as before the delay).
		f.clk.Add(time.Minute)
		if _, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Hallo?"}); err != nil {
			t.Fatal(err)
		}
		run(later())
		want("a further message while unread", 1, 1, 0)
	})
}
