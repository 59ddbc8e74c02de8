package handlers

import (
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/components"
)

// termsStepShow is the first step of the first visit, and what every user
// sees again after a new version was published: the seed's introduction, a
// link to the full text and the checkbox.
func (h *handler) termsStepShow(c *fiber.Ctx) error {
	return h.termsStepForm(c, fiber.StatusOK, "")
}

// termsStepAccept records the acceptance of the version the form showed.
// Unchecked is refused here too, not only by the browser.
func (h *handler) termsStepAccept(c *fiber.Ctx) error {
	version, err := strconv.ParseInt(c.FormValue("version"), 10, 64)
	if err != nil {
		version = 0 // the service then answers terms.changed and the form shows the current version
	}
	token, err := h.accounts.AcceptTerms(c.UserContext(), current(c), version, checked(c, "accept"), clientIP(c))
	if err != nil {
		if apperr.CodeOf(err) == apperr.Invalid {
			return h.termsStepForm(c, fiber.StatusUnprocessableEntity, h.fieldMessage(c, err, "accept"))
		}
		return err
	}
	return h.advance(c, token)
}

func (h *handler) termsStepForm(c *fiber.Ctx, status int, errMsg string) error {
	t, err := h.terms.Current(c.UserContext())
	if err != nil {
		return fmt.Errorf("current terms: %w", err)
	}
	m := h.meta(c)
	v := components.TermsStepView{VersionID: t.ID, Version: t.Version, Error: errMsg}
	return h.page(c, status, components.TermsStepPage(m, v), components.TermsStepPartial(m, v))
}
