package handlers

import "github.com/gofiber/fiber/v2"

// noStore forbids caching of every response after it in the chain (all but
// static files): pages hold personal data, tokens and CSRF values, and a
// shared or back-button cache must never show them to someone else. A
// handler may still override it.
func noStore(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Next()
}
