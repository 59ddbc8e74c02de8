package handlers

import (
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/i18n"
)

// Where the user goes for each stage. The second-factor stage has two pages
// (SMS, then the app); stageURL picks one.
const (
	pathLogin       = "/inloggen"
	pathLoginFactor = "/inloggen/tweede-stap"
	pathTerms       = "/stap/voorwaarden"
	pathPassword    = "/stap/wachtwoord"
	pathSMS         = "/stap/sms"
	pathApp         = "/stap/app"
	pathRecovery    = "/stap/herstelcodes"
	pathProfile     = "/stap/gegevens"
	pathInbox       = "/berichten"
	// pathRecoveryUsed follows a login with a recovery code.
	pathRecoveryUsed = "/inloggen/herstelcode"
)

// session resolves the session cookie into the signed-in user and leaves it
// in c.Locals; the user's language setting then wins over the browser's and
// the language cookie's (see language). A
// cookie of an ended or expired session is removed (by page loads) and the
// request goes on signed out; the guards below decide whether that is
// enough.
func (h *handler) session(c *fiber.Ctx) error {
	token := c.Cookies(SessionCookieName(h.cfg))
	if token == "" {
		return c.Next()
	}
	token = strings.Clone(token)
	cur, err := h.accounts.Resolve(c.UserContext(), token)
	if err != nil {
		if apperr.CodeOf(err) != apperr.Unauthorized {
			return fmt.Errorf("resolve session: %w", err)
		}
		// A background htmx request (the password check while typing) may
		// still carry the cookie of the session the step just rotated away;
		// clearing the cookie there would also drop the new one the browser
		// has meanwhile. Only a page load clears a dead cookie.
		if c.Get("HX-Request") != "true" {
			ClearSessionCookie(c, h.cfg)
		}
		return c.Next()
	}
	c.Locals(keyCurrent, cur)
	c.Locals(keySessionToken, token)
	// A session still waiting for its second factor is not the person yet:
	// a language chosen in this browser wins there.
	if !cur.NeedsSecondFactor || h.chosenLanguage(c) == "" {
		useUserLanguage(c, cur.User.Language)
	}
	if !cur.NeedsSecondFactor {
		h.rememberLanguage(c, cur.User.Language)
	}
	err = c.Next()
	// A request that may have changed something (not a GET) shows in the
	// person's next inbox page at once.
	if m := c.Method(); m != fiber.MethodGet && m != fiber.MethodHead {
		h.messages.Touched(cur.User)
	}
	return err
}

// current returns the signed-in user of the request, or nil.
func current(c *fiber.Ctx) *auth.Current {
	cur, _ := c.Locals(keyCurrent).(*auth.Current)
	return cur
}

// signedIn lets only requests with a session through; others go to the
// login page.
func (h *handler) signedIn(c *fiber.Ctx) error {
	if current(c) == nil {
		return redirect(c, pathLogin)
	}
	return c.Next()
}

// onStage guards the routes of one stage: only a signed-in user who has
// passed the second factor (when they have one) and whose stage it is may
// use them. Everyone else is sent to where they belong, so no URL skips a
// step, and a finished step cannot be repeated.
func (h *handler) onStage(stage auth.Stage) fiber.Handler {
	return func(c *fiber.Ctx) error {
		cur := current(c)
		if cur == nil {
			return redirect(c, pathLogin)
		}
		if cur.NeedsSecondFactor || cur.Stage != stage {
			return h.toStage(c, cur)
		}
		return c.Next()
	}
}

// mayEnrol guards the factor setup pages: during the first visit, and
// for a while after a recovery code (auth decides, see
// auth.Current.MayEnrolFactor). Everyone else goes where they belong.
func (h *handler) mayEnrol(c *fiber.Ctx) error {
	cur := current(c)
	if cur == nil {
		return redirect(c, pathLogin)
	}
	if !cur.MayEnrolFactor {
		return h.toStage(c, cur)
	}
	return c.Next()
}

// pastFactor lets through a signed-in session that passed the second step
// (whatever the stage).
func (h *handler) pastFactor(c *fiber.Ctx) error {
	cur := current(c)
	if cur == nil {
		return redirect(c, pathLogin)
	}
	if cur.NeedsSecondFactor {
		return h.toStage(c, cur)
	}
	return c.Next()
}

