package messaging_test

import (
	"context"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/notify"
	"dialoog/notify/notifytest"
)

// pushRecorder is the push lane's sender in these tests: it keeps what the
// worker would hand to the push service.
type pushRecorder struct {
	mu  sync.Mutex
	got []notify.Push
}

func (r *pushRecorder) Name() string { return "recorder" }
func (r *pushRecorder) Send(_ context.Context, _ string, p notify.Push) error {
	r.mu.Lock()
	r.got = append(r.got, p)
	r.mu.Unlock()
	return nil
}

func (f *fx) subscribe(t *testing.T, u *db.User, endpoint string) {
	t.Helper()
	keys := notify.PushKeys{P256dh: "BOr1sTsXLJ0pdZ4SMQX9ZDDpKFiZkyHXMzJxqfWI0Zr3LNzXZ3BuG5kGqIBBcT5qK8i3i9fnZFTdqnAm-2V1FZk", Auth: "AAAAAAAAAAAAAAAAAAAAAA"}
	if err := f.d.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		return notify.Subscribe(ctx, tx, f.v, u.ID, endpoint, keys, "Test", "vapid", f.clk.Now())
	}); err != nil {
		t.Fatal(err)
	}
}

// pushRows returns the recipients of the push rows, sorted.
func (f *fx) pushRows(t *testing.T) []string {
	t.Helper()
	var got []string
	if err := f.d.NewSelect().Model((*db.OutboxItem)(nil)).Column("recipient").Where("channel = ?", db.ChannelPush).
		Order("recipient").Scan(context.Background(), &got); err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	return got
}

// TestNewMessagePushes: a new message queues one push row for each browser
// of a recipient who gets a mail per message, in the message's
// transaction, under the same throttle as that mail; none for people who
// chose the daily summary or no mail, none for the author; the
// notification holds the fixed title and the inbox URL only.
func TestNewMessagePushes(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		noor := f.active(t, "noor@example.nl", false, "Noor", "", "Bakker")
		piet := f.active(t, "piet@example.nl", false, "Piet", "", "Pieters")
		f.setNotify(t, noor, auth.NotifyDaily)
		f.setNotify(t, piet, auth.NotifyNone)
		f.subscribe(t, jan, "https://push.example.test/jan-phone")
		f.subscribe(t, jan, "https://push.example.test/jan-laptop")
		f.subscribe(t, noor, "https://push.example.test/noor")
		f.subscribe(t, piet, "https://push.example.test/piet")
		f.subscribe(t, f.hr, "https://push.example.test/hanna")

		tid, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email, noor.Email, piet.Email},
			Subject: "Geheim onderwerp", Body: "Geheime inhoud"})
		if err != nil {
			t.Fatal(err)
		}
		var janSubs []int64
		if err := d.NewSelect().Model((*db.PushSubscription)(nil)).Column("id").Where("user_id = ?", jan.ID).Order("id").Scan(ctx, &janSubs); err != nil {
			t.Fatal(err)
		}
		want := []string{"push:" + itoa(janSubs[0]), "push:" + itoa(janSubs[1])}
		sort.Strings(want)
		if got := f.pushRows(t); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("push rows %v, want one per browser of Jan %v", got, want)
		}

		// Within the throttle a second message tells nobody again.
		if _, err := f.svc.Reply(ctx, f.hr.Identity(), messaging.ReplyInput{ThreadID: tid, Body: "Nog meer inhoud"}); err != nil {
			t.Fatal(err)
		}
		if got := f.pushRows(t); len(got) != 2 {
			t.Fatalf("after a second message within the throttle: %d push rows, want 2", len(got))
		}

		rec := &pushRecorder{}
		w := notify.NewWorker(d, f.v, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), notify.WorkerOptions{Push: rec,
			Now: func() time.Time { return f.clk.Now().Add(messaging.DefaultNotifyDelay) }})
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if len(rec.got) != 2 {
			t.Fatalf("worker sent %d pushes, want 2", len(rec.got))
		}
		for _, p := range rec.got {
			if p.Title != "Nieuw bericht in Dialoog" || p.URL != "/berichten" {
				t.Fatalf("push %+v is not the fixed, content-free notice", p)
			}
			if p.Subscription != janSubs[0] && p.Subscription != janSubs[1] {
				t.Fatalf("push to subscription %d, not Jan's", p.Subscription)
			}
		}
	})
}

// TestNewMessagePushEndToEnd: a message to a person with a subscribed
// browser reaches the push service stand-in through the outbox's push
// lane, with a VAPID signature it verifies and a payload it decrypts that
// holds neither the subject nor the body.
func TestNewMessagePushEndToEnd(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		priv, pub, err := notify.GenerateVAPID()
		if err != nil {
			t.Fatal(err)
		}
		const subject = "mailto:beheer@osaw.nl"
		ps := notifytest.StartPushService(t, pub, subject)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		endpoint, p256dh, authKey := ps.NewBrowser("jan")
		if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			return notify.Subscribe(ctx, tx, f.v, jan.ID, endpoint, notify.PushKeys{P256dh: p256dh, Auth: authKey}, "Test", pub, f.clk.Now())
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "Geheim onderwerp", Body: "Geheime inhoud"}); err != nil {
			t.Fatal(err)
		}
		w := notify.NewWorker(d, f.v, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), notify.WorkerOptions{
			Push: &notify.WebPush{DB: d, Vault: f.v, Keys: notify.VAPID{Public: pub, Private: priv, Subject: subject}, Client: ps.Client(), Loopback: true},
			Now:  func() time.Time { return f.clk.Now().Add(messaging.DefaultNotifyDelay) },
		})
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		got, errs := ps.Received()
		if len(errs) > 0 || len(got) != 1 {
			t.Fatalf("push service got %q, errors %v", got, errs)
		}
		if got[0] != `{"title":"Nieuw bericht in Dialoog","url":"/berichten"}` {
			t.Fatalf("payload %q", got[0])
		}
		for _, secret := range []string{"Geheim", "Hanna", "OSAW"} {
			if strings.Contains(got[0], secret) {
				t.Fatalf("payload %q holds %q", got[0], secret)
			}
		}
	})
}

// TestStopServiceForgetsPush: deleting one's account removes the
// browsers' subscriptions and the notifications queued for them.
func TestStopServiceForgetsPush(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		jan := f.active(t, "jan@example.nl", false, "Jan", "", "Jansen")
		f.subscribe(t, jan, "https://push.example.test/jan")
		if _, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{jan.Email}, Subject: "S", Body: "B"}); err != nil {
			t.Fatal(err)
		}
		if len(f.pushRows(t)) != 1 {
			t.Fatal("no push queued")
		}
		if err := f.svc.StopService(ctx, (f.user(t, jan.Email)).Identity()); err != nil {
			t.Fatal(err)
		}
		if n, _ := d.NewSelect().Model((*db.PushSubscription)(nil)).Count(ctx); n != 0 || len(f.pushRows(t)) != 0 {
			t.Fatalf("after deleting the account: %d subscriptions, %d push rows", n, len(f.pushRows(t)))
		}
	})
}
