package handlers

import (
	"fmt"

	"github.com/gofiber/fiber/v2"

	"dialoog/components"
)

// devOutboxLimit is how many recent items the dev outbox shows.
const devOutboxLimit = 100

// devOutbox shows the mail and SMS the dev outbox "sent". It is only routed
// when Config.Dev is set.
func (h *handler) devOutbox(c *fiber.Ctx) error {
	var items []components.DevOutboxItem
	if h.outbox != nil {
		var err error
		if items, err = h.outbox.List(c.UserContext(), devOutboxLimit); err != nil {
			return fmt.Errorf("list dev outbox: %w", err)
		}
	}
	// Mail HTML uses inline styles; the preview iframe inherits this page's
	// CSP, so only this development page allows them.
	c.Set("Content-Security-Policy", h.devCSP)
	m := h.meta(c)
	v := components.DevOutboxView{Items: items}
	return h.page(c, fiber.StatusOK, components.DevOutboxPage(m, v), components.DevOutboxPartial(m, v))
}
