package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// webhookRequest is one request a test gateway received.
type webhookRequest struct {
	Key  string
	To   string
	Body string
}

// 3. Webhook: 500 first, retried after the backoff, then 200.
func TestWebhookRetry(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		var mu sync.Mutex
		var reqs []webhookRequest
		gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost || r.URL.Path != "/sms/send" || r.URL.Query().Get("token") != "gw-secret" {
				http.Error(w, "wrong request "+r.Method+" "+r.URL.Path, http.StatusBadRequest)
				return
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				http.Error(w, "content type "+ct, http.StatusUnsupportedMediaType)
				return
			}
			var p map[string]string
			if err := json.NewDecoder(r.Body).Decode(&p); err != nil || len(p) != 2 {
				http.Error(w, fmt.Sprintf("body %v %v", p, err), http.StatusBadRequest)
				return
			}
			mu.Lock()
			reqs = append(reqs, webhookRequest{Key: r.Header.Get("Idempotency-Key"), To: p["to"], Body: p["body"]})
			n := len(reqs)
			mu.Unlock()
			if n == 1 {
				http.Error(w, "gateway overloaded", http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusOK)
		}))
		defer gw.Close()

		v := testVault(t, 2)
		u := mustURL(t, "webhook+"+gw.URL+"/sms/send?token=gw-secret")
		s, err := NewSMSSender(u, nil)
		if err != nil {
			t.Fatal(err)
		}
		if s.Name() != "webhook" {
			t.Fatalf("Name %q", s.Name())
		}
		id := queueSMS(t, d, NewOutbox(v), SMS{To: "+31612345678", Body: "Uw code is 123456"})
		clk := newClock()
		base := 10 * time.Second
		w := NewWorker(d, v, nil, s, testLogger(t), WorkerOptions{Now: clk.Now, BaseBackoff: base})

		if n := runOnce(t, w); n != 0 {
			t.Fatal("delivered despite a 500")
		}
		r := row(t, d, id)
		if r.Status != db.OutboxPending || !strings.Contains(r.LastError, "500") || r.Attempts != 1 {
			t.Fatalf("row after 500: %+v", r)
		}
		if strings.Contains(r.LastError, "gw-secret") || strings.Contains(r.LastError, "123456") {
			t.Fatalf("secret in last_error: %q", r.LastError)
		}
		t.Logf("last_error: %s", r.LastError)
		now := clk.Now()
		if !r.NextAttemptAt.After(now) || r.NextAttemptAt.After(now.Add(base)) {
			t.Fatalf("next_attempt_at %v, want in (%v, %v]", r.NextAttemptAt, now, now.Add(base))
		}
		if n := runOnce(t, w); n != 0 {
			t.Fatal("retried before the backoff")
		}

		clk.Advance(base)
		if n := runOnce(t, w); n != 1 {
			t.Fatalf("delivered %d after the backoff (last_error %q)", n, row(t, d, id).LastError)
		}
		r = row(t, d, id)
		if r.Status != db.OutboxSent || r.Transport != "webhook" || r.Payload != nil || r.Attempts != 2 {
			t.Fatalf("row after 200: %+v", r)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(reqs) != 2 {
			t.Fatalf("gateway saw %d requests, want 2", len(reqs))
		}
		for _, q := range reqs {
			if q.Key != r.IdempotencyKey || q.To != "+31612345678" || q.Body != "Uw code is 123456" {
				t.Errorf("request %+v, want key %s", q, r.IdempotencyKey)
			}
		}
	})
}

