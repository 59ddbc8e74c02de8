package handlers

import (
	"context"

	"github.com/gofiber/fiber/v2"
)

// healthz answers as long as the process serves HTTP: a liveness probe that
// must not depend on the database, or an outage would restart every instance.
func (h *handler) healthz(c *fiber.Ctx) error {
	return c.SendString("ok")
}

// readyz answers 200 when the database answers a ping within readyTimeout,
// else 503, so a load balancer stops sending traffic to this instance.
func (h *handler) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), h.readyTimeout)
	defer cancel()
	// The ping runs in its own goroutine so that a driver ignoring ctx
	// cannot hold the probe past its deadline.
	done := make(chan error, 1)
	go func() { done <- h.health.PingContext(ctx) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		h.logger(c).Warn("not ready", "err", err)
		return c.Status(fiber.StatusServiceUnavailable).SendString("not ready")
	}
	return c.SendString("ok")
}
