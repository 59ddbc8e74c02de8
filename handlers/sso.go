package handlers

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/components"
)

// Paths of single sign-on.
const (
	pathSSOBegin = "/inloggen/organisatie"
	pathAdminSSO = "/beheer/sso"
	// ssoCookie carries the state of a login started at the provider, so
	// that only the browser that started it can finish it.
	ssoCookie = "dialoog_sso"
)

// SSO is single sign-on through an organisation's own OpenID Connect
// provider; *auth.SSO implements it. The methods that take the signed-in
// user answer NotFound to anyone but an admin of the organisation.
type SSO interface {
	BeginSSO(ctx context.Context, emailOrDomain, ip string) (*auth.SSOStart, error)
	CompleteSSO(ctx context.Context, state, boundState, code, ip, userAgent, lang string) (string, error)
	BackChannelLogout(ctx context.Context, orgID int64, logoutToken, ip string) error
	LogoutSSO(ctx context.Context, sessionID int64, postLogout, ip string) (string, error)
	Settings(ctx context.Context, cur *auth.Current) (auth.SSOSettings, bool, error)
	Save(ctx context.Context, cur *auth.Current, in auth.SSOInput, ip string) error
	Remove(ctx context.Context, cur *auth.Current, ip string) error
	// ReauthWays, BeginReauth and CompleteReauth are "confirm it is you"
	// through the provider (see sso_reauth.go).
	ReauthWays(ctx context.Context, cur *auth.Current) (auth.ReauthWays, error)
	BeginReauth(ctx context.Context, cur *auth.Current, next, ip string) (*auth.SSOStart, error)
	CompleteReauth(ctx context.Context, cur *auth.Current, state, boundState, code, ip string) (string, error)
}

var _ SSO = (*auth.SSO)(nil)

// ssoRoutes adds the login through the provider, its return, the
// provider's back-channel logout (before the session and CSRF checks: the
// provider posts it, with no cookie) and the page in Beheer.
func (h *handler) ssoPublicRoutes(app *fiber.App) {
	app.Post(auth.PathSSOBackChannel+":org", h.ssoBackChannel)
}

func (h *handler) ssoRoutes(app *fiber.App, done fiber.Handler) {
	app.Post(pathSSOBegin, h.ssoBegin)
	app.Get(auth.PathSSOCallback, h.ssoCallback)
	app.Post(pathConfirmSSO, done, h.confirmSSOBegin)
	app.Get(pathAdminSSO, done, h.adminOnly, h.adminSSOShow)
	app.Post(pathAdminSSO, done, h.adminOnly, h.adminSSOSave)
	app.Post(pathAdminSSO+"/uit", done, h.adminOnly, h.adminSSORemove)
}

// ssoBegin sends the browser to the provider of the organisation of the
// address typed. The login page may only post to Dialoog (CSP
// form-action), so htmx is told to go there (HX-Redirect) and a browser
// without script gets a page with a link.
func (h *handler) ssoBegin(c *fiber.Ctx) error {
	email := clip(strings.TrimSpace(formValue(c, "email")), maxEmailLen)
	start, err := h.sso.BeginSSO(c.UserContext(), email, clientIP(c))
	if err != nil {
		switch apperr.CodeOf(err) {
		case apperr.Invalid, apperr.TooMany:
			v := components.LoginView{SSO: components.LoginSSOView{Email: email, EmailError: h.fieldMessage(c, err, "email")}}
			if v.SSO.EmailError == "" {
				v.SSO.EmailError = h.message(c, err)
			}
			return h.loginForm(c, statusOf(err), v)
		}
		h.logger(c).Error("sso: begin", "err", err)
		v := components.LoginView{SSO: components.LoginSSOView{Email: email, Error: h.localizer(c).T("sso.unavailable")}}
		return h.loginForm(c, fiber.StatusBadGateway, v)
	}
	return h.toProvider(c, ssoCookie, start.State, start.URL, components.SSOContinuePage(h.meta(c), start.URL))
}

