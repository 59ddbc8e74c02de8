package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// 7. Two workers against one PostgreSQL database deliver every row once.
func TestConcurrentWorkersPostgres(t *testing.T) {
	d := dbtest.MustOpenPostgres(t)
	gw := newDedupGateway(t, false)
	v := testVault(t, 6)
	s, err := NewSMSSender(mustURL(t, "webhook+"+gw.URL), nil)
	if err != nil {
		t.Fatal(err)
	}
	o := NewOutbox(v)
	const rows = 120
	ctx := context.Background()
	err = d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		for i := range rows {
			if _, err := o.QueueSMS(ctx, tx, SMS{To: fmt.Sprintf("+31612%05d", i), Body: "bericht"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var counted [2]int
	for i := range 2 {
		w := NewWorker(d, v, nil, &countingSMS{SMSSender: s, n: &counted[i]}, testLogger(t), WorkerOptions{Poll: 20 * time.Millisecond})
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.Run(runCtx); err != nil {
				t.Errorf("Run: %v", err)
			}
		}()
	}
	waitFor(t, "all rows sent", 60*time.Second, func() bool {
		n, err := d.NewSelect().Model((*db.OutboxItem)(nil)).Where("status = ?", db.OutboxSent).Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n == rows
	})
	cancel()
	wg.Wait()

	seen, delivered := gw.counts()
	if delivered != rows || len(seen) != rows {
		t.Fatalf("gateway delivered %d, saw %d keys; want %d", delivered, len(seen), rows)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("key %s sent %d times", k, n)
		}
	}
	t.Logf("worker shares: %d and %d", counted[0], counted[1])
	if counted[0]+counted[1] != rows {
		t.Errorf("workers sent %d in total", counted[0]+counted[1])
	}
}

type countingSMS struct {
	SMSSender
	mu sync.Mutex
	n  *int
}

func (c *countingSMS) Send(ctx context.Context, key string, s SMS) error {
	err := c.SMSSender.Send(ctx, key, s)
	if err == nil {
		c.mu.Lock()
		*c.n++
		c.mu.Unlock()
	}
	return err
}

// 8. The dev transport keeps the sealed payload for the dev outbox.
func TestDevTransport(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		v := testVault(t, 7)
		m, err := NewMailer(nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		s, err := NewSMSSender(nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		o := NewOutbox(v)
		mail := Mail{To: "Piet <Piet@Example.org>", Subject: "Uitnodiging", Text: "Klik op de geheime-link-123", HTML: "<a>geheime-link-123</a>"}
		sms := SMS{To: "+31612345678", Body: "Uw code is 987654"}
		mailID := queueMail(t, d, o, mail)
		smsID := queueSMS(t, d, o, sms)

		// A queue call in a transaction that rolls back leaves nothing.
		err = d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if _, err := o.QueueMail(ctx, tx, Mail{To: "x@example.org", Subject: "x", Text: "x"}); err != nil {
				return err
			}
			return errTest
		})
		if !errors.Is(err, errTest) {
			t.Fatal(err)
		}

		for _, id := range []int64{mailID, smsID} {
			r := row(t, d, id)
			for _, plain := range []string{"geheime-link-123", "987654", "Uitnodiging"} {
				if bytes.Contains(r.Payload, []byte(plain)) {
					t.Fatalf("payload of row %d contains %q in the clear", id, plain)
				}
			}
		}

		clk := newClock()
		w := NewWorker(d, v, m, s, testLogger(t), WorkerOptions{Now: clk.Now})
		if n := runOnce(t, w); n != 2 {
			t.Fatalf("delivered %d, want 2", n)
		}
		items, err := DevItems(ctx, d, v, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 2 {
			t.Fatalf("%d dev items, want 2", len(items))
		}
		si, mi := items[0], items[1] // newest first
		if si.ID != smsID || si.Channel != db.ChannelSMS || si.SMS == nil || *si.SMS != sms || si.Mail != nil ||
			si.Status != db.OutboxSent || si.Recipient != "+31612345678" || si.SentAt.IsZero() || si.Attempts != 1 {
			t.Errorf("sms item %+v", si)
		}
		if mi.ID != mailID || mi.Channel != db.ChannelMail || mi.Mail == nil || *mi.Mail != mail || mi.SMS != nil ||
			mi.Status != db.OutboxSent || mi.Recipient != "Piet@Example.org" || mi.CreatedAt.IsZero() {
			t.Errorf("mail item %+v", mi)
		}
		if r := row(t, d, mailID); r.Transport != DevTransport || r.Payload == nil {
			t.Errorf("dev row %+v", r)
		}

		got, err := LatestDevMailTo(ctx, d, v, "piet@example.org")
		if err != nil || *got != mail {
			t.Errorf("LatestDevMailTo: %+v %v", got, err)
		}
		gotSMS, err := LatestDevSMSTo(ctx, d, v, "+31612345678")
		if err != nil || *gotSMS != sms {
			t.Errorf("LatestDevSMSTo: %+v %v", gotSMS, err)
		}
		newer := Mail{To: "piet@example.org", Subject: "Tweede", Text: "nieuwer"}
		queueMail(t, d, o, newer)
		if got, err := LatestDevMailTo(ctx, d, v, "Piet <PIET@example.org>"); err != nil || *got != newer {
			t.Errorf("LatestDevMailTo after a newer mail: %+v %v", got, err)
		}
		if _, err := LatestDevMailTo(ctx, d, v, "nobody@example.org"); err == nil {
			t.Error("LatestDevMailTo for an unknown address: no error")
		}
		if _, err := LatestDevSMSTo(ctx, d, v, "+31699999999"); err == nil {
			t.Error("LatestDevSMSTo for an unknown number: no error")
		}
	})
}

