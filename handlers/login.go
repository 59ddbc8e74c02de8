package handlers

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/components"
)

// loginShow shows the login form.
func (h *handler) loginShow(c *fiber.Ctx) error {
	return h.loginForm(c, fiber.StatusOK, components.LoginView{})
}

// loginSubmit is a placeholder until the auth service exists: it answers
// every attempt with a translated Conflict ("not available yet") and shows
// the form again with the typed address. The password is never echoed.
func (h *handler) loginSubmit(c *fiber.Ctx) error {
	err := apperr.New(apperr.Conflict, "error.login_unavailable")
	v := components.LoginView{
		Email: clip(strings.TrimSpace(c.FormValue("email")), maxEmailLen),
		Error: h.message(c, err),
	}
	return h.loginForm(c, statusFor(apperr.CodeOf(err)), v)
}

func (h *handler) loginForm(c *fiber.Ctx, status int, v components.LoginView) error {
	m := h.meta(c)
	return h.page(c, status, components.LoginPage(m, v), components.LoginPartial(m, v))
}
