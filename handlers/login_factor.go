package handlers

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"dialoog/auth"
	"dialoog/components"
	"dialoog/i18n"
)

// loginFactorShow is the second step of a login: the user's factors, last
// used first, and a recovery code. Nothing is texted until the user asks.
func (h *handler) loginFactorShow(c *fiber.Ctx) error {
	return h.loginFactorForm(c, fiber.StatusOK, components.LoginFactorView{})
}

// loginSMSSend is "Stuur mij een SMS-code", and "Geen SMS ontvangen" after
// it: a login code to the user's SMS factor, within the cooldown.
func (h *handler) loginSMSSend(c *fiber.Ctx) error {
	if _, err := h.accounts.SendLoginSMS(c.UserContext(), current(c), clientIP(c)); err != nil {
		var we *auth.WaitError
		switch {
		case errors.As(err, &we) && we.Err.Field == "code":
			l := h.localizer(c)
			return h.loginFactorForm(c, fiber.StatusTooManyRequests, components.LoginFactorView{Error: l.T("sms.resend_later", "Wait", waitText(l, we.Wait))})
		case formError(err):
			return h.loginFactorForm(c, statusOf(err), components.LoginFactorView{Error: h.message(c, err)})
		default:
			return err
		}
	}
	return seeOther(c, pathLoginFactor)
}

// loginFactorVerify completes the login with an SMS code, an app token or a
// recovery code. After a recovery code the user is told how many are left
// and offered to replace a lost factor (pathRecoveryUsed).
func (h *handler) loginFactorVerify(c *fiber.Ctx) error {
	kind := formValue(c, "kind")
	switch kind {
	case auth.FactorSMS, auth.FactorTOTP, "recovery":
	default:
		kind = "" // the service refuses it
	}
	code := clip(formValue(c, "code"), maxCodeLen)
	device := strings.Clone(c.Cookies(DeviceCookieName(h.cfg)))
	token, err := h.accounts.VerifyLoginFactorOnDevice(c.UserContext(), current(c), kind, code, device, clientIP(c))
	if err != nil {
		if !formError(err) {
			return err
		}
		h.logger(c).Info("second factor refused", "factor", kind, "status", statusOf(err))
		var v components.LoginFactorView
		msg := h.fieldMessage(c, err, "code")
		switch {
		case isWait(err):
			v.Error = msg
		case kind == auth.FactorSMS:
			v.SMSError = msg
		case kind == auth.FactorTOTP:
			v.TOTPError = msg
		case kind == "recovery":
			v.RecoveryError = msg
		default:
			v.Error = msg
		}
		return h.loginFactorForm(c, statusOf(err), v)
	}
	h.logger(c).Info("logged in", "factor", kind)
	if kind == "recovery" {
		// A completed login, as in advance: the browser is marked as the
		// account's device.
		SetSessionCookie(c, h.cfg, token)
		SetDeviceCookie(c, h.cfg, h.accounts.RememberDevice(device, current(c).User.ID))
		return h.onTo(c, current(c).User.Language, pathRecoveryUsed)
	}
	return h.advance(c, token)
}

// recoveryUsedShow follows a login with a recovery code: the codes left,
// and while the session's grant lasts, links to set up a new factor.
func (h *handler) recoveryUsedShow(c *fiber.Ctx) error {
	cur := current(c)
	left, err := h.accounts.RecoveryCodesLeft(c.UserContext(), cur)
	if err != nil {
		return fmt.Errorf("recovery codes left: %w", err)
	}
	v := components.RecoveryUsedView{Left: left, MayEnrol: cur.MayEnrolFactor, HasFactor: cur.Stage != auth.StageSecondFactor}
	if v.MayEnrol {
		v.Until = h.localizer(c).Clock(cur.Session.FactorGrantUntil)
		v.UntilRepeated = i18n.Repeated(cur.Session.FactorGrantUntil.In(i18n.Zone))
	}
	m := h.meta(c)
	return h.page(c, fiber.StatusOK, components.RecoveryUsedPage(m, v), components.RecoveryUsedPartial(m, v))
}

func (h *handler) loginFactorForm(c *fiber.Ctx, status int, v components.LoginFactorView) error {
	cur := current(c)
	factors, err := h.accounts.LoginFactors(c.UserContext(), cur)
	if err != nil {
		return fmt.Errorf("login factors: %w", err)
	}
	for _, f := range factors {
		v.Factors = append(v.Factors, components.LoginFactor{Kind: f.Kind, Phone: f.Phone})
	}
	st, err := h.accounts.LoginSMSState(c.UserContext(), cur.User.ID)
	if err != nil {
		return fmt.Errorf("login sms state: %w", err)
	}
	v.SMSSentTo, v.SMSResendIn = auth.MaskPhone(st.Phone), seconds(st.ResendIn)
	if h.branding != nil {
		// The user is known after the password: the support texts of their
		// organisations (a courtesy; a failure is logged).
		texts, err := h.branding.SupportTexts(c.UserContext(), cur.User.ID)
		if err != nil {
			h.logger(c).Warn("support texts", "err", err)
		}
		for _, s := range texts {
			v.Support = append(v.Support, components.SupportText{Org: s.Name, Text: s.Text})
		}
	}
	m := h.meta(c)
	return h.page(c, status, components.LoginFactorPage(m, v), components.LoginFactorPartial(m, v))
}
