package handlers

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/components"
)

// threadAssign is "Toewijzen" in a team's conversation: to the member
// themself ("Aan mij toewijzen"), to a colleague of the team, or to nobody
// (0). Who may do it is decided in messaging.
func (h *handler) threadAssign(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	assignee, err := strconv.ParseInt(clip(formValue(c, "assignee"), 20), 10, 64)
	if err != nil || assignee < 0 {
		return apperr.New(apperr.Invalid, "team.assignee_not_member")
	}
	if err := h.messages.Assign(c.UserContext(), current(c).User, id, assignee); err != nil {
		if apperr.CodeOf(err) != apperr.Invalid {
			return err
		}
		v, verr := h.threadView(c, id)
		if verr != nil {
			return verr
		}
		v.Alert = h.message(c, err)
		return h.threadPage(c, statusOf(err), v)
	}
	h.logger(c).Info("conversation assigned", "thread", id, "assignee", assignee)
	return seeOther(c, components.ThreadURL(id))
}
