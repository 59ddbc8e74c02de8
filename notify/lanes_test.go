package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/notify/notifytest"
)

// startWorker runs w until the test ends.
func startWorker(t *testing.T, w *Worker) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Error("worker did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func smsSender(t *testing.T, url string) SMSSender {
	t.Helper()
	s, err := NewSMSSender(mustURL(t, url), nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mailer(t *testing.T, url string) Mailer {
	t.Helper()
	m, err := NewMailer(mustURL(t, url), fromAddr())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A hanging SMTP server, one that never greets and one that stalls after the
// message, does not delay a login code: the text reaches the gateway while
// the mail is still in flight.
func TestHangingSMTPDoesNotDelaySMS(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		for _, mode := range []string{"silent", "stalled-in-data"} {
			t.Run(mode, func(t *testing.T) {
				var smtpURL string
				var inFlight func() bool
				var stalled *notifytest.SMTPServer
				switch mode {
				case "silent":
					srv := notifytest.StartSilentSMTP(t)
					smtpURL, inFlight = "smtp://"+srv.Addr, func() bool { return srv.Accepted() > 0 }
				default:
					stalled = notifytest.StartSMTP(t, "127.0.0.1:0", "", "")
					stalled.Stall()
					smtpURL, inFlight = "smtp://"+stalled.Addr, func() bool { return stalled.InData() > 0 }
				}
				gw := notifytest.StartGateway(t)
				v := testVault(t, 20)
				o := NewOutbox(v)
				// A mail timeout far beyond the test: the SMS must not wait
				// for the mail to give up.
				w := NewWorker(d, v, mailer(t, smtpURL), smsSender(t, gw.URL), testLogger(t), WorkerOptions{MailTimeout: 10 * time.Minute})
				stop := startWorker(t, w)

				mailID := queueMail(t, d, o, Mail{To: "hangt@example.org", Subject: "Uitnodiging", Text: "tekst"})
				w.Kick()
				waitFor(t, "the mail in flight", 20*time.Second, inFlight)

				smsID := queueSMS(t, d, o, SMS{To: "+31612345678", Body: "Uw code is 424242"})
				start := time.Now()
				w.Kick() // as the service does after its commit
				got := gw.WaitText(t, "+31612345678", 0, 60*time.Second)
				t.Logf("SMS delivered %v after it was queued, with the mail in flight", time.Since(start))
				if got.Body != "Uw code is 424242" || got.IdempotencyKey != row(t, d, smsID).IdempotencyKey {
					t.Fatalf("text %+v", got)
				}
				if r := row(t, d, mailID); r.Status != db.OutboxSending {
					t.Fatalf("the mail is %s; the SMS should have gone out while it was in flight", r.Status)
				}
				if stalled != nil && len(stalled.Messages()) != 0 {
					t.Fatal("the stalled server accepted the mail")
				}
				waitFor(t, "the SMS row recorded as sent", 10*time.Second, func() bool {
					return row(t, d, smsID).Status == db.OutboxSent
				})
				stop()
				// Stopped mid-delivery: the mail stays claimed, to be tried
				// again when its lease ends.
				if r := row(t, d, mailID); r.Status != db.OutboxSending || r.Attempts != 1 {
					t.Fatalf("mail row after stop: %+v", r)
				}
			})
		}
	})
}

// The rows of a worker that died after claiming them are delivered by
// another worker within 10 s: the default lease is short, and only a live
// worker renews it.
func TestCrashedWorkerRowsRedelivered(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		t.Run("claimed then died", func(t *testing.T) {
			gw := newDedupGateway(t, false)
			v := testVault(t, 21)
			id := queueSMS(t, d, NewOutbox(v), SMS{To: "+31612345678", Body: "Uw code is 313131"})
			dead := NewWorker(d, v, nil, smsSender(t, "webhook+"+gw.URL), testLogger(t), WorkerOptions{})
			items, err := dead.claim(context.Background(), db.ChannelSMS, claimBatch)
			if err != nil || len(items) != 1 || items[0].ID != id {
				t.Fatalf("claim: %v %v", items, err)
			}
			// The worker dies here, before it sends.
			crashed := time.Now()

			fresh := NewWorker(d, v, nil, smsSender(t, "webhook+"+gw.URL), testLogger(t), WorkerOptions{})
			startWorker(t, fresh)
			waitFor(t, "re-delivery within 10 s of the crash", 10*time.Second, func() bool {
				return row(t, d, id).Status == db.OutboxSent
			})
			t.Logf("re-delivered %v after the crash", time.Since(crashed))
			if r := row(t, d, id); r.Attempts != 2 {
				t.Fatalf("attempts %d, want 2", r.Attempts)
			}
			if _, delivered := gw.counts(); delivered != 1 {
				t.Fatalf("gateway delivered %d", delivered)
			}
		})
		t.Run("killed mid-send", func(t *testing.T) {
			gw := newDedupGateway(t, true) // the first request is never answered
			v := testVault(t, 22)
			id := queueSMS(t, d, NewOutbox(v), SMS{To: "+31612345679", Body: "Uw code is 525252"})
			s := smsSender(t, "webhook+"+gw.URL)
			kill := startWorker(t, NewWorker(d, v, nil, s, testLogger(t), WorkerOptions{}))
			var key string
			select {
			case key = <-gw.arrived:
			case <-time.After(20 * time.Second):
				t.Fatal("the request never arrived")
			}
			kill() // the worker never learns the outcome
			crashed := time.Now()
			if r := row(t, d, id); r.Status != db.OutboxSending {
				t.Fatalf("row after the crash: %+v", r)
			}

			startWorker(t, NewWorker(d, v, nil, s, testLogger(t), WorkerOptions{}))
			waitFor(t, "re-delivery within 10 s of the crash", 10*time.Second, func() bool {
				return row(t, d, id).Status == db.OutboxSent
			})
			t.Logf("re-delivered %v after the crash", time.Since(crashed))
			seen, delivered := gw.counts()
			if delivered != 1 || seen[key] != 2 {
				t.Fatalf("gateway delivered %d, saw %v; want the key %s twice, delivered once", delivered, seen, key)
			}
		})
	})
}

