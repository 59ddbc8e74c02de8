package handlers

import (
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/components"
	"dialoog/messaging"
)

// composeShow is "Nieuw bericht".
// A text the person kept when their session lapsed fills it in.
func (h *handler) composeShow(c *fiber.Ctx) error {
	v := components.ComposeView{}
	k, notice, err := h.keptText(c, 0)
	if err != nil {
		return err
	}
	if k != nil {
		v.Form, v.Kept = components.ComposeForm{To: k.To, Subject: k.Subject, Body: k.Body, Medical: k.Medical, Team: k.TeamID}, notice
	}
	return h.composeForm(c, fiber.StatusOK, v)
}

// composeSend starts a conversation and goes to it. Files posted with the
// form (no script) are uploaded first; a refused file, like any invalid
// field, brings the form back with every message, the typed values and
// the files already uploaded.
func (h *handler) composeSend(c *fiber.Ctx) error {
	u := current(c).User
	f := components.ComposeForm{
		To:      clip(formValue(c, "to"), maxToFormLen),
		Subject: clip(formValue(c, "subject"), maxSubjectFormLen),
		Body:    clip(formValue(c, "body"), maxBodyFormLen),
	}
	f.Team, _ = strconv.ParseInt(clip(formValue(c, "team"), 20), 10, 64)
	f.Medical = formValue(c, "medical") == "yes"
	ids, errs, err := h.postedAttachments(c, u)
	if err != nil {
		return err
	}
	// A refused field is 422; a limit reached (new conversations, new
	// addresses) is 429, with the same form and what was typed.
	status := fiber.StatusUnprocessableEntity
	// "Ter ondertekening": the request is made in the compose transaction.
	choice := &components.SigningChoice{Chosen: map[int64]bool{}}
	sign, serr := h.signingForm(c, choice)
	f.Sign, f.SignOrder, f.SignDeadline = choice.On, choice.InOrder, choice.Deadline
	if serr != nil {
		if errs == nil {
			errs = map[string]string{}
		}
		errs = mergeErrors(errs, h.fieldMessages(c, serr))
	}
	in := messaging.ComposeInput{
		To: []string{f.To}, Subject: f.Subject, Body: f.Body, AttachmentIDs: ids, TeamID: f.Team, Medical: f.Medical,
	}
	if errs != nil {
		// Refused for a file or the signing choice: say what else is
		// wrong too.
		if err := messaging.CheckCompose(u, in); err != nil {
			errs = mergeErrors(errs, h.messageFieldErrors(c, err))
		}
	} else {
		if sign != nil {
			sign.AllRecipients = true
			in.Within = h.signing.WithinCompose(u, *sign)
		}
		in.Within = h.sentKept(c, 0, in.Within)
		threadID, err := h.messages.Compose(c.UserContext(), u, in)
		if err == nil {
			h.logger(c).Info("message sent", "thread", threadID, "attachments", len(ids))
			h.keptSent(c)
			return seeOther(c, components.ThreadURL(threadID))
		}
		if code := apperr.CodeOf(err); code != apperr.Invalid && code != apperr.TooMany {
			return err
		}
		errs = h.messageFieldErrors(c, err)
		status = statusOf(err)
	}
	pending, err := h.pendingItems(c, u, ids)
	if err != nil {
		return err
	}
	return h.composeForm(c, status, components.ComposeView{Form: f, Errors: errs, Attachments: pending})
}

func (h *handler) composeForm(c *fiber.Ctx, status int, v components.ComposeView) error {
	u := current(c).User
	contacts, err := h.messages.Contacts(c.UserContext(), u, contactsShown)
	if err != nil {
		return fmt.Errorf("contacts: %w", err)
	}
	v.Contacts = contacts
	v.External = !u.Internal()
	v.Signing = h.signing != nil && !v.External
	teams, err := h.messages.MyTeams(c.UserContext(), u)
	if err != nil {
		return fmt.Errorf("teams: %w", err)
	}
	v.Teams = teamTabs(teams)
	m := h.meta(c)
	return h.page(c, status, components.ComposePage(m, v), components.ComposePartial(m, v))
}
