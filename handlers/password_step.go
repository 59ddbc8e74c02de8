package handlers

import (
	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/components"
)

// maxPasswordLen bounds a posted password before it is hashed; the policy
// allows 256 characters, which in UTF-8 may be up to 1024 bytes.
const maxPasswordLen = 1024

// passwordStepShow is the second step of the first visit.
func (h *handler) passwordStepShow(c *fiber.Ctx) error {
	return h.passwordStepForm(c, fiber.StatusOK, components.PasswordView{})
}

// passwordStepSet sets the first password. On an error the form comes back
// with the message beside the field, never with the typed passwords.
func (h *handler) passwordStepSet(c *fiber.Ctx) error {
	pw, confirm := passwordFields(c)
	token, err := h.accounts.SetPassword(c.UserContext(), current(c), pw, confirm, clientIP(c))
	if err != nil {
		if apperr.CodeOf(err) != apperr.Invalid {
			return err
		}
		msgs := h.fieldMessages(c, err)
		v := components.PasswordView{PasswordError: msgs["password"], ConfirmError: msgs["confirm"]}
		return h.passwordStepForm(c, fiber.StatusUnprocessableEntity, v)
	}
	return h.advance(c, token)
}

// passwordStepCheck is the live feedback while typing: the same policy the
// service applies, answered as a small fragment for the feedback region.
func (h *handler) passwordStepCheck(c *fiber.Ctx) error {
	return h.passwordFeedback(c, auth.RulesFor(current(c).User))
}

// passwordFeedback answers a live check with the rules of the person whose
// password it is.
func (h *handler) passwordFeedback(c *fiber.Ctx, rules auth.PasswordRules) error {
	pw, confirm := passwordFields(c)
	m := h.meta(c)
	var v components.PasswordFeedbackView
	switch {
	case pw == "":
	case len(pw) > maxPasswordLen:
		v.Message = m.T("password.too_long")
	default:
		if err := rules.Check(pw); err != nil {
			v.Message = h.message(c, err)
		} else if confirm != "" && confirm != pw {
			v.Message = m.T("password.mismatch")
		} else {
			v.Message, v.OK = m.T("password.ok"), true
		}
	}
	return render(c, fiber.StatusOK, components.PasswordFeedback(m, v))
}

// passwordFields returns the posted password and its confirmation. Too long
// input is cut to just over the limit, so the policy still refuses it
// without hashing megabytes.
func passwordFields(c *fiber.Ctx) (pw, confirm string) {
	return clip(formValue(c, "password"), maxPasswordLen+4), clip(formValue(c, "confirm"), maxPasswordLen+4)
}

func (h *handler) passwordStepForm(c *fiber.Ctx, status int, v components.PasswordView) error {
	v.Action, v.CheckURL = pathPassword, pathPassword+"/controle"
	m := h.meta(c)
	return h.page(c, status, components.PasswordStepPage(m, v), components.PasswordStepPartial(m, v))
}
