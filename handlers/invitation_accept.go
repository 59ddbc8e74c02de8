package handlers

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/components"
)

const maxUserAgentLen = 512

// invitationAccept is the AANMELDEN button: it consumes the link, starts the
// session and sends the user on to the next onboarding step.
func (h *handler) invitationAccept(c *fiber.Ctx) error {
	token := strings.Clone(c.Params("token"))
	if !validLinkToken(token) {
		return h.invitationInvalid(c, fiber.StatusNotFound, components.InvitationInvalidView{Expired: true})
	}
	session, next, err := h.invitations.Accept(c.UserContext(), token,
		strings.Clone(c.IP()), clip(strings.Clone(c.Get(fiber.HeaderUserAgent)), maxUserAgentLen))
	if err != nil {
		if apperr.CodeOf(err) == apperr.NotFound {
			h.logger(c).Info("sign-up link not usable")
			return h.invitationInvalid(c, fiber.StatusNotFound, components.InvitationInvalidView{Expired: true})
		}
		return err
	}
	SetSessionCookie(c, h.cfg, session)
	if validStep(next) {
		h.setNextStep(c, next)
	} else {
		h.logger(c).Warn("accept returned an unusable next step", "next", clip(next, 40))
	}
	h.logger(c).Info("signed up by link")
	return seeOther(c, "/welkom")
}

// clip shortens outside input to at most n bytes before it is stored or
// logged.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