// A live worker whose delivery takes longer than the lease renews it, so a
// second worker never takes the row over and sends it again.
func TestLeaseRenewedWhileSending(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		const lease = time.Second
		var calls atomic.Int32
		gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			time.Sleep(4 * lease) // a slow gateway, still within the SMS timeout
			w.WriteHeader(http.StatusAccepted)
		}))
		t.Cleanup(gw.Close)
		v := testVault(t, 23)
		id := queueSMS(t, d, NewOutbox(v), SMS{To: "+31612345678", Body: "hoi"})
		opt := WorkerOptions{Lease: lease, Poll: 50 * time.Millisecond}
		s := smsSender(t, "webhook+"+gw.URL)
		startWorker(t, NewWorker(d, v, nil, s, testLogger(t), opt))
		waitFor(t, "the first request", 10*time.Second, func() bool { return calls.Load() > 0 })
		startWorker(t, NewWorker(d, v, nil, s, testLogger(t), opt))
		waitFor(t, "the row sent", 20*time.Second, func() bool { return row(t, d, id).Status == db.OutboxSent })
		if n := calls.Load(); n != 1 {
			t.Fatalf("gateway called %d times; the second worker took over a row whose lease was being renewed", n)
		}
		if r := row(t, d, id); r.Attempts != 1 {
			t.Fatalf("attempts %d", r.Attempts)
		}
	})
}

