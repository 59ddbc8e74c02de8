package handlers

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/components"
)

// pathFirstAdmin is where the link printed at the first start points.
const pathFirstAdmin = auth.SetupPath

// firstAdminShow is the page of the first start's link: the person who
// started Dialoog chooses the mail address of its first admin. Opening it
// changes nothing.
func (h *handler) firstAdminShow(c *fiber.Ctx) error {
	token := c.Params("token")
	org, err := h.firstAdmin.CheckSetup(c.UserContext(), token)
	if err != nil {
		return err
	}
	return h.firstAdminPage(c, fiber.StatusOK, components.FirstAdminView{Action: pathFirstAdmin + token, OrgName: org})
}

// firstAdminChoose uses the link: the address becomes the first admin and
// is invited (the mail is queued), and the browser goes on to the
// invitation's page at once. A mistake shows the form again with what was
// typed.
func (h *handler) firstAdminChoose(c *fiber.Ctx) error {
	token := c.Params("token")
	email := clip(formValue(c, "email"), 320)
	link, err := h.firstAdmin.ChooseFirstAdmin(c.UserContext(), token, email, h.localizer(c).Lang(), clientIP(c))
	if apperr.CodeOf(err) == apperr.Invalid {
		org, cerr := h.firstAdmin.CheckSetup(c.UserContext(), token)
		if cerr != nil {
			return cerr
		}
		return h.firstAdminPage(c, fiber.StatusUnprocessableEntity, components.FirstAdminView{
			Action: pathFirstAdmin + token, OrgName: org, Email: email, Error: h.fieldMessage(c, err, "email")})
	}
	if err != nil {
		return err
	}
	return seeOther(c, strings.TrimPrefix(link, h.cfg.BaseURL.String()))
}

func (h *handler) firstAdminPage(c *fiber.Ctx, status int, v components.FirstAdminView) error {
	m := h.meta(c)
	return h.page(c, status, components.FirstAdminPage(m, v), components.FirstAdminPartial(m, v))
}
