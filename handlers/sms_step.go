package handlers

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"dialoog/auth"
	"dialoog/components"
)

// maxPhoneLen and maxCodeLen bound what is passed on to the services.
const (
	maxPhoneLen = 64
	maxCodeLen  = 64
)

// smsStepShow is the SMS part of the second-factor step: the number form,
// or the code form once a code is pending. It only reads state, so a reload
// never sends another text.
func (h *handler) smsStepShow(c *fiber.Ctx) error {
	return h.smsStepForm(c, fiber.StatusOK, components.SMSStepView{})
}

// smsStepSend takes the mobile number and texts a code to it.
func (h *handler) smsStepSend(c *fiber.Ctx) error {
	phone := clip(formValue(c, "phone"), maxPhoneLen)
	if _, err := h.accounts.SendSetupSMS(c.UserContext(), current(c), phone, clientIP(c)); err != nil {
		switch {
		case isWait(err):
			return h.smsStepForm(c, statusOf(err), components.SMSStepView{Phone: phone, Notice: h.message(c, err)})
		case formError(err):
			return h.smsStepForm(c, statusOf(err), components.SMSStepView{Phone: phone, PhoneError: h.fieldMessage(c, err, "phone")})
		default:
			return err
		}
	}
	return seeOther(c, pathSMS)
}

// smsStepVerify checks the code; the SMS factor is then set up and the app
// page follows, where "Overslaan" is now allowed.
func (h *handler) smsStepVerify(c *fiber.Ctx) error {
	code := clip(formValue(c, "code"), maxCodeLen)
	token, err := h.accounts.VerifySetupSMS(c.UserContext(), current(c), code, clientIP(c))
	if err != nil {
		if !formError(err) {
			return err
		}
		return h.smsStepForm(c, statusOf(err), components.SMSStepView{CodeError: h.fieldMessage(c, err, "code")})
	}
	return h.advance(c, token)
}

// smsStepResend is "Geen SMS ontvangen": a new code to the same number once
// the cooldown has passed; before that, the page says how long to wait.
func (h *handler) smsStepResend(c *fiber.Ctx) error {
	if _, err := h.accounts.ResendSetupSMS(c.UserContext(), current(c), clientIP(c)); err != nil {
		var we *auth.WaitError
		switch {
		case errors.As(err, &we) && we.Err.Field == "code":
			msg := h.localizer(c).T("sms.resend_later", "Wait", waitText(h.localizer(c), we.Wait))
			return h.smsStepForm(c, fiber.StatusTooManyRequests, components.SMSStepView{Notice: msg})
		case formError(err):
			return h.smsStepForm(c, statusOf(err), components.SMSStepView{Notice: h.message(c, err)})
		default:
			return err
		}
	}
	return seeOther(c, pathSMS)
}

// smsStepChangePhone is "Telefoonnummer wijzigen": the pending code is
// dropped and the number form comes back.
func (h *handler) smsStepChangePhone(c *fiber.Ctx) error {
	if err := h.accounts.ChangeSetupPhone(c.UserContext(), current(c)); err != nil {
		return err
	}
	return seeOther(c, pathSMS)
}

// smsStepForm renders the SMS page from the stored state; v carries what the
// request adds (typed number, messages).
func (h *handler) smsStepForm(c *fiber.Ctx, status int, v components.SMSStepView) error {
	st, err := h.accounts.SMSSetupState(c.UserContext(), current(c).User.ID)
	if err != nil {
		return fmt.Errorf("sms state: %w", err)
	}
	// The number was typed a moment ago: it is shown in full, so that a
	// typo can be seen, and comes back into the form to be corrected. Only
	// a later login masks it.
	if v.PhoneError == "" {
		v.SentTo = auth.FormatPhone(st.Phone)
	}
	if v.Phone == "" && v.PhoneError == "" {
		v.Phone = auth.FormatPhone(st.Previous)
	}
	// A code refused once none is pending (it expired, or was dropped)
	// has no code field to show why: the message goes above the number
	// form.
	if st.Phone == "" && v.CodeError != "" && v.Notice == "" {
		v.Notice, v.CodeError = v.CodeError, ""
	}
	v.ResendIn = seconds(st.ResendIn)
	if st.Verified != "" {
		v.Verified = auth.MaskPhone(st.Verified)
	}
	if v.Passkey.Action == "" {
		v.Passkey = h.passkeyForm(c, components.PasskeyStepAction, "")
	}
	m := h.meta(c)
	return h.page(c, status, components.SMSStepPage(m, v), components.SMSStepPartial(m, v))
}
