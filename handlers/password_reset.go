package handlers

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/components"
)

// forgotPasswordShow asks for the address to send a reset link to.
func (h *handler) forgotPasswordShow(c *fiber.Ctx) error {
	return h.forgotPasswordForm(c, fiber.StatusOK, components.ForgotPasswordView{})
}

// forgotPasswordRequest mails a reset link when the address belongs to an
// active user. Every well-formed address gets the same answer.
func (h *handler) forgotPasswordRequest(c *fiber.Ctx) error {
	email := clip(strings.TrimSpace(formValue(c, "email")), maxEmailLen)
	if err := h.accounts.RequestPasswordReset(c.UserContext(), email, clientIP(c)); err != nil {
		switch {
		case isWait(err):
			return h.forgotPasswordForm(c, statusOf(err), components.ForgotPasswordView{Email: email, Error: h.message(c, err)})
		case apperr.CodeOf(err) == apperr.Invalid:
			return h.forgotPasswordForm(c, statusOf(err), components.ForgotPasswordView{Email: email, EmailError: h.fieldMessage(c, err, "email")})
		default:
			return err
		}
	}
	return seeOther(c, "/wachtwoord-vergeten/verstuurd")
}

// forgotPasswordSent is the answer page, the same for every address.
func (h *handler) forgotPasswordSent(c *fiber.Ctx) error {
	m := h.meta(c)
	return h.page(c, fiber.StatusOK, components.ForgotPasswordSentPage(m), components.ForgotPasswordSentPartial(m))
}

// passwordResetShow is what the link in the mail opens: the form for a new
// password. Like the invitation, a GET never consumes the link.
func (h *handler) passwordResetShow(c *fiber.Ctx) error {
	token, email, ok, err := h.resetLink(c)
	if !ok {
		return err
	}
	return h.passwordResetForm(c, fiber.StatusOK, token, components.PasswordView{Email: email})
}

// passwordResetSubmit consumes the link and sets the new password. Every
// other session of the user ends, and the new one still needs the second
// factor: a mailbox alone never opens the account.
func (h *handler) passwordResetSubmit(c *fiber.Ctx) error {
	token, email, ok, err := h.resetLink(c)
	if !ok {
		return err
	}
	pw, confirm := passwordFields(c)
	session, err := h.accounts.ResetPassword(c.UserContext(), token, pw, confirm, clientIP(c), userAgent(c))
	if err != nil {
		switch apperr.CodeOf(err) {
		case apperr.NotFound:
			return h.resetInvalid(c)
		case apperr.Invalid:
			msgs := h.fieldMessages(c, err)
			return h.passwordResetForm(c, fiber.StatusUnprocessableEntity, token, components.PasswordView{Email: email, PasswordError: msgs["password"], ConfirmError: msgs["confirm"]})
		}
		return err
	}
	h.endBrowserSession(c)
	h.logger(c).Info("password reset")
	return h.advance(c, session)
}

// passwordResetCheck is the live feedback on the reset page.
func (h *handler) passwordResetCheck(c *fiber.Ctx) error {
	token := strings.Clone(c.Params("token"))
	var err error = apperr.New(apperr.NotFound, "reset.invalid")
	var rules auth.PasswordRules
	var lang string
	if validLinkToken(token) {
		rules, lang, err = h.accounts.PasswordResetRules(c.UserContext(), token, clientIP(c))
	}
	if err == nil && h.chosenLanguage(c) == "" {
		useUserLanguage(c, lang) // as the page does
	}
	if err != nil {
		if _, ok := apperr.As(err); !ok && !isWait(err) {
			return err
		}
		m := h.meta(c)
		return render(c, fiber.StatusOK, components.PasswordFeedback(m, components.PasswordFeedbackView{Message: m.T("reset.invalid")}))
	}
	return h.passwordFeedback(c, rules)
}

// resetLink checks the link's token without consuming it. When it does not
// work, ok is false and err is the response already rendered (or an error
// for the error handler).
func (h *handler) resetLink(c *fiber.Ctx) (token, email string, ok bool, err error) {
	token = strings.Clone(c.Params("token"))
	if !validLinkToken(token) {
		return "", "", false, h.resetInvalid(c)
	}
	email, lang, err := h.accounts.CheckPasswordReset(c.UserContext(), token, clientIP(c))
	if err != nil {
		if apperr.CodeOf(err) == apperr.NotFound {
			return "", "", false, h.resetInvalid(c)
		}
		return "", "", false, err
	}
	// The page speaks the language the mail with the link did, unless
	// this browser chose one.
	if h.chosenLanguage(c) == "" {
		useUserLanguage(c, lang)
	}
	return token, email, true, nil
}

func (h *handler) resetInvalid(c *fiber.Ctx) error {
	h.logger(c).Info("password-reset link not usable")
	m := h.meta(c)
	return h.page(c, fiber.StatusNotFound, components.ResetInvalidPage(m), components.ResetInvalidPartial(m))
}

func (h *handler) passwordResetForm(c *fiber.Ctx, status int, token string, v components.PasswordView) error {
	v.Reset = true
	v.Action = "/wachtwoord-vergeten/" + token
	v.CheckURL = v.Action + "/controle"
	m := h.meta(c)
	return h.page(c, status, components.PasswordStepPage(m, v), components.PasswordStepPartial(m, v))
}

func (h *handler) forgotPasswordForm(c *fiber.Ctx, status int, v components.ForgotPasswordView) error {
	m := h.meta(c)
	return h.page(c, status, components.ForgotPasswordPage(m, v), components.ForgotPasswordPartial(m, v))
}
