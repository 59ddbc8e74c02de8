package handlers

import (
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/components"
)

const maxUserAgentLen = 512

// invitationAccept is the AANMELDEN button: it consumes the link, starts the
// session and sends the user on to their onboarding stage.
func (h *handler) invitationAccept(c *fiber.Ctx) error {
	token := strings.Clone(c.Params("token"))
	if !validLinkToken(token) {
		return h.invitationInvalid(c, fiber.StatusNotFound, components.InvitationInvalidView{Expired: true})
	}
	session, next, err := h.invitations.Accept(c.UserContext(), token,
		strings.Clone(c.IP()), clip(strings.Clone(c.Get(fiber.HeaderUserAgent)), maxUserAgentLen), h.chosenLanguage(c))
	if err != nil {
		if apperr.CodeOf(err) == apperr.NotFound {
			return h.linkNotUsable(c, token)
		}
		return err
	}
	h.endBrowserSession(c)
	SetSessionCookie(c, h.cfg, session)
	h.logger(c).Info("signed up by link")
	// Straight on to the user's first unfinished step; its guard corrects
	// the page if the stage needs more than its name (a second factor to
	// pass first, SMS already set up).
	return seeOther(c, stagePath(next))
}

// clip shortens outside input to at most n bytes before it is stored or
// logged, without splitting a character (within the last three bytes
// before the cut; input that is not UTF-8 there is cut in bytes).
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for i := n; i >= 0 && i > n-utf8.UTFMax; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i]
		}
	}
	return s[:n]
}
