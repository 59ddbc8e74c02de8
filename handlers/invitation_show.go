package handlers

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/components"
)

// maxLinkTokenLen bounds a sign-up token; real ones are far shorter.
const maxLinkTokenLen = 256

// invitationShow is what the link in the invitation mail opens: the
// organisation, the address, and an AANMELDEN button. It consumes nothing,
// because mail scanners follow links; only the POST does.
func (h *handler) invitationShow(c *fiber.Ctx) error {
	token := strings.Clone(c.Params("token"))
	if !validLinkToken(token) {
		return h.invitationInvalid(c, fiber.StatusNotFound, components.InvitationInvalidView{Expired: true})
	}
	info, err := h.invitations.Check(c.UserContext(), token)
	if err != nil {
		if apperr.CodeOf(err) == apperr.NotFound {
			return h.linkNotUsable(c, token)
		}
		return err
	}
	if h.chosenLanguage(c) == "" {
		useUserLanguage(c, info.Language)
	}
	m := h.withBrand(c, h.meta(c), info.OrgID)
	v := components.InvitationView{Action: "/aanmelden/" + token, Email: info.Email, OrgName: info.OrgName}
	return h.page(c, fiber.StatusOK, components.InvitationPage(m, v), components.InvitationPartial(m, v))
}

// linkNotUsable answers a sign-up link that cannot be used (any more): a
// browser signed in as the person it was for goes on to their step, since
// the link did its work there (opened again from the mail, AANMELDEN
// pressed twice); anyone else reads that it no longer works.
func (h *handler) linkNotUsable(c *fiber.Ctx, token string) error {
	if cur := current(c); cur != nil {
		ok, err := h.invitations.IsFor(c.UserContext(), token, cur.User.ID)
		if err != nil {
			return err
		}
		if ok {
			return seeOther(c, "/stap")
		}
	}
	h.logger(c).Info("sign-up link not usable")
	return h.invitationInvalid(c, fiber.StatusNotFound, components.InvitationInvalidView{Expired: true})
}

// invitationInvalid shows the "link no longer works" page with the form for
// a new link.
func (h *handler) invitationInvalid(c *fiber.Ctx, status int, v components.InvitationInvalidView) error {
	m := h.meta(c)
	return h.page(c, status, components.InvitationInvalidPage(m, v), components.InvitationInvalidPartial(m, v))
}

// validLinkToken accepts the URL-safe characters a token generator uses
// (base64url, with or without padding, or hex), so nothing else reaches the
// service or is echoed into the form's action.
func validLinkToken(s string) bool {
	if s == "" || len(s) > maxLinkTokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		case b == '-', b == '_', b == '.', b == '~', b == '=':
		default:
			return false
		}
	}
	return true
}
