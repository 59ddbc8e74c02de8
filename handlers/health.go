package handlers

import (
	"context"
	"fmt"

	"github.com/gofiber/fiber/v2"
)

// healthz answers as long as the process serves HTTP: a liveness probe that
// must not depend on the database, or an outage would restart every instance.
func (h *handler) healthz(c *fiber.Ctx) error {
	return c.SendString("ok")
}

// readyz answers 200 when the database answers a ping and the attachment
// store takes a small write (and gives it back) within readyTimeout, else
// 503, so a load balancer stops sending traffic to this instance: one
// whose disk is full cannot store what users send.
//
// From the moment the process begins to stop it answers 503 without
// checking: the load balancer should send nothing new while the instance,
// for DIALOOG_SHUTDOWN_WAIT, still serves what it sends until it noticed,
// and then finishes the live connections and the requests under way.
func (h *handler) readyz(c *fiber.Ctx) error {
	select {
	case <-h.stopping: // nil (never) when not set
		return c.Status(fiber.StatusServiceUnavailable).SendString("stopping")
	default:
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), h.readyTimeout)
	defer cancel()
	// The checks run in their own goroutine so that a driver ignoring ctx
	// cannot hold the probe past its deadline.
	done := make(chan error, 1)
	go func() {
		if err := h.health.PingContext(ctx); err != nil {
			done <- fmt.Errorf("database: %w", err)
			return
		}
		if h.files != nil {
			if err := h.files.CheckWrite(ctx); err != nil {
				done <- fmt.Errorf("attachment store: %w", err)
				return
			}
		}
		done <- nil
	}()
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
