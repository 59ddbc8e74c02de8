package handlers

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/components"
	"dialoog/i18n"
)

// "Tweede stap beheren" and "confirm it is you". The rules (who may change
// what, the last factor, ending the other sessions, audit and mail) are in
// auth; these handlers show the page and translate the answers.
const (
	pathAccountPassword = "/account/wachtwoord"
	pathFactors         = "/account/tweede-stap"
	pathFactorSMS       = pathFactors + "/sms"
	pathFactorApp       = pathFactors + "/app"
	pathFactorRecovery  = pathFactors + "/herstelcodes"
	pathConfirm         = "/account/bevestigen"
)

// confirmNext are the pages "confirm it is you" may continue at.
var confirmNext = map[string]bool{pathFactors: true, pathAccount: true}

var factorNotices = map[string]string{
	"bevestigd":  "confirm.done",
	"sms":        "factors.saved_sms",
	"app":        "factors.saved_app",
	"verwijderd": "factors.removed",
	"passkey":    "factors.saved_passkey",
}

// factorsShow is "Tweede stap beheren" (?melding=... after a change).
func (h *handler) factorsShow(c *fiber.Ctx) error {
	var v components.FactorsView
	if key := factorNotices[c.Query("melding")]; key != "" {
		v.Notice = h.meta(c).T(key)
	}
	return h.factorsPage(c, fiber.StatusOK, v)
}

// factorsPage renders the page from the stored state; v carries what the
// request adds (messages, typed number, new recovery codes).
func (h *handler) factorsPage(c *fiber.Ctx, status int, v components.FactorsView) error {
	cur := current(c)
	ctx := c.UserContext()
	factors, err := h.accounts.Factors(ctx, cur)
	if err != nil {
		return err
	}
	for _, f := range factors {
		v.Factors = append(v.Factors, components.FactorItem{ID: f.ID, Kind: f.Kind, Phone: f.Phone, Name: f.Name, Added: f.Added, LastUsed: f.LastUsed})
	}
	if v.Passkey.Action == "" {
		v.Passkey = h.passkeyForm(c, components.PasskeyFactorsAction, "")
	}
	v.Email = cur.User.Email
	v.MayChange, v.MayAdd = h.accounts.MayChangeFactors(cur), h.accounts.MayAddFactor(cur)
	if cur.MayEnrolFactor {
		v.GrantUntil = h.localizer(c).Clock(cur.Session.FactorGrantUntil)
		v.GrantRepeated = i18n.Repeated(cur.Session.FactorGrantUntil.In(i18n.Zone))
	}
	v.Confirm.Next, v.Confirm.WithApp = pathFactors, v.HasKind(auth.ConfirmTOTP)
	ways, err := h.reauthWays(c)
	if err != nil {
		return err
	}
	v.Confirm.SSO, v.Confirm.NoPassword = ways.SSO, ways.SSO && !ways.Password
	if v.RecoveryLeft, err = h.accounts.RecoveryCodesLeft(ctx, cur); err != nil {
		return err
	}
	st, err := h.accounts.SMSSetupState(ctx, cur.User.ID)
	if err != nil {
		return fmt.Errorf("sms state: %w", err)
	}
	// A number being set up was typed a moment ago: in full, and back in
	// the form after "Telefoonnummer wijzigen" (as on the first visit).
	if v.SMS.PhoneError == "" {
		v.SMS.SentTo = auth.FormatPhone(st.Phone)
	}
	if v.SMS.Phone == "" && v.SMS.PhoneError == "" {
		v.SMS.Phone = auth.FormatPhone(st.Previous)
	}
	v.SMS.ResendIn = seconds(st.ResendIn)
	// New recovery codes and a pending setup are on this page: never
	// stored by a cache.
	c.Set(fiber.HeaderCacheControl, "no-store")
	m := h.meta(c)
	return h.page(c, status, components.FactorsPage(m, v), components.FactorsPartial(m, v))
}

