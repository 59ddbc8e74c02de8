package handlers

import (
	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
)

// pathSettingsPush is "Meldingen op dit apparaat": the browser's script
// posts its PushSubscription JSON here (with the CSRF header) to switch
// notifications on, and to pathSettingsPushOff to switch them off.
const (
	pathSettingsPush    = "/account/push"
	pathSettingsPushOff = "/account/push/uit"
)

// pushSubscribe stores the posted subscription for the signed-in person.
func (h *handler) pushSubscribe(c *fiber.Ctx) error {
	if !c.Is("json") {
		return c.SendStatus(fiber.StatusUnsupportedMediaType)
	}
	err := h.accounts.SubscribePush(c.UserContext(), current(c), c.Body(), c.Get(fiber.HeaderUserAgent), clientIP(c))
	return h.pushAnswer(c, err)
}

// pushUnsubscribe removes the person's own subscription of the posted
// endpoint.
func (h *handler) pushUnsubscribe(c *fiber.Ctx) error {
	if !c.Is("json") {
		return c.SendStatus(fiber.StatusUnsupportedMediaType)
	}
	return h.pushAnswer(c, h.accounts.UnsubscribePush(c.UserContext(), current(c), c.Body(), clientIP(c)))
}

// pushAnswer is 204 on success, 422 with the translated message for a
// refused subscription.
func (h *handler) pushAnswer(c *fiber.Ctx, err error) error {
	if apperr.CodeOf(err) == apperr.Invalid {
		return c.Status(fiber.StatusUnprocessableEntity).JSON(fiber.Map{"error": h.fieldMessage(c, err, "push")})
	}
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
