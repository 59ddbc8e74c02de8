package handlers

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// clientIP is the peer address, for the services' per-IP limits and audit.
func clientIP(c *fiber.Ctx) string { return strings.Clone(c.IP()) }

// userAgent is the browser's User-Agent, clipped for storage.
func userAgent(c *fiber.Ctx) string {
	return clip(strings.Clone(c.Get(fiber.HeaderUserAgent)), maxUserAgentLen)
}

// formValue returns a form field, copied out of Fiber's reused buffer.
func formValue(c *fiber.Ctx, name string) string { return strings.Clone(c.FormValue(name)) }

// clipChars bounds a field that the service allows at most max
// characters. The cut is in bytes (at a whole character); a text
// longer than max characters still is after the cut, so the service
// refuses it with its message instead of storing it shortened.
func clipChars(s string, max int) string { return clip(s, 4*(max+1)) }

// maxDateFormLen bounds a typed day (2026-12-31, 31-12-2026). It is well
// above the longest valid one, so that a day typed with a character too
// many stays invalid and is refused with its message, instead of being cut
// to another valid day.
const maxDateFormLen = 64

// checked reports whether a checkbox was ticked.
func checked(c *fiber.Ctx, name string) bool { return c.FormValue(name) != "" }

// seconds rounds a wait up to whole seconds.
func seconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}
