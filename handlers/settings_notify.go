package handlers

import (
	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/components"
)

// pathSettingsNotify is "Meldingen per e-mail" of "Mijn instellingen".
const pathSettingsNotify = "/account/meldingen"

// settingsNotify sets how the person hears of new messages: a mail per
// message, a daily summary or none. A refused value (not one of the
// choices, so nothing to show checked) shows the form again with the
// message and the stored choice.
func (h *handler) settingsNotify(c *fiber.Ctx) error {
	setting := clip(formValue(c, "notify"), 16)
	err := h.accounts.SetNotifications(c.UserContext(), current(c), setting, clientIP(c))
	if apperr.CodeOf(err) == apperr.Invalid {
		return h.accountPage(c, fiber.StatusUnprocessableEntity, components.AccountView{NotifyError: h.fieldMessage(c, err, "notify")})
	}
	if err != nil {
		return err
	}
	return seeOther(c, pathAccount+"?melding=meldingen")
}