// toProvider sends the browser to the provider's url: it keeps value in
// the cookie name (the flow's state, bound to this browser) and answers
// htmx with HX-Redirect, a browser without script with page and its link
// (the login page's CSP lets forms post to Dialoog only).
func (h *handler) toProvider(c *fiber.Ctx, name, value, url string, page templ.Component) error {
	c.Cookie(&fiber.Cookie{
		Name:     cookieName(h.cfg, name),
		Value:    value,
		Path:     "/",
		Secure:   h.cfg.Secure(),
		HTTPOnly: true,
		// Lax: the provider sends the browser back with a top-level GET.
		SameSite: fiber.CookieSameSiteLaxMode,
		MaxAge:   int(auth.SSOLoginTTL / time.Second),
	})
	if isPartial(c) {
		c.Set("HX-Redirect", url)
		return c.Status(fiber.StatusOK).Send(nil)
	}
	return h.page(c, fiber.StatusOK, page, page)
}

// ssoCallback finishes a login when the provider sends the browser back
// (a GET, as the protocol has it; the state bound to this browser's
// cookie, used once, is what guards it). A refusal shows the login page
// with its reason.
func (h *handler) ssoCallback(c *fiber.Ctx) error {
	// A confirmation ("confirm it is you") comes back here too, so that
	// the provider knows one return address: its cookie tells it apart.
	if bound, next := h.reauthCookie(c); bound != "" && bound == c.Query("state") {
		return h.confirmSSOReturn(c, bound, next)
	}
	name := cookieName(h.cfg, ssoCookie)
	bound := strings.Clone(c.Cookies(name))
	c.Cookie(&fiber.Cookie{Name: name, Value: "", Path: "/", Secure: h.cfg.Secure(), HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode, MaxAge: -1, Expires: time.Unix(0, 0)})
	if e := c.Query("error"); e != "" {
		h.logger(c).Info("sso: provider answered with an error", "error", clip(e, 64))
		return h.loginForm(c, fiber.StatusUnauthorized, components.LoginView{SSO: components.LoginSSOView{Error: h.localizer(c).T("sso.refused.provider")}})
	}
	token, err := h.sso.CompleteSSO(c.UserContext(), strings.Clone(c.Query("state")), bound, strings.Clone(c.Query("code")), clientIP(c), userAgent(c), h.localizer(c).Lang())
	if err != nil {
		switch apperr.CodeOf(err) {
		case apperr.Unauthorized, apperr.TooMany:
			h.logger(c).Info("sso login refused", "status", statusOf(err))
			return h.loginForm(c, statusOf(err), components.LoginView{SSO: components.LoginSSOView{Error: h.message(c, err)}})
		}
		return err
	}
	h.endBrowserSession(c)
	h.logger(c).Info("sso login")
	return h.advance(c, token)
}

// ssoBackChannel is the provider's back-channel logout: a POST of a
// logout_token, answered 200 when it verified (also when no session was
// open), 400 otherwise, never cached.
func (h *handler) ssoBackChannel(c *fiber.Ctx) error {
	if deferred, _ := c.Locals(keyBodyDeferred).(bool); deferred {
		c.Locals(keyBodyDeferred, false)
		if err := readBody(c, formBodyLimit); err != nil {
			return err
		}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	org, err := strconv.ParseInt(c.Params("org"), 10, 64)
	if err != nil || org < 1 {
		return c.SendStatus(fiber.StatusBadRequest)
	}
	err = h.sso.BackChannelLogout(c.UserContext(), org, strings.Clone(string(c.Request().PostArgs().Peek("logout_token"))), clientIP(c))
	switch apperr.CodeOf(err) {
	case apperr.Invalid:
		h.logger(c).Info("sso: back-channel logout refused")
		return c.SendStatus(fiber.StatusBadRequest)
	case apperr.TooMany:
		return c.SendStatus(fiber.StatusTooManyRequests)
	}
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusOK)
}

// ssoLogout records the logout of a session opened through the provider
// and returns where the browser goes next: the provider's
// end_session_endpoint, "" for other sessions. A failure is logged and
// leaves the browser at Dialoog's login page.
func (h *handler) ssoLogout(c *fiber.Ctx) string {
	cur := current(c)
	if h.sso == nil || cur == nil || cur.Session == nil {
		return ""
	}
	to, err := h.sso.LogoutSSO(c.UserContext(), cur.Session.ID, strings.TrimRight(h.cfg.BaseURL.String(), "/")+pathLogin, clientIP(c))
	if err != nil {
		h.logger(c).Warn("sso: end session url", "err", err)
		return ""
	}
	return to
}
