package handlers

import (
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
)

// The idle warning's two requests (app.js, components.idleWarning).
const (
	// pathSessionState answers how long the browser's session has left.
	// It is routed before the session middleware, so that asking is no
	// activity.
	pathSessionState = "/sessie"
	// pathSessionExtend is "Ingelogd blijven".
	pathSessionExtend = "/sessie/verlengen"
)

// sessionLeft is the JSON of both: the whole seconds the session has left
// before it ends, 0 when it is over; ended when it is over because it was
// ended (a logout, "afmelden" elsewhere) rather than lapsed, so that the
// page says why it leaves.
type sessionLeft struct {
	Remaining int  `json:"remaining"`
	Ended     bool `json:"ended,omitempty"`
}

// sessionState tells the page's script how long its session has left,
// without moving the idle timer.
func (h *handler) sessionState(c *fiber.Ctx) error {
	left, ended, err := h.sessions.Remaining(c.UserContext(), c.Cookies(SessionCookieName(h.cfg)))
	if err != nil {
		return fmt.Errorf("session state: %w", err)
	}
	return c.JSON(sessionLeft{Remaining: int(left / time.Second), Ended: ended})
}

// sessionExtend restarts the idle timer of the request's session: the
// person answered the warning. A session that is over gets 401, and the
// script goes to the login page.
func (h *handler) sessionExtend(c *fiber.Ctx) error {
	cur := current(c)
	if cur == nil {
		return c.Status(fiber.StatusUnauthorized).JSON(sessionLeft{})
	}
	left, err := h.sessions.Extend(c.UserContext(), cur.Session.ID)
	if apperr.CodeOf(err) == apperr.Unauthorized {
		return c.Status(fiber.StatusUnauthorized).JSON(sessionLeft{})
	}
	if err != nil {
		return fmt.Errorf("extend session: %w", err)
	}
	return c.JSON(sessionLeft{Remaining: int(left / time.Second)})
}
