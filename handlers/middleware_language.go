package handlers

import (
	"github.com/gofiber/fiber/v2"

	"dialoog/i18n"
)

// language chooses the request's language from Accept-Language and leaves
// its Localizer in c.Locals. Handlers that know the user's own setting call
// setLanguage, which wins.
func (h *handler) language(c *fiber.Ctx) error {
	setLanguage(c, i18n.Match(c.Get(fiber.HeaderAcceptLanguage), ""))
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
