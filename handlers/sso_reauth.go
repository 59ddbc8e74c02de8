package handlers

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/components"
)

// "Confirm it is you" through the organisation's provider (the rules are
// in auth.SSO.BeginReauth and CompleteReauth): the confirm forms post
// here, the browser goes to the provider and comes back at the login's
// return address, which hands it to confirmSSOReturn.
const (
	pathConfirmSSO = pathConfirm + "/organisatie"
	// ssoReauthCookie carries the state of a confirmation started at the
	// provider and the page to come back to, so that only the browser
	// that started it can finish it.
	ssoReauthCookie = "dialoog_sso_reauth"
)

// reauthWays is how the signed-in user can confirm it is them; without
// single sign-on, the password.
func (h *handler) reauthWays(c *fiber.Ctx) (auth.ReauthWays, error) {
	if h.sso == nil {
		return auth.ReauthWays{Password: true}, nil
	}
	return h.sso.ReauthWays(c.UserContext(), current(c))
}

// confirmSSOBegin is "Bevestigen via je organisatie": the browser goes to
// the provider for a fresh login (as at login: HX-Redirect for htmx, else
// a page with a link, because forms may only post to Dialoog). A session
// not opened through the provider, a provider that is off or does not
// answer, and a wait come back on the page that asked.
func (h *handler) confirmSSOBegin(c *fiber.Ctx) error {
	next := formValue(c, "next")
	if !confirmNext[next] {
		next = pathFactors
	}
	start, err := h.sso.BeginReauth(c.UserContext(), current(c), next, clientIP(c))
	if err != nil {
		switch {
		case apperr.CodeOf(err) == apperr.Conflict || isWait(err):
			h.logger(c).Info("sso confirmation not started", "status", statusOf(err))
			return h.confirmSSORefused(c, next, statusOf(err), h.message(c, err))
		}
		h.logger(c).Error("sso: begin confirmation", "err", err)
		return h.confirmSSORefused(c, next, fiber.StatusBadGateway, h.localizer(c).T("sso.reauth.unavailable"))
	}
	return h.toProvider(c, ssoReauthCookie, start.State+"~"+next, start.URL, components.SSOReauthContinuePage(h.meta(c), start.URL))
}

// reauthCookie reads the confirmation's cookie: its state and the page
// it was started for ("" when there is none).
func (h *handler) reauthCookie(c *fiber.Ctx) (state, next string) {
	v := strings.Clone(c.Cookies(cookieName(h.cfg, ssoReauthCookie)))
	state, next, ok := strings.Cut(v, "~")
	if !ok || state == "" {
		return "", ""
	}
	if !confirmNext[next] {
		next = pathFactors
	}
	return state, next
}

// confirmSSOReturn finishes a confirmation when the provider sends the
// browser back: the session is confirmed and the browser continues at the
// page that asked (which now proceeds); a refusal shows that page with
// the reason. A browser whose session ended meanwhile logs in again.
func (h *handler) confirmSSOReturn(c *fiber.Ctx, bound, next string) error {
	c.Cookie(&fiber.Cookie{Name: cookieName(h.cfg, ssoReauthCookie), Value: "", Path: "/", Secure: h.cfg.Secure(), HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode, MaxAge: -1, Expires: time.Unix(0, 0)})
	cur := current(c)
	if cur == nil || cur.Stage != auth.StageDone || cur.NeedsSecondFactor {
		return seeOther(c, pathLogin)
	}
	if e := c.Query("error"); e != "" {
		h.logger(c).Info("sso: provider answered a confirmation with an error", "error", clip(e, 64))
		return h.confirmSSORefused(c, next, fiber.StatusUnauthorized, h.localizer(c).T("sso.reauth.provider"))
	}
	to, err := h.sso.CompleteReauth(c.UserContext(), cur, strings.Clone(c.Query("state")), bound, strings.Clone(c.Query("code")), clientIP(c))
	if err != nil {
		switch {
		case apperr.CodeOf(err) == apperr.Unauthorized || apperr.CodeOf(err) == apperr.Conflict || isWait(err):
			h.logger(c).Info("sso confirmation refused", "status", statusOf(err))
			return h.confirmSSORefused(c, next, statusOf(err), h.message(c, err))
		}
		return err
	}
	if !confirmNext[to] {
		to = pathFactors
	}
	h.logger(c).Info("confirmed through the organisation")
	return seeOther(c, to+"?melding=bevestigd")
}

// confirmSSORefused shows the page a confirmation was started for with
// the message msg at its "Bevestigen via je organisatie".
func (h *handler) confirmSSORefused(c *fiber.Ctx, next string, status int, msg string) error {
	if next == pathAccount {
		return h.accountPage(c, status, components.AccountView{StopSSOError: msg})
	}
	return h.factorsPage(c, status, components.FactorsView{Confirm: components.ConfirmView{SSOError: msg}})
}
