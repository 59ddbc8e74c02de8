package handlers

import (
	"fmt"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/components"
)

// appStepShow is the authenticator-app part of the second-factor step: the
// QR code and the secret of a new (or, on a reload, the same unverified)
// app. A secret must not linger in any cache.
func (h *handler) appStepShow(c *fiber.Ctx) error {
	return h.appStepForm(c, fiber.StatusOK, components.AppStepView{})
}

// appStepVerify checks the first token from the app.
func (h *handler) appStepVerify(c *fiber.Ctx) error {
	code := clip(formValue(c, "code"), maxCodeLen)
	token, err := h.accounts.VerifySetupTOTP(c.UserContext(), current(c), code, clientIP(c))
	if err != nil {
		if !formError(err) {
			return err
		}
		return h.appStepForm(c, statusOf(err), components.AppStepView{CodeError: h.fieldMessage(c, err, "code")})
	}
	return h.advance(c, token)
}

// appStepSkip is "Overslaan": allowed once some factor is verified, else
// the page says that a second factor is always required.
func (h *handler) appStepSkip(c *fiber.Ctx) error {
	token, err := h.accounts.SkipApp(c.UserContext(), current(c))
	if err != nil {
		if apperr.CodeOf(err) != apperr.Invalid {
			return err
		}
		return h.appStepForm(c, fiber.StatusUnprocessableEntity, components.AppStepView{Error: h.message(c, err)})
	}
	return h.advance(c, token)
}

func (h *handler) appStepForm(c *fiber.Ctx, status int, v components.AppStepView) error {
	cur := current(c)
	key, err := h.accounts.TOTPSetup(c.UserContext(), cur, h.issuer())
	if err != nil {
		return fmt.Errorf("totp setup: %w", err)
	}
	if v.QRCode, err = auth.QRCodePNG(key.URI); err != nil {
		return err
	}
	v.Secret, v.URI = auth.FormatSecret(key.Secret), key.URI
	st, err := h.accounts.SMSSetupState(c.UserContext(), cur.User.ID)
	if err != nil {
		return fmt.Errorf("sms state: %w", err)
	}
	v.SMSVerified = st.Verified != ""
	v.Passkey = h.passkeyForm(c, components.PasskeyStepAction, "")
	c.Set(fiber.HeaderCacheControl, "no-store")
	m := h.meta(c)
	return h.page(c, status, components.AppStepPage(m, v), components.AppStepPartial(m, v))
}

// issuer names the account in the authenticator app: the organisation.
func (h *handler) issuer() string {
	if h.cfg.OrgName != "" {
		return h.cfg.OrgName
	}
	return "Dialoog"
}
