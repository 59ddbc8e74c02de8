package handlers

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
)

// RequestMetrics records what each request cost; *metrics.Metrics
// implements it.
type RequestMetrics interface {
	// CountQueries returns ctx carrying a counter of the database
	// statements run with it or a context derived from it, and a function
	// that reads the counter.
	CountQueries(ctx context.Context) (context.Context, func() int)
	// ObserveRequest records one answered request: its method, the pattern
	// of the route that answered (or unmatchedRoute), its status, duration
	// and statements.
	ObserveRequest(method, route string, status int, seconds float64, queries int)
}

// unmatchedRoute is the route label of a request that no route answered.
// It equals metrics.Unmatched.
const unmatchedRoute = "unmatched"

// observeRequest measures every request, from before the access log (so
// the status is the one sent) to the end: its duration by route pattern
// and the database statements run with its context.
func (h *handler) observeRequest(c *fiber.Ctx) error {
	start := time.Now()
	ctx, queries := h.metrics.CountQueries(c.UserContext())
	c.SetUserContext(ctx)
	err := c.Next()
	h.metrics.ObserveRequest(c.Method(), routePattern(c), c.Response().StatusCode(), time.Since(start).Seconds(), queries())
	return err
}

// routePattern returns the pattern of the route that answered c
// ("/berichten/:id"), never the path with its ids. When no route matched,
// the last route Fiber ran is a middleware mounted at "/", as every one is
// here; the only route whose pattern is "/" answers the path "/" alone.
func routePattern(c *fiber.Ctx) string {
	p := c.Route().Path
	if p == "/" && c.Path() != "/" {
		return unmatchedRoute
	}
	return p
}
