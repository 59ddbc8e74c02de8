package handlers

import (
	"fmt"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/components"
)

// maxTermsFormLen bounds each posted text before it reaches the service,
// which allows 200,000 bytes.
const maxTermsFormLen = 256 << 10

// adminTermsShow shows the current terms version and the form to publish a
// new one, prefilled with the current texts; on an installation of
// several organisations only who publishes them.
func (h *handler) adminTermsShow(c *fiber.Ctx) error {
	t, err := h.terms.Current(c.UserContext())
	if err != nil {
		return fmt.Errorf("current terms: %w", err)
	}
	shared, err := h.terms.Shared(c.UserContext())
	if err != nil {
		return fmt.Errorf("terms shared: %w", err)
	}
	v := components.AdminTermsView{Version: t.Version, PublishedAt: t.PublishedAt, NL: t.NL, EN: t.EN, Shared: shared}
	return h.adminTermsForm(c, fiber.StatusOK, v)
}

// adminTermsPublish publishes a new version; everyone, the admin included,
// accepts it on their next request.
func (h *handler) adminTermsPublish(c *fiber.Ctx) error {
	nl, en := clip(formValue(c, "body_nl"), maxTermsFormLen), clip(formValue(c, "body_en"), maxTermsFormLen)
	if _, err := h.terms.Publish(c.UserContext(), current(c), nl, en); err != nil {
		if apperr.CodeOf(err) != apperr.Invalid {
			return err
		}
		t, cerr := h.terms.Current(c.UserContext())
		if cerr != nil {
			return fmt.Errorf("current terms: %w", cerr)
		}
		v := components.AdminTermsView{Version: t.Version, PublishedAt: t.PublishedAt, NL: nl, EN: en, BodyError: h.fieldMessage(c, err, "body")}
		return h.adminTermsForm(c, fiber.StatusUnprocessableEntity, v)
	}
	h.logger(c).Info("terms published")
	return seeOther(c, "/beheer/voorwaarden")
}

func (h *handler) adminTermsForm(c *fiber.Ctx, status int, v components.AdminTermsView) error {
	m := h.meta(c)
	return h.page(c, status, components.AdminTermsPage(m, v), components.AdminTermsPartial(m, v))
}