// A gateway that refuses a text and quotes the request in its answer, as
// JSON, leaves neither the code nor the number in the row's error text or
// the log: the text of a code message has line breaks, which the quote
// escapes, and the number may be quoted without its "+".
func TestWebhookRefusalQuotingTheText(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var p map[string]string
			if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnprocessableEntity)
			json.NewEncoder(w).Encode(map[string]any{
				"error":   "number not reachable: " + strings.TrimPrefix(p["to"], "+"),
				"request": p,
			})
		}))
		defer gw.Close()

		s, err := NewSMSSender(mustURL(t, "webhook+"+gw.URL+"/sms"), nil)
		if err != nil {
			t.Fatal(err)
		}
		v := testVault(t, 4)
		const phone, code = "+31612345678", "482913"
		body := "Je code is " + code + ".\n\n@dialoog.example #" + code
		id := queueSMS(t, d, NewOutbox(v), SMS{To: phone, Body: body})
		var logged bytes.Buffer
		log := slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
		w := NewWorker(d, v, nil, s, log, WorkerOptions{Now: newClock().Now})
		if n := runOnce(t, w); n != 0 {
			t.Fatal("delivered despite a 422")
		}
		r := row(t, d, id)
		if r.Status != db.OutboxFailed || !strings.Contains(r.LastError, "422") || !strings.Contains(r.LastError, "not reachable") {
			t.Fatalf("row after 422: status %s last_error %q", r.Status, r.LastError)
		}
		t.Logf("last_error: %s", r.LastError)
		for _, secret := range []string{code, strings.TrimPrefix(phone, "+")} {
			if strings.Contains(r.LastError, secret) {
				t.Errorf("last_error holds %q: %q", secret, r.LastError)
			}
			if strings.Contains(logged.String(), secret) {
				t.Errorf("the log holds %q: %s", secret, logged.String())
			}
		}
	})
}

