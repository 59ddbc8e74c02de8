package handlers

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/components"
)

// loginShow shows the login form. A user who is already signed in (second
// factor included) goes on to where they belong instead.
func (h *handler) loginShow(c *fiber.Ctx) error {
	if cur := current(c); cur != nil && !cur.NeedsSecondFactor {
		return h.toStage(c, cur)
	}
	var v components.LoginView
	switch {
	case c.Query("bewaard") == "1" && h.keptToken(c) != "":
		// After a message form was kept (keepUnsent, or the page's script
		// at the idle end), in the browser it was kept for.
		v.Notice = h.localizer(c).T("kept.login_notice")
	case c.Query("verlopen") == "1":
		// The page's script ended a session that sat idle (app.js).
		v.Notice = h.localizer(c).T("login.idle_ended")
	case c.Query("verlopen") == "12":
		// ... or one that reached its absolute end (auth.SessionAbsolute).
		v.Notice = h.localizer(c).T("login.max_ended")
	case c.Query("afgemeld") == "1":
		// ... or found its session ended elsewhere (a logout in another
		// tab, "afmelden" on another device, a password change).
		v.Notice = h.localizer(c).T("login.session_ended")
	}
	return h.loginForm(c, fiber.StatusOK, v)
}

// loginSubmit checks mail address and password. Every wrong combination
// gets the same message; a throttled account or address is told when to try
// again. A correct password starts a new session that still needs the
// second factor; the browser's previous session, if any, ends.
func (h *handler) loginSubmit(c *fiber.Ctx) error {
	email := clip(strings.TrimSpace(formValue(c, "email")), maxEmailLen)
	pw := clip(formValue(c, "password"), maxPasswordLen+4)
	res, err := h.accounts.LoginOnDevice(c.UserContext(), email, pw, strings.Clone(c.Cookies(DeviceCookieName(h.cfg))), clientIP(c), userAgent(c))
	if err != nil {
		switch apperr.CodeOf(err) {
		case apperr.Unauthorized, apperr.TooMany, apperr.Invalid, apperr.Conflict:
			h.logger(c).Info("login refused", "status", statusOf(err))
			return h.loginForm(c, statusOf(err), components.LoginView{Email: email, Error: h.message(c, err)})
		}
		return err
	}
	h.endBrowserSession(c)
	return h.advance(c, res.Token)
}

// endBrowserSession ends the session the request came with, before the
// browser gets another one or logs out: also one that is no longer live
// (lapsed), whose cookie could otherwise still keep a text for a day
// (auth.Sessions.Lapsed).
func (h *handler) endBrowserSession(c *fiber.Ctx) {
	old, _ := c.Locals(keySessionToken).(string)
	if old == "" {
		old = strings.Clone(c.Cookies(SessionCookieName(h.cfg)))
	}
	if old == "" {
		return
	}
	if err := h.sessions.End(c.UserContext(), old); err != nil {
		h.logger(c).Error("end previous session", "err", err)
		return
	}
	h.sessionEnded(c)
}

func (h *handler) loginForm(c *fiber.Ctx, status int, v components.LoginView) error {
	m := h.meta(c)
	return h.page(c, status, components.LoginPage(m, v), components.LoginPartial(m, v))
}