// factorRefused shows the page again for an answer a form can show: a
// confirmation that is needed (or ran out), the last factor, a wait;
// anything else is the error page.
func (h *handler) factorRefused(c *fiber.Ctx, err error, v components.FactorsView) error {
	e, _ := apperr.As(err)
	switch {
	case e != nil && (e.Key == "confirm.required" || e.Key == "factor.last"):
		v.Error = h.message(c, err)
		return h.factorsPage(c, statusOf(err), v)
	case isWait(err) || apperr.CodeOf(err) == apperr.Invalid:
		if v.Error == "" && v.SMS.PhoneError == "" && v.SMS.CodeError == "" && v.SMS.Notice == "" {
			v.Error = h.message(c, err)
		}
		return h.factorsPage(c, statusOf(err), v)
	}
	return err
}

// confirmSubmit is "confirm it is you" (password, or a code of the app):
// on success the browser continues at the page that asked, else that page
// comes back with the message; nothing typed is sent back.
func (h *handler) confirmSubmit(c *fiber.Ctx) error {
	next := formValue(c, "next")
	if !confirmNext[next] {
		next = pathFactors
	}
	kind := auth.ConfirmPassword
	secret := clip(formValue(c, "password"), maxPasswordLen+4)
	if formValue(c, "kind") == auth.ConfirmTOTP {
		kind, secret = auth.ConfirmTOTP, clip(formValue(c, "code"), maxCodeLen)
	}
	err := h.accounts.Confirm(c.UserContext(), current(c), kind, secret, clientIP(c))
	if err == nil {
		return seeOther(c, next+"?melding=bevestigd")
	}
	if !formError(err) {
		return err
	}
	h.logger(c).Info("confirmation refused", "kind", kind, "status", statusOf(err))
	var v components.FactorsView
	if kind == auth.ConfirmTOTP {
		v.Confirm.CodeError = h.fieldMessage(c, err, "code")
	} else {
		v.Confirm.PasswordError = h.fieldMessage(c, err, "password")
	}
	return h.factorsPage(c, statusOf(err), v)
}

// factorSMSSend texts a code to a new number (for a first or another SMS
// number).
func (h *handler) factorSMSSend(c *fiber.Ctx) error {
	phone := clip(formValue(c, "phone"), maxPhoneLen)
	if _, err := h.accounts.SendFactorSMS(c.UserContext(), current(c), phone, clientIP(c)); err != nil {
		v := components.FactorsView{SMS: components.SMSStepView{Phone: phone}}
		switch {
		case isWait(err):
			v.SMS.Notice = h.message(c, err)
		case apperr.CodeOf(err) == apperr.Invalid:
			v.SMS.PhoneError = h.fieldMessage(c, err, "phone")
		}
		return h.factorRefused(c, err, v)
	}
	return seeOther(c, pathFactors+"#factors-sms")
}

// factorSMSVerify checks the code; the number is then the SMS factor (an
// older number is dropped only now).
func (h *handler) factorSMSVerify(c *fiber.Ctx) error {
	code := clip(formValue(c, "code"), maxCodeLen)
	token, err := h.accounts.VerifyFactorSMS(c.UserContext(), current(c), code, clientIP(c))
	if err != nil {
		var v components.FactorsView
		if formError(err) {
			v.SMS.CodeError = h.fieldMessage(c, err, "code")
		}
		return h.factorRefused(c, err, v)
	}
	SetSessionCookie(c, h.cfg, token)
	return seeOther(c, pathFactors+"?melding=sms")
}

// factorSMSResend is "Geen SMS ontvangen" for a new number.
func (h *handler) factorSMSResend(c *fiber.Ctx) error {
	if _, err := h.accounts.ResendFactorSMS(c.UserContext(), current(c), clientIP(c)); err != nil {
		var v components.FactorsView
		var we *auth.WaitError
		switch {
		case errors.As(err, &we) && we.Err.Field == "code":
			l := h.localizer(c)
			v.SMS.Notice = l.T("sms.resend_later", "Wait", waitText(l, we.Wait))
		case formError(err):
			v.SMS.Notice = h.message(c, err)
		}
		return h.factorRefused(c, err, v)
	}
	return seeOther(c, pathFactors+"#factors-sms")
}

