package handlers

import (
	"github.com/gofiber/fiber/v2"

	"dialoog/components"
)

// start shows the public start page.
func (h *handler) start(c *fiber.Ctx) error {
	m := h.meta(c)
	return h.page(c, fiber.StatusOK, components.StartPage(m), components.StartPartial(m))
}