// 4. Twilio: basic auth, form fields, 201; a 400 fails the row and keeps
// Twilio's message.
func TestTwilio(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		const sid, token = "AC0123456789abcdef", "tw-auth-token"
		type twReq struct{ Key, To, From, Service, Body string }
		var mu sync.Mutex
		var reqs []twReq
		gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/"+sid+"/Messages.json" {
				w.WriteHeader(http.StatusNotFound)
				io.WriteString(w, `{"code":20404,"message":"The requested resource was not found","status":404}`)
				return
			}
			if u, p, ok := r.BasicAuth(); !ok || u != sid || p != token {
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, `{"code":20003,"message":"Authenticate","status":401}`)
				return
			}
			if err := r.ParseForm(); err != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			q := twReq{
				Key: r.Header.Get("I-Twilio-Idempotency-Token"), To: r.PostForm.Get("To"),
				From: r.PostForm.Get("From"), Service: r.PostForm.Get("MessagingServiceSid"), Body: r.PostForm.Get("Body"),
			}
			mu.Lock()
			reqs = append(reqs, q)
			mu.Unlock()
			if q.To == "+31600000000" {
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `{"code":21211,"message":"The 'To' number +31600000000 is not a valid phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400}`)
				return
			}
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"sid":"SM0123","status":"queued","to":"`+q.To+`"}`)
		}))
		defer gw.Close()

		host := strings.TrimPrefix(gw.URL, "http://")
		// An unescaped "+" in from is accepted too.
		s, err := NewSMSSender(mustURL(t, "twilio+http://"+sid+":"+token+"@"+host+"?from=+3197010000001"), gw.Client())
		if err != nil {
			t.Fatal(err)
		}
		if s.Name() != "twilio" {
			t.Fatalf("Name %q", s.Name())
		}
		v := testVault(t, 3)
		o := NewOutbox(v)
		okID := queueSMS(t, d, o, SMS{To: "+31612345678", Body: "Uw code is 654321"})
		w := NewWorker(d, v, nil, s, testLogger(t), WorkerOptions{Now: newClock().Now})
		if n := runOnce(t, w); n != 1 {
			t.Fatalf("delivered %d (last_error %q)", n, row(t, d, okID).LastError)
		}
		if r := row(t, d, okID); r.Status != db.OutboxSent || r.Transport != "twilio" || r.Payload != nil {
			t.Fatalf("row %+v", r)
		}

		badID := queueSMS(t, d, o, SMS{To: "+31600000000", Body: "Uw code is 111111"})
		if n := runOnce(t, w); n != 0 {
			t.Fatal("delivered despite a 400")
		}
		// A 400 rejects this text (here: an invalid number): no retry helps.
		bad := row(t, d, badID)
		if bad.Status != db.OutboxFailed || !strings.Contains(bad.LastError, "21211") ||
			!strings.Contains(bad.LastError, "is not a valid phone number") || strings.Contains(bad.LastError, "+31600000000") {
			t.Fatalf("row after 400: status %s last_error %q", bad.Status, bad.LastError)
		}
		if strings.Contains(bad.LastError, token) || strings.Contains(bad.LastError, "111111") {
			t.Fatalf("secret in last_error %q", bad.LastError)
		}
		t.Logf("last_error: %s", bad.LastError)

		// A messaging service SID goes as MessagingServiceSid.
		const service = "MG0123456789abcdef0123456789abcdef"
		ms, err := NewSMSSender(mustURL(t, "twilio+http://"+sid+":"+token+"@"+host+"?from="+service), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := ms.Send(context.Background(), "key-mg", SMS{To: "+31612345679", Body: "hoi"}); err != nil {
			t.Fatal(err)
		}
		// An alphanumeric sender ID (at most 11 characters) that happens to
		// start with MG is a sender, not a messaging service.
		alpha, err := NewSMSSender(mustURL(t, "twilio+http://"+sid+":"+token+"@"+host+"?from=MGZ%20Arbo"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := alpha.Send(context.Background(), "key-alpha", SMS{To: "+31612345670", Body: "hoi"}); err != nil {
			t.Fatal(err)
		}

		mu.Lock()
		defer mu.Unlock()
		if len(reqs) != 4 {
			t.Fatalf("gateway saw %d requests, want 4", len(reqs))
		}
		want := []twReq{
			{Key: row(t, d, okID).IdempotencyKey, To: "+31612345678", From: "+3197010000001", Body: "Uw code is 654321"},
			{Key: bad.IdempotencyKey, To: "+31600000000", From: "+3197010000001", Body: "Uw code is 111111"},
			{Key: "key-mg", To: "+31612345679", Service: service, Body: "hoi"},
			{Key: "key-alpha", To: "+31612345670", From: "MGZ Arbo", Body: "hoi"},
		}
		for i := range want {
			if reqs[i] != want[i] {
				t.Errorf("request %d: %+v, want %+v", i, reqs[i], want[i])
			}
		}
	})
}

// dedupGateway is a webhook gateway that delivers each idempotency key once.
// With block set, the first request for a key is delivered but never answered
// until the client goes away (the worker "crashes" meanwhile).
type dedupGateway struct {
	*httptest.Server
	block   bool
	arrived chan string

	mu        sync.Mutex
	seen      map[string]int
	delivered map[string]webhookRequest
}

func newDedupGateway(t *testing.T, block bool) *dedupGateway {
	g := &dedupGateway{block: block, arrived: make(chan string, 100), seen: map[string]int{}, delivered: map[string]webhookRequest{}}
	release := make(chan struct{})
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p struct{ To, Body string }
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			http.Error(w, "no Idempotency-Key", http.StatusBadRequest)
			return
		}
		g.mu.Lock()
		g.seen[key]++
		first := g.seen[key] == 1
		if _, dup := g.delivered[key]; !dup {
			g.delivered[key] = webhookRequest{Key: key, To: p.To, Body: p.Body}
		}
		g.mu.Unlock()
		select {
		case g.arrived <- key:
		default:
		}
		if g.block && first {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(func() {
		close(release)
		g.Close()
	})
	return g
}

func (g *dedupGateway) counts() (seen map[string]int, delivered int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	seen = map[string]int{}
	for k, n := range g.seen {
		seen[k] = n
	}
	return seen, len(g.delivered)
}

// 5. A worker killed mid-delivery: the row is delivered again after the
// lease, with the same idempotency key, and the gateway delivers it once.
func TestWorkerKilledMidDelivery(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		gw := newDedupGateway(t, true)
		v := testVault(t, 4)
		s, err := NewSMSSender(mustURL(t, "webhook+"+gw.URL), nil)
		if err != nil {
			t.Fatal(err)
		}
		id := queueSMS(t, d, NewOutbox(v), SMS{To: "+31612345678", Body: "Uw code is 222222"})
		clk := newClock()
		lease := 2 * time.Minute
		opt := WorkerOptions{Now: clk.Now, Lease: lease}

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		crashed := NewWorker(d, v, nil, s, testLogger(t), opt)
		done := make(chan error, 1)
		go func() {
			_, err := crashed.RunOnce(ctx)
			done <- err
		}()
		var key string
		select {
		case key = <-gw.arrived:
		case err := <-done:
			t.Fatalf("worker returned before the request arrived: %v", err)
		case <-time.After(20 * time.Second):
			t.Fatal("the request never arrived")
		}
		cancel() // the "crash": the worker never learns the outcome
		select {
		case err := <-done:
			if err == nil {
				t.Fatal("RunOnce returned no error after its context was cancelled")
			}
		case <-time.After(20 * time.Second):
			t.Fatal("worker did not stop")
		}

		r := row(t, d, id)
		if r.Status != db.OutboxSending || r.Attempts != 1 || r.IdempotencyKey != key {
			t.Fatalf("row after the crash: status %s attempts %d", r.Status, r.Attempts)
		}

		fresh := NewWorker(d, v, nil, s, testLogger(t), opt)
		clk.Advance(lease / 2)
		if n := runOnce(t, fresh); n != 0 {
			t.Fatal("re-delivered while the lease holds")
		}
		clk.Advance(lease)
		if n := runOnce(t, fresh); n != 1 {
			t.Fatalf("re-delivery: %d (last_error %q)", n, row(t, d, id).LastError)
		}
		r = row(t, d, id)
		if r.Status != db.OutboxSent || r.Attempts != 2 {
			t.Fatalf("row after re-delivery: %+v", r)
		}
		seen, delivered := gw.counts()
		if delivered != 1 || len(seen) != 1 || seen[key] != 2 {
			t.Fatalf("gateway delivered %d, saw %v; want 1 delivered and the key %s twice", delivered, seen, key)
		}
	})
}

func TestNewSMSSenderURLs(t *testing.T) {
	if s, err := NewSMSSender(nil, nil); err != nil || s.Name() != DevTransport {
		t.Fatalf("nil URL: %v %v", s, err)
	}
	for _, bad := range []string{
		"http://host/x", "webhook+https:///path", "twilio://api.twilio.com?from=%2B31", "twilio://SID@api.twilio.com?from=%2B31",
		"twilio://SID:tok-secret@api.twilio.com", "twilio://SID:tok-secret@api.twilio.com?from=",
	} {
		_, err := NewSMSSender(mustURL(t, bad), nil)
		if err == nil {
			t.Errorf("%s: no error", bad)
		} else if strings.Contains(err.Error(), "tok-secret") {
			t.Errorf("%s: token in error %q", bad, err)
		}
	}
	s, err := NewSMSSender(mustURL(t, "twilio://AC1:tok@api.twilio.com?from=%2B3197010000001"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if e := s.(*twilioSMS).endpoint; e != "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json" {
		t.Errorf("endpoint %s", e)
	}
	// A gateway that cannot be reached: the error names the host, not the credentials.
	s, _ = NewSMSSender(mustURL(t, "webhook+http://user:pw-secret@"+freeAddr(t)+"/x?token=q-secret"), nil)
	err = s.Send(context.Background(), "k", SMS{To: "+31612345678", Body: "b"})
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("err = %v", err)
	}
}

// A gateway URL that redirects (http to https, a moved path) is not
// followed: a POST that a redirect turns into a GET carries no text, yet
// an answer 200 to it counted as delivered, and a login code was lost
// without a word. The redirect is an error that names the status, and
// the credentials never go to where it points.
func TestSMSGatewayRedirectNotFollowed(t *testing.T) {
	var mu sync.Mutex
	var hits []string
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits = append(hits, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		if r.URL.Path != "/moved" {
			http.Redirect(w, r, "/moved", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusOK) // answers anything, also a GET without the text
	}))
	defer gw.Close()
	host := strings.TrimPrefix(gw.URL, "http://")
	for _, u := range []string{"webhook+http://user:pw@" + host + "/send", "twilio+http://AC1:tok@" + host + "?from=%2B3197010000001"} {
		mu.Lock()
		hits = nil
		mu.Unlock()
		s, err := NewSMSSender(mustURL(t, u), nil)
		if err != nil {
			t.Fatal(err)
		}
		err = s.Send(context.Background(), "k", SMS{To: "+31612345678", Body: "Uw code is 123456"})
		if err == nil || !strings.Contains(err.Error(), "302") {
			t.Errorf("%s: err = %v, want an error naming the redirect", s.Name(), err)
		}
		mu.Lock()
		if len(hits) != 1 {
			t.Errorf("%s: gateway saw %q, want only the POST", s.Name(), hits)
		}
		mu.Unlock()
	}
}