// When the transport recovers, the first success re-arms the lane: the rows
// that wait out their backoff go out at once. Another lane's rows keep
// theirs.
func TestRecoveryRearmsLane(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		addr := freeAddr(t)
		var gwDown atomic.Bool
		gwDown.Store(true)
		gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if gwDown.Load() {
				http.Error(w, "maintenance", http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusOK)
		}))
		t.Cleanup(gw.Close)
		v := testVault(t, 24)
		o := NewOutbox(v)
		var ids []int64
		for i := range 5 {
			ids = append(ids, queueMail(t, d, o, Mail{To: fmt.Sprintf("m%d@example.org", i), Subject: "s", Text: "t"}))
		}
		smsID := queueSMS(t, d, o, SMS{To: "+31612345678", Body: "hoi"})
		clk := newClock()
		w := NewWorker(d, v, mailer(t, "smtp://"+addr), smsSender(t, "webhook+"+gw.URL), testLogger(t), WorkerOptions{Now: clk.Now})

		// Three rounds of an outage: the backoffs grow.
		for i := range 3 {
			if i > 0 {
				clk.Advance(2 * time.Minute)
			}
			if n := runOnce(t, w); n != 0 {
				t.Fatalf("delivered %d while the SMTP server is down", n)
			}
		}
		for _, id := range ids {
			if r := row(t, d, id); r.Status != db.OutboxPending || r.Attempts != 3 || !r.NextAttemptAt.After(clk.Now()) {
				t.Fatalf("row during the outage: %+v (now %v)", r, clk.Now())
			}
		}
		st := laneStats(t, w, db.ChannelMail)
		if !st.Down || st.Queued != 5 || st.Retried != 15 || st.Delivered != 0 || st.OldestQueued <= 0 {
			t.Fatalf("mail lane during the outage: %+v", st)
		}
		smsNext := row(t, d, smsID).NextAttemptAt

		// The server is back; nothing of the old rows is due yet. A new
		// mail goes out, and with it every waiting row.
		srv := notifytest.StartSMTP(t, addr, "", "")
		queueMail(t, d, o, Mail{To: "nieuw@example.org", Subject: "s", Text: "t"})
		if n := runOnce(t, w); n != 6 {
			t.Fatalf("delivered %d after the recovery, want all 6", n)
		}
		if got := len(srv.Messages()); got != 6 {
			t.Fatalf("server received %d mails", got)
		}
		for _, id := range ids {
			if r := row(t, d, id); r.Status != db.OutboxSent || r.Attempts != 4 {
				t.Fatalf("row after the recovery: %+v", r)
			}
		}
		st = laneStats(t, w, db.ChannelMail)
		if st.Down || st.Queued != 0 || st.Delivered != 6 || st.OldestQueued != 0 {
			t.Fatalf("mail lane after the recovery: %+v", st)
		}
		// The SMS lane is still down and keeps its backoff.
		if r := row(t, d, smsID); r.Status != db.OutboxPending || !r.NextAttemptAt.Equal(smsNext) {
			t.Fatalf("sms row re-armed by the mail lane: %+v", r)
		}
		if st := laneStats(t, w, db.ChannelSMS); !st.Down || st.Queued != 1 {
			t.Fatalf("sms lane: %+v", st)
		}
	})
}

func laneStats(t *testing.T, w *Worker, channel string) LaneStats {
	t.Helper()
	all, err := w.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		if s.Channel == channel {
			return s
		}
	}
	t.Fatalf("no lane %s in %+v", channel, all)
	return LaneStats{}
}

// An outage of a day (a gateway answering 503, many attempts on a simulated
// clock) marks nothing failed; the text goes out when the gateway is back.
// Failed means refused (a gateway's 400, an SMTP 550) or undeliverable for
// MaxAge.
func TestOutageOfADayFailsNothing(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		gw := newFlakyGateway(t)
		v := testVault(t, 25)
		o := NewOutbox(v)
		clk := newClock()
		w := NewWorker(d, v, nil, smsSender(t, "webhook+"+gw.URL), testLogger(t), WorkerOptions{Now: clk.Now})
		id := queueSMS(t, d, o, SMS{To: "+31612345678", Body: "Uw code is 777777"})

		dayEnd := clk.Now().Add(24 * time.Hour)
		for clk.Now().Before(dayEnd) {
			if n := runOnce(t, w); n != 0 {
				t.Fatal("delivered during the outage")
			}
			r := row(t, d, id)
			if r.Status != db.OutboxPending || !strings.Contains(r.LastError, "503") {
				t.Fatalf("row after %d attempts, at %v into the outage: %+v", r.Attempts, 24*time.Hour-dayEnd.Sub(clk.Now()), r)
			}
			if wait := r.NextAttemptAt.Sub(clk.Now()); wait > time.Hour {
				t.Fatalf("next attempt in %v, beyond the 1 h cap", wait)
			}
			clk.Advance(r.NextAttemptAt.Sub(clk.Now()) + time.Millisecond)
		}
		r := row(t, d, id)
		t.Logf("after a day: %d attempts, still %s", r.Attempts, r.Status)
		if r.Attempts < 30 {
			t.Fatalf("only %d attempts in a day", r.Attempts)
		}

		gw.down.Store(false)
		if n := runOnce(t, w); n != 1 {
			t.Fatalf("delivered %d after the outage", n)
		}
		if got := gw.texts(); len(got) != 1 || got[0] != "Uw code is 777777" {
			t.Fatalf("gateway got %q", got)
		}

		// A rejection fails at once, whatever the lane's state.
		badID := queueSMS(t, d, o, SMS{To: "+31600000000", Body: "x"})
		clk.Advance(time.Minute)
		runOnce(t, w)
		if r := row(t, d, badID); r.Status != db.OutboxFailed || r.Attempts != 1 || !strings.Contains(r.LastError, "400") {
			t.Fatalf("rejected row: %+v", r)
		}

		// Undeliverable for longer than MaxAge: failed, with the reason.
		oldID := queueSMS(t, d, o, SMS{To: "+31612345679", Body: "oud"})
		gw.down.Store(true)
		clk.Advance(DefaultMaxAge)
		runOnce(t, w)
		if r := row(t, d, oldID); r.Status != db.OutboxFailed || !strings.Contains(r.LastError, "undelivered 72h0m0s") ||
			!strings.Contains(r.LastError, "503") {
			t.Fatalf("expired row: %+v", r)
		}
		if st := laneStats(t, w, db.ChannelSMS); st.Failed != 2 || st.Delivered != 1 || st.Retried < 30 || st.Queued != 0 {
			t.Fatalf("sms lane: %+v", st)
		}
	})
}

