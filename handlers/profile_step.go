package handlers

import (
	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/components"
)

// maxProfileFieldLen bounds each posted profile field; the service's own
// limits are lower and give the message.
const maxProfileFieldLen = 8 << 10

// profileStepShow is the last step of the first visit, "Deelnemerinstellingen".
func (h *handler) profileStepShow(c *fiber.Ctx) error {
	u := current(c).User
	away, err := h.accounts.AwayMessage(current(c))
	if err != nil {
		return err
	}
	f := components.ProfileForm{
		Gender: u.Gender, Initials: u.Initials, FirstName: u.FirstName, NamePrefix: u.NamePrefix, LastName: u.LastName,
		AwayEnabled: u.AwayEnabled, AwayMessage: away,
		// Stored as midnight UTC of the day, as the settings page reads them.
		AwayFrom: dateValue(u.AwayFrom), AwayUntil: dateValue(u.AwayUntil),
	}
	return h.profileStepForm(c, fiber.StatusOK, components.ProfileView{Form: f})
}

// profileStepSave stores the profile, which completes the first visit and
// signs the user in to "Berichten". Every message comes back at once,
// beside its field and in a summary at the top, with the typed values.
func (h *handler) profileStepSave(c *fiber.Ctx) error {
	field := func(name string) string { return clip(formValue(c, name), maxProfileFieldLen) }
	f := components.ProfileForm{
		Gender: field("gender"), Initials: field("initials"), FirstName: field("first_name"),
		NamePrefix: field("name_prefix"), LastName: field("last_name"),
		AwayEnabled: checked(c, "away_enabled"), AwayMessage: field("away_message"),
		AwayFrom: field("away_from"), AwayUntil: field("away_until"),
	}
	token, err := h.accounts.SaveProfile(c.UserContext(), current(c), auth.Profile{
		Gender: f.Gender, Initials: f.Initials, FirstName: f.FirstName, NamePrefix: f.NamePrefix, LastName: f.LastName,
		AwayEnabled: f.AwayEnabled, AwayMessage: f.AwayMessage, AwayFrom: f.AwayFrom, AwayUntil: f.AwayUntil,
	}, clientIP(c))
	if err != nil {
		if apperr.CodeOf(err) != apperr.Invalid {
			return err
		}
		return h.profileStepForm(c, fiber.StatusUnprocessableEntity, components.ProfileView{Form: f, Errors: h.fieldMessages(c, err)})
	}
	return h.advance(c, token)
}

func (h *handler) profileStepForm(c *fiber.Ctx, status int, v components.ProfileView) error {
	m := h.meta(c)
	return h.page(c, status, components.ProfileStepPage(m, v), components.ProfileStepPartial(m, v))
}
