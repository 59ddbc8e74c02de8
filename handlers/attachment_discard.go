package handlers

import (
	"github.com/gofiber/fiber/v2"
)

// attachmentDiscard deletes a file the user uploaded and has not sent:
// app.js posts it when "Verwijderen" takes the file's chip off the form.
// The answer has no content; a file that is not the user's unsent upload
// is 404 like any object they may not see.
func (h *handler) attachmentDiscard(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := h.messages.DiscardUpload(c.UserContext(), current(c).User, id); err != nil {
		return err
	}
	h.logger(c).Info("attachment discarded", "attachment", id)
	return c.SendStatus(fiber.StatusNoContent)
}
