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
	form := components.ReplyForm{Signing: h.signingChoice(c, v)}
	if kept, err := h.keptReply(c, v); err != nil {
		return err
	} else if kept != nil {
		form = *kept
	}
	if isPartial(c) && c.Get("HX-Target") == "reply" {
		return render(c, fiber.StatusOK, components.ReplyFormFragment(h.meta(c), id, form))
	}
	v.Reply = &form
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
	// "Ter ondertekening": the request is made in the reply's transaction.
	choice := &components.SigningChoice{Chosen: map[int64]bool{}}
	sign, serr := h.signingForm(c, choice)
	if serr != nil {
		if errs == nil {
			errs = map[string]string{}
		}
		errs = mergeErrors(errs, h.fieldMessages(c, serr))
	}
	in := messaging.ReplyInput{ThreadID: id, Body: body, AttachmentIDs: ids}
	if errs != nil {
		// Refused for a file or the signing choice: say what else is
		// wrong too.
		if err := messaging.CheckReply(in); err != nil {
			errs = mergeErrors(errs, h.messageFieldErrors(c, err))
		}
	} else {
		if sign != nil {
			in.Within = h.signing.Within(u, id, *sign)
		}
		in.Within = h.sentKept(c, id, in.Within)
		_, err := h.messages.Reply(c.UserContext(), u, in)
		if err == nil {
			h.logger(c).Info("reply sent", "thread", id, "attachments", len(ids))
			h.keptSent(c)
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
	if offer := h.signingChoice(c, v); offer != nil {
		offer.On, offer.Chosen, offer.InOrder, offer.Deadline = choice.On, choice.Chosen, choice.InOrder, choice.Deadline
		choice = offer
	} else {
		choice = nil
	}
	v.Reply = &components.ReplyForm{Body: body, Errors: errs, Attachments: pending, Signing: choice}
	return h.threadPage(c, fiber.StatusUnprocessableEntity, v)
}

// mergeErrors adds the messages of more to errs where a field has none yet.
func mergeErrors(errs, more map[string]string) map[string]string {
	for k, v := range more {
		if _, ok := errs[k]; !ok {
			errs[k] = v
		}
	}
	return errs
}
