package handlers

import (
	"github.com/gofiber/fiber/v2"

	"dialoog/i18n"
)

// language chooses the request's language and leaves its Localizer in
// c.Locals. The order, first that applies:
//  1. signed in past the second factor: the account's setting (the session
//     middleware applies it; the footer's switch stores it there too, so the
//     person's choice follows them to every device, and to mail and texts);
//  2. the language cookie, set by the footer's switch in this browser (it
//     also wins over the language an invitation was sent in);
//  3. the browser's Accept-Language; Dutch when nothing matches.
func (h *handler) language(c *fiber.Ctx) error {
	setLanguage(c, i18n.Match(c.Get(fiber.HeaderAcceptLanguage), h.chosenLanguage(c)))
	return c.Next()
}

// setLanguage makes lang the request's language.
func setLanguage(c *fiber.Ctx, lang string) {
	l := i18n.For(lang)
	c.Locals(keyLocalizer, l)
	c.Set(fiber.HeaderContentLanguage, l.Lang())
}

// useUserLanguage applies a user's language setting (empty: keep the
// browser's choice).
func useUserLanguage(c *fiber.Ctx, setting string) {
	if setting != "" {
		setLanguage(c, i18n.Match(c.Get(fiber.HeaderAcceptLanguage), setting))
	}
}
