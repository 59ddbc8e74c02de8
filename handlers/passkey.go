package handlers

import (
	"context"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/components"
)

// Passkeys: adding one (first visit, "Tweede stap beheren"), removing one,
// and logging in with one (as the second step, or alone). The rules are in
// auth.Passkeys. The browser half is static/js/passkey.js: it fetches a
// ceremony's options here as JSON (a POST with the CSRF header), and posts
// the browser's answer back as the hidden field "credential" of an
// ordinary form, whose answer is a redirect or the page with a message.

// Passkeys is the passkey service; *auth.Passkeys implements it. Options
// are the JSON for navigator.credentials ({"publicKey": ...}).
type Passkeys interface {
	BeginRegistration(ctx context.Context, cur *auth.Current) ([]byte, error)
	FinishRegistration(ctx context.Context, cur *auth.Current, name string, response []byte, ip string) (string, error)
	RemovePasskey(ctx context.Context, cur *auth.Current, passkeyID int64, ip string) error
	BeginSecondStep(ctx context.Context, cur *auth.Current, ip string) ([]byte, error)
	FinishSecondStep(ctx context.Context, cur *auth.Current, response []byte, device, ip string) (string, error)
	BeginLogin(ctx context.Context, ip string) (options []byte, browserToken string, err error)
	FinishLogin(ctx context.Context, browserToken string, response []byte, device, ip, userAgent string) (string, error)
}

var _ Passkeys = (*auth.Passkeys)(nil)

const (
	pathPasskeyLogin  = "/inloggen/passkey"
	pathPasskeySecond = "/inloggen/tweede-stap/passkey"
	// passkeyCookie binds a login with a passkey alone to the browser that
	// asked for its challenge.
	passkeyCookie = "dialoog_passkey"
	// maxCredentialLen bounds the browser's answer.
	maxCredentialLen = 64 << 10
)

func (h *handler) passkeyRoutes(app *fiber.App, done fiber.Handler) {
	app.Post(pathPasskeyLogin+"/opties", h.passkeyLoginOptions)
	app.Post(pathPasskeyLogin, h.passkeyLogin)
	app.Post(pathPasskeySecond+"/opties", h.needsFactor, h.passkeySecondOptions)
	app.Post(pathPasskeySecond, h.needsFactor, h.passkeySecond)
	app.Post(components.PasskeyStepAction+"/opties", h.mayEnrol, h.passkeyAddOptions)
	app.Post(components.PasskeyStepAction, h.mayEnrol, h.passkeyStepAdd)
	app.Post(components.PasskeyFactorsAction+"/opties", done, h.passkeyAddOptions)
	app.Post(components.PasskeyFactorsAction, done, h.passkeyFactorAdd)
	app.Post(components.PasskeyFactorsAction+"/:id/verwijderen", done, h.passkeyRemove)
}

// passkeyOptions answers an options request: the JSON, or {"error": ...}
// with the status of the refusal.
func (h *handler) passkeyOptions(c *fiber.Ctx, options []byte, err error) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if err != nil {
		if !passkeyRefusal(err) && apperr.CodeOf(err) != apperr.NotFound && apperr.CodeOf(err) != apperr.Forbidden {
			return err
		}
		return c.Status(statusOf(err)).JSON(fiber.Map{"error": h.message(c, err)})
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(options)
}

// passkeyRefusal reports whether err is an answer a passkey form shows: a
// form error, a passkey that was refused or is known already.
func passkeyRefusal(err error) bool {
	if formError(err) {
		return true
	}
	e, ok := apperr.As(err)
	return ok && (e.Key == "passkey.refused" || e.Key == "passkey.known" || e.Key == "login.use_sso")
}

func credentialField(c *fiber.Ctx) []byte {
	return []byte(clip(formValue(c, "credential"), maxCredentialLen))
}

// passkeyAddOptions starts adding a passkey.
func (h *handler) passkeyAddOptions(c *fiber.Ctx) error {
	options, err := h.passkeys.BeginRegistration(c.UserContext(), current(c))
	return h.passkeyOptions(c, options, err)
}

// passkeyStepAdd adds a passkey in the first visit; the step is then done.
func (h *handler) passkeyStepAdd(c *fiber.Ctx) error {
	name := clip(formValue(c, "name"), 256)
	token, err := h.passkeys.FinishRegistration(c.UserContext(), current(c), name, credentialField(c), clientIP(c))
	if err != nil {
		if !passkeyRefusal(err) {
			return err
		}
		h.logger(c).Info("passkey refused", "status", statusOf(err))
		v := components.SMSStepView{Notice: h.message(c, err)}
		v.Passkey = h.passkeyForm(c, components.PasskeyStepAction, name)
		return h.smsStepForm(c, statusOf(err), v)
	}
	h.logger(c).Info("passkey added")
	return h.advance(c, token)
}