// An SMTP 550 to RCPT TO rejects the mail: failed at once. A 450 defers it:
// retried later, and the lane is not down, since the server answered.
func TestSMTPRefusals(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		srv := notifytest.StartSMTP(t, "127.0.0.1:0", "", "")
		srv.Refuse("bestaat-niet@example.org", 550, "No such user")
		srv.Refuse("vol@example.org", 452, "Mailbox full")
		v := testVault(t, 26)
		o := NewOutbox(v)
		rejected := queueMail(t, d, o, Mail{To: "bestaat-niet@example.org", Subject: "s", Text: "t"})
		deferred := queueMail(t, d, o, Mail{To: "vol@example.org", Subject: "s", Text: "t"})
		fine := queueMail(t, d, o, Mail{To: "goed@example.org", Subject: "s", Text: "t"})
		clk := newClock()
		w := NewWorker(d, v, mailer(t, "smtp://"+srv.Addr), nil, testLogger(t), WorkerOptions{Now: clk.Now})
		if n := runOnce(t, w); n != 1 {
			t.Fatalf("delivered %d, want 1", n)
		}
		if r := row(t, d, rejected); r.Status != db.OutboxFailed || !strings.Contains(r.LastError, "550") ||
			strings.Contains(r.LastError, "bestaat-niet") {
			t.Fatalf("rejected row (the error must not name the recipient, which goes to the log): %+v", r)
		}
		if r := row(t, d, deferred); r.Status != db.OutboxPending || !strings.Contains(r.LastError, "452") || !r.NextAttemptAt.After(clk.Now()) {
			t.Fatalf("deferred row: %+v", r)
		}
		if r := row(t, d, fine); r.Status != db.OutboxSent {
			t.Fatalf("good row: %+v", r)
		}
		if st := laneStats(t, w, db.ChannelMail); st.Down || st.Failed != 1 || st.Retried != 1 || st.Delivered != 1 {
			t.Fatalf("mail lane: %+v", st)
		}
	})
}

