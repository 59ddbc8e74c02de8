package handlers

import (
	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/components"
	"dialoog/messaging"
)

// threadReplyShow is REAGEER: with htmx the reply form alone, swapped in
// place under the messages; without script the conversation with the form
// open.
func (h *handler) threadReplyShow(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	v, err := h.threadView(c, id) // also the participant check
	if err != nil {
		return err
	}
	c.Vary("HX-Request", "HX-Target")
	if isPartial(c) && c.Get("HX-Target") == "reply" {
		return render(c, fiber.StatusOK, components.ReplyFormFragment(h.meta(c), id, components.ReplyForm{}))
	}
	v.Reply = &components.ReplyForm{}
	return h.threadPage(c, fiber.StatusOK, v)
}

// threadReply is VERZEND under a conversation. Success goes back to the
// conversation (htmx swaps it in); a failure shows it again with the form
// open, the typed text, the uploaded files and the messages.
func (h *handler) threadReply(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	u := current(c).User
	body := clip(formValue(c, "body"), maxBodyFormLen)
	ids, errs, err := h.postedAttachments(c, u)
	if err != nil {
		return err
	}
	if errs == nil {
		_, err := h.messages.Reply(c.UserContext(), u, messaging.ReplyInput{ThreadID: id, Body: body, AttachmentIDs: ids})
		if err == nil {
			h.logger(c).Info("reply sent", "thread", id, "attachments", len(ids))
			return seeOther(c, components.ThreadURL(id))
		}
		if apperr.CodeOf(err) == apperr.Conflict {
			// The conversation's case was closed meanwhile: say so on the
			// conversation, which no longer offers the form.
			v, verr := h.threadView(c, id)
			if verr != nil {
				return verr
			}
			v.Alert = h.message(c, err)
			return h.threadPage(c, statusOf(err), v)
		}
		if apperr.CodeOf(err) != apperr.Invalid {
			return err
		}
		errs = h.messageFieldErrors(c, err)
	}
	v, err := h.threadView(c, id)
	if err != nil {
		return err
	}
	pending, err := h.pendingItems(c, u, ids)
	if err != nil {
		return err
	}
	v.Reply = &components.ReplyForm{Body: body, Errors: errs, Attachments: pending}
	return h.threadPage(c, fiber.StatusUnprocessableEntity, v)
}