// passkeyFactorAdd adds a passkey under "Tweede stap beheren".
func (h *handler) passkeyFactorAdd(c *fiber.Ctx) error {
	name := clip(formValue(c, "name"), 256)
	token, err := h.passkeys.FinishRegistration(c.UserContext(), current(c), name, credentialField(c), clientIP(c))
	if err != nil {
		h.logger(c).Info("passkey refused", "status", statusOf(err))
		if passkeyRefusal(err) {
			v := components.FactorsView{Error: h.message(c, err)}
			v.Passkey = h.passkeyForm(c, components.PasskeyFactorsAction, name)
			return h.factorsPage(c, statusOf(err), v)
		}
		return h.factorRefused(c, err, components.FactorsView{})
	}
	h.logger(c).Info("passkey added")
	SetSessionCookie(c, h.cfg, token)
	return seeOther(c, pathFactors+"?melding=passkey")
}

// passkeyRemove removes one of the person's passkeys, never the last
// factor.
func (h *handler) passkeyRemove(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := h.passkeys.RemovePasskey(c.UserContext(), current(c), id, clientIP(c)); err != nil {
		return h.factorRefused(c, err, components.FactorsView{})
	}
	return seeOther(c, pathFactors+"?melding=verwijderd")
}

// passkeyForm is the add form of a page, with the name proposed.
func (h *handler) passkeyForm(c *fiber.Ctx, action, name string) components.PasskeyForm {
	if h.passkeys == nil {
		return components.PasskeyForm{}
	}
	if strings.TrimSpace(name) == "" {
		name = h.localizer(c).T("passkey.default_name")
	}
	return components.PasskeyForm{Options: action + "/opties", Action: action, Name: name}
}

// passkeySecondOptions starts the second step with a passkey.
func (h *handler) passkeySecondOptions(c *fiber.Ctx) error {
	options, err := h.passkeys.BeginSecondStep(c.UserContext(), current(c), clientIP(c))
	return h.passkeyOptions(c, options, err)
}

// passkeySecond completes the login's second step with a passkey.
func (h *handler) passkeySecond(c *fiber.Ctx) error {
	device := strings.Clone(c.Cookies(DeviceCookieName(h.cfg)))
	token, err := h.passkeys.FinishSecondStep(c.UserContext(), current(c), credentialField(c), device, clientIP(c))
	if err != nil {
		if !passkeyRefusal(err) {
			return err
		}
		h.logger(c).Info("second factor refused", "factor", auth.FactorPasskey, "status", statusOf(err))
		return h.loginFactorForm(c, statusOf(err), components.LoginFactorView{Error: h.message(c, err)})
	}
	h.logger(c).Info("logged in", "factor", auth.FactorPasskey)
	return h.advance(c, token)
}

// passkeyLoginOptions starts a login with a passkey alone; the challenge is
// bound to this browser by a short-lived cookie.
func (h *handler) passkeyLoginOptions(c *fiber.Ctx) error {
	options, browser, err := h.passkeys.BeginLogin(c.UserContext(), clientIP(c))
	if err == nil {
		c.Cookie(&fiber.Cookie{
			Name:     cookieName(h.cfg, passkeyCookie),
			Value:    browser,
			Path:     "/",
			Secure:   h.cfg.Secure(),
			HTTPOnly: true,
			SameSite: fiber.CookieSameSiteStrictMode,
			MaxAge:   int(auth.PasskeyChallengeTTL / time.Second),
		})
	}
	return h.passkeyOptions(c, options, err)
}

// passkeyLogin completes a login with a passkey alone: the browser's
// previous session ends and the new one has passed the second step.
func (h *handler) passkeyLogin(c *fiber.Ctx) error {
	name := cookieName(h.cfg, passkeyCookie)
	browser := strings.Clone(c.Cookies(name))
	c.Cookie(&fiber.Cookie{Name: name, Value: "", Path: "/", Secure: h.cfg.Secure(), HTTPOnly: true,
		SameSite: fiber.CookieSameSiteStrictMode, Expires: time.Unix(0, 0)})
	device := strings.Clone(c.Cookies(DeviceCookieName(h.cfg)))
	token, err := h.passkeys.FinishLogin(c.UserContext(), browser, credentialField(c), device, clientIP(c), userAgent(c))
	if err != nil {
		if !passkeyRefusal(err) {
			return err
		}
		h.logger(c).Info("passkey login refused", "status", statusOf(err))
		return h.loginForm(c, statusOf(err), components.LoginView{Error: h.message(c, err)})
	}
	h.endBrowserSession(c)
	h.logger(c).Info("logged in", "factor", auth.FactorPasskey, "password", false)
	return h.advance(c, token)
}