// A payload that does not open fails at once, with the reason.
func TestUndecryptablePayloadFails(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		id := queueSMS(t, d, NewOutbox(testVault(t, 8)), SMS{To: "+31612345678", Body: "x"})
		other := testVault(t, 9)
		w := NewWorker(d, other, nil, nil, testLogger(t), WorkerOptions{Now: newClock().Now})
		if n := runOnce(t, w); n != 0 {
			t.Fatal("delivered")
		}
		r := row(t, d, id)
		if r.Status != db.OutboxFailed || r.Attempts != 1 || r.LastError == "" {
			t.Fatalf("row %+v", r)
		}
		t.Logf("last_error: %s", r.LastError)
	})
}

// Run picks up rows after Kick without waiting for the poll interval.
func TestRunKick(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		v := testVault(t, 10)
		w := NewWorker(d, v, nil, nil, testLogger(t), WorkerOptions{Poll: time.Hour})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- w.Run(ctx) }()
		defer func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		}()
		time.Sleep(50 * time.Millisecond) // let the first pass find nothing
		id := queueSMS(t, d, NewOutbox(v), SMS{To: "+31612345678", Body: "x"})
		w.Kick()
		w.Kick() // never blocks
		waitFor(t, "row sent after Kick", 10*time.Second, func() bool {
			return row(t, d, id).Status == db.OutboxSent
		})
	})
}

func TestQueueValidation(t *testing.T) {
	d := dbtest.MustOpenSQLite(t)
	o := NewOutbox(testVault(t, 11))
	ctx := context.Background()
	for _, m := range []Mail{{To: "not an address", Text: "x"}, {To: "a@example.org"}} {
		if _, err := o.QueueMail(ctx, d, m); err == nil {
			t.Errorf("QueueMail(%+v): no error", m)
		}
	}
	for _, s := range []SMS{{To: "0612345678", Body: "x"}, {To: "+31612345678"}, {To: "+0612345678", Body: "x"}} {
		if _, err := o.QueueSMS(ctx, d, s); err == nil {
			t.Errorf("QueueSMS(%+v): no error", s)
		}
	}
	id1 := queueSMS(t, d, o, SMS{To: "+31612345678", Body: "x"})
	id2 := queueSMS(t, d, o, SMS{To: "+31612345678", Body: "x"})
	r1, r2 := row(t, d, id1), row(t, d, id2)
	if len(r1.IdempotencyKey) != 32 || r1.IdempotencyKey == r2.IdempotencyKey {
		t.Fatalf("keys %q %q", r1.IdempotencyKey, r2.IdempotencyKey)
	}
}

func TestBackoff(t *testing.T) {
	base, max := 10*time.Second, time.Hour
	for attempt, want := range map[int]time.Duration{
		1: 10 * time.Second, 2: 20 * time.Second, 3: 40 * time.Second, 9: 2560 * time.Second, 10: time.Hour, 12: time.Hour, 500: time.Hour,
	} {
		for range 50 {
			got := backoff(attempt, base, max)
			if got > want || got < want*3/4 {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", attempt, got, want*3/4, want)
			}
		}
	}
}
