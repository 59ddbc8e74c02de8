package handlers

import (
	"github.com/gofiber/fiber/v2"

	"dialoog/components"
	"dialoog/db"
)

// inbox is "Berichten". Messaging fills it later; for now it names the user
// and says honestly that there are no messages.
func (h *handler) inbox(c *fiber.Ctx) error {
	m := h.meta(c)
	u := current(c).User
	v := components.InboxView{Name: displayName(u), Admin: u.IsAdmin && u.Kind == db.KindInternal}
	return h.page(c, fiber.StatusOK, components.InboxPage(m, v), components.InboxPartial(m, v))
}
