package handlers

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/components"
)

// maxEmailLen is the longest mail address accepted anywhere (RFC 5321 path
// limits, rounded up); longer input is not worth sending to a service.
const maxEmailLen = 320

// newLinkShow shows the form to ask for a new sign-up link.
func (h *handler) newLinkShow(c *fiber.Ctx) error {
	return h.invitationInvalid(c, fiber.StatusOK, components.InvitationInvalidView{})
}

// newLinkRequest asks the service for a new sign-up link. Any well-formed
// address gets the same answer, known or not; a malformed one gets the form
// again with the typed address and the message beside the field.
func (h *handler) newLinkRequest(c *fiber.Ctx) error {
	email := strings.TrimSpace(c.FormValue("email"))
	var err error
	switch {
	case email == "":
		err = apperr.Field("email", "email.required")
	case len(email) > maxEmailLen:
		err = apperr.Field("email", "email.invalid")
	default:
		email = strings.Clone(email)
		err = h.invitations.RequestNewLink(c.UserContext(), email, strings.Clone(c.IP()), h.localizer(c).Lang())
	}
	if err != nil {
		if apperr.CodeOf(err) == apperr.Invalid {
			v := components.InvitationInvalidView{Email: clip(email, maxEmailLen), EmailError: h.fieldMessage(c, err, "email")}
			return h.invitationInvalid(c, fiber.StatusUnprocessableEntity, v)
		}
		return err
	}
	return seeOther(c, "/aanmelden/nieuwe-link/verstuurd")
}

// newLinkSent is the answer page after asking for a new link.
func (h *handler) newLinkSent(c *fiber.Ctx) error {
	m := h.meta(c)
	return h.page(c, fiber.StatusOK, components.NewLinkSentPage(m), components.NewLinkSentPartial(m))
}
