package handlers

import (
	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/components"
	"dialoog/messaging"
)

// participantAdd is "Deelnemer toevoegen": an internal user of the
// conversation's organisation adds someone by mail address, with or
// without the earlier messages, who is invited or notified. An invalid or present address shows the form again with
// its message.
func (h *handler) participantAdd(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	in := messaging.AddInput{Email: clip(formValue(c, "email"), maxEmailFormLen), History: clip(formValue(c, "history"), 8)}
	if err := h.messages.AddParticipant(c.UserContext(), current(c).User, id, in); err != nil {
		if code := apperr.CodeOf(err); code != apperr.Invalid && code != apperr.TooMany {
			return err
		}
		v, verr := h.threadView(c, id)
		if verr != nil {
			return verr
		}
		v.Add = components.AddParticipantForm{Email: in.Email, History: in.History}
		for field, msg := range h.fieldMessages(c, err) {
			switch field {
			case "history":
				v.Add.HistoryError = msg
			default:
				v.Add.Error = msg
			}
		}
		if v.Add.Error == "" && v.Add.HistoryError == "" {
			v.Add.Error = h.message(c, err)
		}
		return h.threadPage(c, statusOf(err), v)
	}
	h.logger(c).Info("participant added", "thread", id)
	return seeOther(c, components.ThreadURL(id)+"?melding=toegevoegd")
}

// invitationResend is "Uitnodiging opnieuw versturen" for a participant
// who never signed up. For one who did, the conversation says so.
func (h *handler) invitationResend(c *fiber.Ctx) error {
	id, uid, err := participantParams(c)
	if err != nil {
		return err
	}
	if err := h.messages.ResendInvitation(c.UserContext(), current(c).User, id, uid); err != nil {
		return h.threadRefusal(c, id, err)
	}
	h.logger(c).Info("invitation sent again", "thread", id, "user", uid)
	return seeOther(c, components.ThreadURL(id)+"?melding=uitnodiging")
}

// participantRemove is "Verwijderen" beside a participant: an internal
// user of the conversation's organisation takes out someone added by
// mistake, while they have read and written nothing of it. A refusal of
// the person (read, wrote, the case's subject, a team's member, oneself)
// shows its message where the add form shows its errors; a closed case
// says so above the conversation.
func (h *handler) participantRemove(c *fiber.Ctx) error {
	id, uid, err := participantParams(c)
	if err != nil {
		return err
	}
	if err := h.messages.RemoveParticipant(c.UserContext(), current(c).User, id, uid); err != nil {
		if e, ok := apperr.As(err); !ok || e.Code != apperr.Conflict || e.Key == "case.closed_readonly" {
			return h.threadRefusal(c, id, err)
		}
		v, verr := h.threadView(c, id)
		if verr != nil {
			return verr
		}
		v.Add.Error = h.message(c, err)
		return h.threadPage(c, statusOf(err), v)
	}
	h.logger(c).Info("participant removed", "thread", id, "user", uid)
	return seeOther(c, components.ThreadURL(id)+"?melding=uit-gesprek")
}

// participantParams reads the conversation and the person of a
// participant's route (/berichten/:id/deelnemers/:uid/...).
func participantParams(c *fiber.Ctx) (threadID, userID int64, err error) {
	if threadID, err = idParam(c, "id"); err != nil {
		return 0, 0, err
	}
	if userID, err = idParam(c, "uid"); err != nil {
		return 0, 0, err
	}
	return threadID, userID, nil
}
