package handlers

import (
	"net/url"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/config"
	"dialoog/i18n"
)

const (
	// languageCookie remembers the language chosen with the footer's
	// switch, signed in or out.
	languageCookie = "dialoog_lang"
	// languageCookieMaxAge keeps the choice for a year.
	languageCookieMaxAge = 365 * 24 * 60 * 60
	// pathLanguage is where the footer's switch posts.
	pathLanguage = "/taal"
	// maxBackPath bounds the way back the switch is given.
	maxBackPath = 2048
)

// LanguageCookieName returns the name of the language cookie, with the
// __Host- prefix over HTTPS like the other cookies.
func LanguageCookieName(cfg *config.Config) string { return cookieName(cfg, languageCookie) }

// setLanguageCookie remembers lang: SameSite=Lax, Path=/, Secure over
// HTTPS, a year. Not HttpOnly, as it holds nothing secret, but no script
// reads it either.
func setLanguageCookie(c *fiber.Ctx, cfg *config.Config, lang string) {
	c.Cookie(&fiber.Cookie{
		Name:     LanguageCookieName(cfg),
		Value:    lang,
		Path:     "/",
		Secure:   cfg.Secure(),
		SameSite: fiber.CookieSameSiteLaxMode,
		MaxAge:   languageCookieMaxAge,
	})
}

// chosenLanguage is the language of the cookie, "" when there is none or
// it names a language Dialoog does not have.
func (h *handler) chosenLanguage(c *fiber.Ctx) string {
	lang := c.Cookies(LanguageCookieName(h.cfg))
	if slices.Contains(i18n.Languages, lang) {
		return strings.Clone(lang)
	}
	return ""
}

// rememberLanguage keeps the signed-in person's language (their account's
// setting, chosen in the footer's switch or in Mijn account, or the one
// they were invited in) in the browser's language cookie, so that the
// pages after they log out or their session ends speak it too instead of
// falling back to the browser's Accept-Language. The cookie is only
// written when it says something else; a WebSocket upgrade is left alone.
func (h *handler) rememberLanguage(c *fiber.Ctx, lang string) {
	if !slices.Contains(i18n.Languages, lang) || h.chosenLanguage(c) == lang ||
		strings.EqualFold(c.Get(fiber.HeaderUpgrade), "websocket") {
		return
	}
	setLanguageCookie(c, h.cfg, lang)
}

// languageSwitch is the footer's language switch, on every page: it
// remembers the choice in a cookie and, for a signed-in person, stores it
// as their account's language (pages, mail and texts; audited), then goes
// back to the page it came from. A session still waiting for its second
// factor only gets the cookie.
func (h *handler) languageSwitch(c *fiber.Ctx) error {
	lang := clip(formValue(c, "taal"), 8)
	if !slices.Contains(i18n.Languages, lang) {
		return apperr.New(apperr.Invalid, "settings.language_invalid")
	}
	if cur := current(c); cur != nil && !cur.NeedsSecondFactor {
		if err := h.accounts.SetLanguage(c.UserContext(), cur, lang, clientIP(c)); err != nil {
			return err
		}
	}
	setLanguageCookie(c, h.cfg, lang)
	return seeOther(c, backPath(formValue(c, "terug")))
}

// backPath returns p when it is a path of this site ("/berichten?pagina=2"),
// else "/": the switch must not send anyone to another site ("//evil.test",
// "/\evil.test", "https://..."), nor carry a header break.
func backPath(p string) string {
	if len(p) > maxBackPath || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return "/"
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") {
		return "/"
	}
	return p
}

// backHere is the way back the footer's switch is given: the page's own
// address. A form that failed is shown at the address it posted to, which
// is the page's own for Dialoog's forms; its query is left off.
func backHere(c *fiber.Ctx) string {
	if c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead {
		return backPath(c.OriginalURL())
	}
	return backPath(c.Path())
}
