package handlers

import (
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/components"
)

// termsShow shows the full text of the terms of use, public: the current
// version at /voorwaarden, an earlier one at /voorwaarden/:version. English
// readers get the English text when the version has one.
func (h *handler) termsShow(c *fiber.Ctx) error {
	var t TermsVersion
	var err error
	if p := c.Params("version"); p != "" {
		n, perr := strconv.Atoi(p)
		if perr != nil || n < 1 || len(p) > 9 {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		t, err = h.terms.Version(c.UserContext(), n)
	} else {
		t, err = h.terms.Current(c.UserContext())
	}
	if err != nil {
		if apperr.CodeOf(err) == apperr.NotFound {
			return err
		}
		return fmt.Errorf("load terms: %w", err)
	}
	m := h.meta(c)
	v := components.TermsTextView{Version: t.Version, PublishedAt: t.PublishedAt, Body: t.NL}
	if m.Lang() == "en" {
		if t.EN != "" {
			v.Body = t.EN
		} else {
			v.OnlyDutch = true
		}
	}
	return h.page(c, fiber.StatusOK, components.TermsTextPage(m, v), components.TermsTextPartial(m, v))
}