// factorSMSCancel drops the pending code, so that another number can be
// typed; the stored number stays.
func (h *handler) factorSMSCancel(c *fiber.Ctx) error {
	if err := h.accounts.CancelFactorSMS(c.UserContext(), current(c)); err != nil {
		return err
	}
	return seeOther(c, pathFactors+"#factors-sms")
}

// factorAppShow shows the QR code and secret of an app being added. A
// session that may not add one goes back to the page, which asks for the
// confirmation.
func (h *handler) factorAppShow(c *fiber.Ctx) error {
	if !h.accounts.MayAddFactor(current(c)) {
		return redirect(c, pathFactors)
	}
	return h.factorAppForm(c, fiber.StatusOK, components.AppStepView{})
}

// factorAppVerify checks the first code of the app being added.
func (h *handler) factorAppVerify(c *fiber.Ctx) error {
	code := clip(formValue(c, "code"), maxCodeLen)
	token, err := h.accounts.VerifyFactorTOTP(c.UserContext(), current(c), code, clientIP(c))
	if err != nil {
		if formError(err) {
			return h.factorAppForm(c, statusOf(err), components.AppStepView{CodeError: h.fieldMessage(c, err, "code")})
		}
		return h.factorRefused(c, err, components.FactorsView{})
	}
	SetSessionCookie(c, h.cfg, token)
	return seeOther(c, pathFactors+"?melding=app")
}

func (h *handler) factorAppForm(c *fiber.Ctx, status int, v components.AppStepView) error {
	key, err := h.accounts.FactorTOTPSetup(c.UserContext(), current(c), h.issuer())
	if err != nil {
		return h.factorRefused(c, err, components.FactorsView{})
	}
	if v.QRCode, err = auth.QRCodePNG(key.URI); err != nil {
		return err
	}
	v.Secret, v.URI = auth.FormatSecret(key.Secret), key.URI
	c.Set(fiber.HeaderCacheControl, "no-store")
	m := h.meta(c)
	return h.page(c, status, components.FactorAppPage(m, v), components.FactorAppPartial(m, v))
}

// factorRemove removes one of the person's factors, never the last.
func (h *handler) factorRemove(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := h.accounts.RemoveFactor(c.UserContext(), current(c), id, clientIP(c)); err != nil {
		return h.factorRefused(c, err, components.FactorsView{})
	}
	return seeOther(c, pathFactors+"?melding=verwijderd")
}

// factorRecoveryCodes makes new recovery codes and shows them, once: the
// answer to the POST itself, since they cannot be read back.
func (h *handler) factorRecoveryCodes(c *fiber.Ctx) error {
	codes, err := h.accounts.RegenerateRecoveryCodes(c.UserContext(), current(c), clientIP(c))
	if err != nil {
		return h.factorRefused(c, err, components.FactorsView{})
	}
	return h.factorsPage(c, fiber.StatusOK, components.FactorsView{Codes: codes})
}

// passwordChange is "Wachtwoord wijzigen" on the account page: the current
// password and the new one twice. A mistake shows the form again with the
// messages beside the fields and none of the typed passwords; after a
// change the session has a new id and the other sessions have ended.
func (h *handler) passwordChange(c *fiber.Ctx) error {
	currentPW := clip(formValue(c, "current_password"), maxPasswordLen+4)
	pw, confirm := passwordFields(c)
	token, err := h.accounts.ChangePassword(c.UserContext(), current(c), currentPW, pw, confirm, clientIP(c))
	if err != nil {
		if !formError(err) {
			return err
		}
		h.logger(c).Info("password change refused", "status", statusOf(err))
		var v components.AccountView
		if isWait(err) {
			v.Change.CurrentError = h.message(c, err)
		} else {
			msgs := h.fieldMessages(c, err)
			v.Change = components.PasswordChangeView{CurrentError: msgs["current_password"], PasswordError: msgs["password"], ConfirmError: msgs["confirm"]}
		}
		return h.accountPage(c, statusOf(err), v)
	}
	SetSessionCookie(c, h.cfg, token)
	h.logger(c).Info("password changed")
	return seeOther(c, pathAccount+"?melding=wachtwoord")
}
