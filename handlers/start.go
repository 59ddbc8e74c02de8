package handlers

import (
	"github.com/gofiber/fiber/v2"

	"dialoog/components"
)

// start shows the public start page; right after a user stopped with
// Dialoog (?gestopt=1, signed out) it says that their account is gone.
func (h *handler) start(c *fiber.Ctx) error {
	m := h.meta(c)
	v := components.StartView{Stopped: c.Query("gestopt") == "1" && current(c) == nil}
	return h.page(c, fiber.StatusOK, components.StartPage(m, v), components.StartPartial(m, v))
}
