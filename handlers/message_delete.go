package handlers

import (
	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/components"
)

// messageDeleteForEveryone is "Verwijderen voor iedereen": allowed to the
// sender while nobody else has read the message. A refusal (read
// meanwhile, not the sender's) shows the conversation with the reason.
func (h *handler) messageDeleteForEveryone(c *fiber.Ctx) error {
	threadID, messageID, err := h.messageInThread(c)
	if err != nil {
		return err
	}
	if err := h.messages.DeleteForEveryone(c.UserContext(), current(c).User, messageID); err != nil {
		return h.threadRefusal(c, threadID, err)
	}
	h.logger(c).Info("message deleted for everyone", "thread", threadID, "message", messageID)
	return h.afterRemoval(c, threadID)
}

// messageRemove is "Verwijderen uit mijn berichten": the others keep it.
func (h *handler) messageRemove(c *fiber.Ctx) error {
	threadID, messageID, err := h.messageInThread(c)
	if err != nil {
		return err
	}
	if err := h.messages.RemoveFromBox(c.UserContext(), current(c).User, messageID); err != nil {
		return h.threadRefusal(c, threadID, err)
	}
	return h.afterRemoval(c, threadID)
}

// threadRemove is "Gesprek verwijderen": every message of the conversation
// leaves the user's box; a new message brings it back.
func (h *handler) threadRemove(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := h.messages.RemoveThreadFromBox(c.UserContext(), current(c).User, id); err != nil {
		return err
	}
	return seeOther(c, pathInbox)
}

// messageInThread reads the conversation and message ids of a message
// route and checks that the message is one the user sees in that
// conversation: any mismatch is NotFound, like an id of someone else's.
// The check loads no page: it is no open of a medical conversation.
func (h *handler) messageInThread(c *fiber.Ctx) (threadID, messageID int64, err error) {
	if threadID, err = idParam(c, "id"); err != nil {
		return 0, 0, err
	}
	if messageID, err = idParam(c, "mid"); err != nil {
		return 0, 0, err
	}
	in, err := h.messages.MessageInBox(c.UserContext(), current(c).User, threadID, messageID)
	if err != nil {
		return 0, 0, err
	}
	if !in {
		return 0, 0, errNotFound
	}
	return threadID, messageID, nil
}

// afterRemoval goes back to the conversation, or to the inbox when nothing
// of it is left in the user's box.
func (h *handler) afterRemoval(c *fiber.Ctx, threadID int64) error {
	left, err := h.messages.BoxHasMessages(c.UserContext(), current(c).User, threadID)
	if apperr.CodeOf(err) == apperr.NotFound || (err == nil && !left) {
		return seeOther(c, pathInbox)
	}
	if err != nil {
		return err
	}
	return seeOther(c, components.ThreadURL(threadID)+"?melding=verwijderd")
}

// threadRefusal shows the conversation with the reason a change was
// refused (a conflict or a permission), with its status; other errors go
// to the error page.
func (h *handler) threadRefusal(c *fiber.Ctx, threadID int64, err error) error {
	switch apperr.CodeOf(err) {
	case apperr.Conflict, apperr.Forbidden, apperr.TooMany:
	default:
		return err
	}
	v, verr := h.threadView(c, threadID)
	if verr != nil {
		return verr
	}
	v.Alert = h.message(c, err)
	return h.threadPage(c, statusOf(err), v)
}
