package handlers

import (
	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/components"
)

// attachmentUpload stores one file for a message being written (app.js
// posts each chosen file here, multipart, field "file") and answers with
// its chip: the hidden id the form posts, name and size. A refused file
// gets a 422 with the reason in the chip's place.
func (h *handler) attachmentUpload(c *fiber.Ctx) error {
	m := h.meta(c)
	fh, err := c.FormFile("file")
	if err != nil {
		return render(c, fiber.StatusUnprocessableEntity, components.AttachmentChipError(m, "", m.T("attachment.empty")))
	}
	a, err := h.uploadFile(c, current(c).User, fh)
	if err != nil {
		if apperr.CodeOf(err) != apperr.Invalid {
			return err
		}
		return render(c, fiber.StatusUnprocessableEntity, components.AttachmentChipError(m, uploadName(fh), h.fieldMessage(c, err, "attachments")))
	}
	h.logger(c).Info("attachment uploaded", "attachment", a.ID, "size", a.Size)
	return render(c, fiber.StatusOK, components.AttachmentChip(m, attachmentItem(*a)))
}