// needsFactor guards the login's second step: only for a session that has
// passed the password but not yet the second factor.
func (h *handler) needsFactor(c *fiber.Ctx) error {
	cur := current(c)
	if cur == nil {
		return redirect(c, pathLogin)
	}
	if !cur.NeedsSecondFactor {
		return h.toStage(c, cur)
	}
	return c.Next()
}

// adminOnly hides admin pages from everyone but internal admins: a 404, so
// they do not even learn that the page exists.
func (h *handler) adminOnly(c *fiber.Ctx) error {
	if cur := current(c); cur == nil || !cur.User.Admin() {
		return apperr.New(apperr.NotFound, "error.not_found")
	}
	return c.Next()
}

// continueStep sends a signed-in user to their current step ("/stap").
func (h *handler) continueStep(c *fiber.Ctx) error {
	return h.toStage(c, current(c))
}

// toStage redirects to the page of the user's stage.
func (h *handler) toStage(c *fiber.Ctx, cur *auth.Current) error {
	location, err := h.stageURL(c, cur)
	if err != nil {
		return err
	}
	return redirect(c, location)
}

// stageURL returns the page where cur continues: the login's second step
// while the session still needs it, else the page of the stage. In the
// second-factor stage that is the SMS page, or the app page once SMS is set
// up.
func (h *handler) stageURL(c *fiber.Ctx, cur *auth.Current) (string, error) {
	if cur.NeedsSecondFactor {
		return pathLoginFactor, nil
	}
	switch cur.Stage {
	case auth.StageTerms:
		return pathTerms, nil
	case auth.StagePassword:
		return pathPassword, nil
	case auth.StageSecondFactor:
		st, err := h.accounts.SMSSetupState(c.UserContext(), cur.User.ID)
		if err != nil {
			return "", fmt.Errorf("sms state: %w", err)
		}
		if st.Verified != "" {
			return pathApp, nil
		}
		return pathSMS, nil
	case auth.StageRecovery:
		return pathRecovery, nil
	case auth.StageProfile:
		return pathProfile, nil
	default:
		return pathInbox, nil
	}
}

// stagePath is the page of a stage named by a service that does not hand
// out the user (the invitation): close enough for the guards to take over.
func stagePath(stage string) string {
	switch auth.Stage(stage) {
	case auth.StageTerms:
		return pathTerms
	case auth.StagePassword:
		return pathPassword
	case auth.StageSecondFactor:
		return pathSMS
	case auth.StageRecovery:
		return pathRecovery
	case auth.StageProfile:
		return pathProfile
	case auth.StageDone:
		return pathInbox
	default:
		return "/stap"
	}
}

// advance finishes a step or a login: the cookie gets the session's new
// token (the service rotated it), and the browser goes on with a 303 to
// wherever the user now belongs.
func (h *handler) advance(c *fiber.Ctx, token string) error {
	SetSessionCookie(c, h.cfg, token)
	cur, err := h.accounts.Resolve(c.UserContext(), token)
	if err != nil {
		return fmt.Errorf("resolve new session: %w", err)
	}
	c.Locals(keyCurrent, cur)
	if !cur.Session.SecondFactorAt.IsZero() {
		// A completed login: the browser is marked as the account's
		// device, so that failures from elsewhere do not lock it out.
		SetDeviceCookie(c, h.cfg, h.accounts.RememberDevice(strings.Clone(c.Cookies(DeviceCookieName(h.cfg))), cur.User.ID))
	}
	location, err := h.stageURL(c, cur)
	if err != nil {
		return err
	}
	// A text the person kept when their session lapsed: its form.
	location = h.keptLocation(c, cur, location)
	lang := cur.User.Language
	if cur.NeedsSecondFactor {
		lang = "" // not the person yet: their language does not apply
	}
	return h.onTo(c, lang, location)
}

// onTo sends the browser on to location after a step of a person whose
// pages speak lang (their account's setting; "" when it does not apply).
// An htmx request swaps only the main content of the page it came from;
// when that page spoke another language (a login from a browser asking
// for another language than the account's), location comes as a whole
// page instead, so that <html lang>, the skip link, the header and the
// footer speak the account's language as well.
func (h *handler) onTo(c *fiber.Ctx, lang, location string) error {
	if isPartial(c) && lang != "" && i18n.Match(c.Get(fiber.HeaderAcceptLanguage), lang) != h.localizer(c).Lang() {
		return reloadTo(c, location)
	}
	return seeOther(c, location)
}
