package handlers

import (
	"github.com/gofiber/fiber/v2"
)

// logout ends the session on the server and removes the cookie; the old
// token is worthless afterwards, wherever a copy of it went.
//
// A session opened through the organisation's provider goes on to the
// provider's end_session_endpoint, so that the provider's session ends
// too; only with script (HX-Redirect), because the form may only post to
// Dialoog itself (CSP form-action).
func (h *handler) logout(c *fiber.Ctx) error {
	provider := h.ssoLogout(c)
	h.endBrowserSession(c)
	ClearSessionCookie(c, h.cfg)
	h.logger(c).Info("logged out")
	if provider != "" && isPartial(c) {
		c.Set("HX-Redirect", provider)
		return c.Status(fiber.StatusOK).Send(nil)
	}
	return seeOther(c, pathLogin)
}
