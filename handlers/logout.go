package handlers

import (
	"github.com/gofiber/fiber/v2"
)

// logout ends the session on the server and removes the cookie; the old
// token is worthless afterwards, wherever a copy of it went.
func (h *handler) logout(c *fiber.Ctx) error {
	h.endBrowserSession(c)
	ClearSessionCookie(c, h.cfg)
	h.logger(c).Info("logged out")
	return seeOther(c, pathLogin)
}
