package handlers

import (
	"github.com/gofiber/fiber/v2"

	"dialoog/components"
)

// welcome confirms the sign-up and names the next step, read from the flash
// cookie set by invitationAccept. Without it there is nothing to confirm, so
// the user goes to the start page. This is a stand-in until the onboarding
// stage is derived from stored facts.
func (h *handler) welcome(c *fiber.Ctx) error {
	next := c.Cookies(cookieName(h.cfg, nextCookie))
	if !validStep(next) {
		return seeOther(c, "/")
	}
	m := h.meta(c)
	step := next
	if key := "step." + next; m.L.Has(key) {
		step = m.T(key)
	}
	v := components.NextStepView{Step: step}
	return h.page(c, fiber.StatusOK, components.NextStepPage(m, v), components.NextStepPartial(m, v))
}

// validStep accepts step names like "terms" or "second_factor": short,
// lower case, so a cookie value cannot smuggle markup or odd keys.
func validStep(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if b := s[i]; !('a' <= b && b <= 'z' || b == '_') {
			return false
		}
	}
	return true
}
