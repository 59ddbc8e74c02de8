package notify

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/notify/notifytest"
)

func insertUser(t *testing.T, d *db.DB, email string) int64 {
	t.Helper()
	var id int64
	err := d.NewRaw("INSERT INTO users (email, kind, status, created_at, updated_at) VALUES (?, 'external', 'active', ?, ?) RETURNING id", email, time.Now(), time.Now()).Scan(context.Background(), &id)
	if err != nil {
		t.Fatalf("insert user: %v", err)
	}
	return id
}

// TestWebPushLane: a notification queued for a person goes out on the push
// lane to each of their own subscriptions (not another person's), signed
// with the VAPID key and encrypted so that only the browser reads it, and
// holds nothing but the fixed title and the inbox URL; a 410 of the push
// service removes the subscription and fails the row.
func TestWebPushLane(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		v := testVault(t, 7)
		priv, pub, err := GenerateVAPID()
		if err != nil {
			t.Fatal(err)
		}
		const subject = "mailto:beheer@dialoog.test"
		ps := notifytest.StartPushService(t, pub, subject)
		jan := insertUser(t, d, "jan@example.test")
		piet := insertUser(t, d, "piet@example.test")
		phone, phoneP, phoneA := ps.NewBrowser("jan-phone")
		phoneKeys := PushKeys{P256dh: phoneP, Auth: phoneA}
		laptop, laptopP, laptopA := ps.NewBrowser("jan-laptop")
		laptopKeys := PushKeys{P256dh: laptopP, Auth: laptopA}
		other, otherP, otherA := ps.NewBrowser("piet")
		otherKeys := PushKeys{P256dh: otherP, Auth: otherA}
		if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if err := Subscribe(ctx, tx, v, jan, phone, phoneKeys, "Phone"); err != nil {
				return err
			}
			if err := Subscribe(ctx, tx, v, jan, laptop, laptopKeys, "Laptop"); err != nil {
				return err
			}
			return Subscribe(ctx, tx, v, piet, other, otherKeys, "Other")
		}); err != nil {
			t.Fatal(err)
		}

		w := NewWorker(d, v, nil, nil, testLogger(t), WorkerOptions{
			Push: &WebPush{DB: d, Vault: v, Keys: VAPID{Public: pub, Private: priv, Subject: subject}},
		})
		ob := NewOutbox(v)
		var n int
		if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			n, err = ob.QueuePush(ctx, tx, jan, "Nieuw bericht in Dialoog", "/berichten")
			return err
		}); err != nil || n != 2 {
			t.Fatalf("queue push: %d rows, %v", n, err)
		}
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		got, errs := ps.Received()
		if len(errs) > 0 {
			t.Fatalf("push service: %v", errs)
		}
		if len(got) != 2 {
			t.Fatalf("push service got %d notifications, want 2 (Jan's two browsers): %q", len(got), got)
		}
		for _, g := range got {
			var p map[string]any
			if err := json.Unmarshal([]byte(g), &p); err != nil {
				t.Fatalf("payload %q: %v", g, err)
			}
			if len(p) != 2 || p["title"] != "Nieuw bericht in Dialoog" || p["url"] != "/berichten" {
				t.Fatalf("payload %q holds more than the fixed title and URL", g)
			}
		}

		// The laptop's browser dropped the subscription.
		ps.Gone("jan-laptop")
		if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			_, err := ob.QueuePush(ctx, tx, jan, "Nieuw bericht in Dialoog", "/berichten")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := PushDevices(ctx, d, jan); err != nil || n != 1 {
			t.Fatalf("after a 410 Jan has %d subscriptions (%v), want 1", n, err)
		}
		var failed int
		if err := d.NewRaw("SELECT count(*) FROM outbox WHERE channel = 'push' AND status = 'failed'").Scan(ctx, &failed); err != nil || failed != 1 {
			t.Fatalf("failed push rows: %d %v", failed, err)
		}
		if got, _ := ps.Received(); len(got) != 3 {
			t.Fatalf("push service got %d notifications in all, want 3", len(got))
		}

		// Switching off removes the subscription; a later push queues nothing.
		if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error { return Unsubscribe(ctx, tx, jan, phone) }); err != nil {
			t.Fatal(err)
		}
		if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			n, err = ob.QueuePush(ctx, tx, jan, "Nieuw bericht in Dialoog", "/berichten")
			return err
		}); err != nil || n != 0 {
			t.Fatalf("after switching off: %d rows, %v", n, err)
		}
	})
}
