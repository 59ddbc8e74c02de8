package metrics

import (
	"context"
	"sync/atomic"

	"github.com/uptrace/bun"
)

// queryCounterKey marks a context whose database statements are counted.
type queryCounterKey struct{}

// CountQueries returns ctx carrying a new statement counter, and a function
// that reads it. Every statement run through a database with QueryHook
// installed, with ctx or a context derived from it, adds one; the statements
// of a request are counted this way when its handlers pass the request's
// context on to the services.
func (m *Metrics) CountQueries(ctx context.Context) (context.Context, func() int) {
	n := new(atomic.Int64)
	return context.WithValue(ctx, queryCounterKey{}, n), func() int { return int(n.Load()) }
}

// QueryHook counts each statement run with a context from CountQueries.
// Install it with (*db.DB).AddQueryHook, which also runs it around the
// prepared statements that bun does not see.
type QueryHook struct{}

var _ bun.QueryHook = QueryHook{}

// BeforeQuery implements bun.QueryHook.
func (QueryHook) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	if n, ok := ctx.Value(queryCounterKey{}).(*atomic.Int64); ok {
		n.Add(1)
	}
	return ctx
}

// AfterQuery implements bun.QueryHook.
func (QueryHook) AfterQuery(context.Context, *bun.QueryEvent) {}
