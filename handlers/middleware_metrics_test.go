package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeMetrics records the observed requests; its query counter counts the
// calls that services get with the request's context.
type fakeMetrics struct {
	mu   sync.Mutex
	seen []observedRequest
}

type observedRequest struct {
	method, route   string
	status, queries int
}

type queryCounterKey struct{}

func (m *fakeMetrics) CountQueries(ctx context.Context) (context.Context, func() int) {
	n := new(atomic.Int64)
	return context.WithValue(ctx, queryCounterKey{}, n), func() int { return int(n.Load()) }
}

func (m *fakeMetrics) ObserveRequest(method, route string, status int, _ float64, queries int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seen = append(m.seen, observedRequest{strings.Clone(method), route, status, queries})
}

func (m *fakeMetrics) last(t *testing.T) observedRequest {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.seen) == 0 {
		t.Fatal("no request observed")
	}
	return m.seen[len(m.seen)-1]
}

// queryingInvitations stands for a service that runs a statement with the
// context it is given.
type queryingInvitations struct{ Invitations }

func (q queryingInvitations) Check(ctx context.Context, token string) (InvitationInfo, error) {
	if n, ok := ctx.Value(queryCounterKey{}).(*atomic.Int64); ok {
		n.Add(1)
	}
	return q.Invitations.Check(ctx, token)
}

// TestRequestMetrics: each request is observed once with the pattern of
// its route (never the ids or tokens in its path), the status sent (after
// errors became pages), and the statements its services ran with the
// request's context.
func TestRequestMetrics(t *testing.T) {
	m := &fakeMetrics{}
	ta := newTestApp(t, func(d *Deps) {
		d.Metrics = m
		d.Invitations = queryingInvitations{d.Invitations}
	})
	b := ta.browser(t)
	for _, tc := range []struct {
		method, target string
		form           url.Values
		want           observedRequest
	}{
		{"GET", "/", nil, observedRequest{"GET", "/", 0, 0}},
		{"GET", "/healthz", nil, observedRequest{"GET", "/healthz", http.StatusOK, 0}},
		{"GET", "/aanmelden/tok-valid", nil, observedRequest{"GET", "/aanmelden/:token", http.StatusOK, 1}},
		{"GET", "/aanmelden/tok-unknown", nil, observedRequest{"GET", "/aanmelden/:token", http.StatusNotFound, 1}},
		{"GET", "/bestaat-niet/42", nil, observedRequest{"GET", unmatchedRoute, http.StatusNotFound, 0}},
		// Refused by the CSRF middleware before routing.
		{"POST", "/inloggen", url.Values{"email": {"a@example.nl"}}, observedRequest{"POST", unmatchedRoute, http.StatusForbidden, 0}},
	} {
		resp, _ := b.do(tc.method, tc.target, tc.form)
		got := m.last(t)
		if tc.want.status == 0 {
			tc.want.status = resp.StatusCode
		}
		if got != tc.want || got.status != resp.StatusCode {
			t.Errorf("%s %s (sent %d): observed %+v, want %+v", tc.method, tc.target, resp.StatusCode, got, tc.want)
		}
	}
	if n := len(m.seen); n != 6 {
		t.Errorf("%d requests observed, want 6", n)
	}
}
