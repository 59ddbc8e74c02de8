package notifytest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Text is one SMS a test gateway accepted.
type Text struct {
	To, Body, IdempotencyKey string
}

// Gateway is an HTTP server speaking Dialoog's webhook SMS API: POST JSON
// {"to": "+316...", "body": "..."}.
type Gateway struct {
	URL   string // webhook+http://... for DIALOOG_SMS_URL
	mu    sync.Mutex
	texts []Text
}

// StartGateway starts a webhook SMS gateway on loopback.
func StartGateway(t testing.TB) *Gateway {
	t.Helper()
	g := &Gateway{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ To, Body string }
		if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&in) != nil || in.To == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		g.mu.Lock()
		g.texts = append(g.texts, Text{To: in.To, Body: in.Body, IdempotencyKey: r.Header.Get("Idempotency-Key")})
		g.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	g.URL = "webhook+" + srv.URL + "/sms"
	return g
}

// Texts returns the texts received so far.
func (g *Gateway) Texts() []Text {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Text(nil), g.texts...)
}

// WaitText waits until the gateway holds more than after texts to number,
// and returns the newest.
func (g *Gateway) WaitText(t testing.TB, to string, after int, timeout time.Duration) Text {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var mine []Text
		for _, x := range g.Texts() {
			if x.To == to {
				mine = append(mine, x)
			}
		}
		if len(mine) > after {
			return mine[len(mine)-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no text to %s within %s", to, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Count returns how many texts went to number.
func (g *Gateway) Count(to string) int {
	n := 0
	for _, x := range g.Texts() {
		if x.To == to {
			n++
		}
	}
	return n
}