// Concurrency per lane: with SMSConcurrency 3, three texts are in flight at
// once at a gateway that holds every request after the first until three
// have arrived (the first proves the transport: a lane starts with one in
// flight).
func TestLaneConcurrency(t *testing.T) {
	d := dbtest.MustOpenSQLite(t)
	var mu sync.Mutex
	inFlight, most, calls := 0, 0, 0
	release := make(chan struct{})
	var once sync.Once
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		if calls == 1 {
			mu.Unlock()
			w.WriteHeader(http.StatusOK)
			return
		}
		inFlight++
		most = max(most, inFlight)
		if inFlight == 3 {
			once.Do(func() { close(release) })
		}
		mu.Unlock()
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		mu.Lock()
		inFlight--
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(gw.Close)
	v := testVault(t, 27)
	o := NewOutbox(v)
	for i := range 7 {
		queueSMS(t, d, o, SMS{To: fmt.Sprintf("+3161234567%d", i), Body: "hoi"})
	}
	w := NewWorker(d, v, nil, smsSender(t, "webhook+"+gw.URL), testLogger(t), WorkerOptions{SMSConcurrency: 3, Now: newClock().Now})
	if n := runOnce(t, w); n != 7 {
		t.Fatalf("delivered %d", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if most != 3 {
		t.Fatalf("at most %d requests in flight, want 3", most)
	}
}

// A lane's claim and the queue statistics read the outbox through its lane
// index, not by scanning the table, which keeps every row ever sent.
func TestOutboxQueriesUseTheLaneIndex(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		w := NewWorker(d, testVault(t, 28), nil, nil, nil, WorkerOptions{})
		var items []db.OutboxItem
		for name, q := range map[string]string{
			"due":   w.dueQuery(d, &items, db.ChannelSMS, time.Now(), claimBatch).String(),
			"stale": w.staleQuery(d, &items, db.ChannelMail, time.Now(), claimBatch).String(),
			"stats": w.statsQuery(db.ChannelSMS).String(),
		} {
			plan := dbtest.Plan(t, d, q)
			t.Logf("%s: %q", name, plan)
			uses := false
			for _, line := range plan {
				if strings.Contains(line, "outbox_lane_due_idx") {
					uses = true
				}
				if strings.HasPrefix(line, "SCAN outbox") || strings.HasPrefix(line, "Seq Scan") {
					t.Errorf("%s scans the outbox: %q", name, plan)
				}
			}
			if !uses {
				t.Errorf("%s does not use outbox_lane_due_idx: %q", name, plan)
			}
		}
	})
}

// TestExpiredCodeNotSent: a login code queued with a send-by time is not
// sent after it, when the gateway comes back from an outage: the row fails
// as expired. A text without one is sent.
func TestExpiredCodeNotSent(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		gw := newFlakyGateway(t)
		v := testVault(t, 26)
		o := NewOutbox(v)
		clk := newClock()
		w := NewWorker(d, v, nil, smsSender(t, "webhook+"+gw.URL), testLogger(t), WorkerOptions{Now: clk.Now})
		code := queueSMS(t, d, o, SMS{To: "+31612345678", Body: "Uw code is 123456", SendBy: clk.Now().Add(10 * time.Minute)})
		plain := queueSMS(t, d, o, SMS{To: "+31612345679", Body: "Geen code"})
		if n := runOnce(t, w); n != 0 {
			t.Fatal("delivered during the outage")
		}
		clk.Advance(11 * time.Minute)
		gw.down.Store(false)
		for range 3 {
			runOnce(t, w)
			clk.Advance(time.Minute)
		}
		if got := gw.texts(); len(got) != 1 || got[0] != "Geen code" {
			t.Fatalf("gateway got %q, want only the text without a send-by time", got)
		}
		if r := row(t, d, code); r.Status != db.OutboxFailed || !strings.Contains(r.LastError, "expired") {
			t.Fatalf("expired code row: %+v", r)
		}
		if r := row(t, d, plain); r.Status != db.OutboxSent {
			t.Fatalf("plain row: %+v", r)
		}
	})
}

// flakyGateway is a webhook SMS gateway that answers 503 while down, and
// 400 for +31600000000 (a number it refuses); it records the texts it
// accepted.
type flakyGateway struct {
	*httptest.Server
	down atomic.Bool
	mu   sync.Mutex
	got  []string
}

func newFlakyGateway(t *testing.T) *flakyGateway {
	g := &flakyGateway{}
	g.down.Store(true)
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p struct{ To, Body string }
		json.NewDecoder(r.Body).Decode(&p)
		switch {
		case p.To == "+31600000000":
			http.Error(w, "invalid number", http.StatusBadRequest)
		case g.down.Load():
			http.Error(w, "gateway down", http.StatusServiceUnavailable)
		default:
			g.mu.Lock()
			g.got = append(g.got, p.Body)
			g.mu.Unlock()
		}
	}))
	t.Cleanup(g.Close)
	return g
}

// texts returns the texts the gateway accepted so far.
func (g *flakyGateway) texts() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.got...)
}
