package handlers

import (
	"github.com/gofiber/fiber/v2"

	"dialoog/config"
)

// contentSecurityPolicy returns the CSP: only Dialoog's own scripts, styles
// and connections (plus its WebSocket at the public host), no framing, no
// <base>, forms only to itself. dev relaxes style-src for the dev outbox: a
// mail's inline styles show in a sandboxed srcdoc iframe, which inherits the
// page's policy.
func contentSecurityPolicy(cfg *config.Config, dev bool) string {
	ws := "ws://" + cfg.BaseURL.Host
	if cfg.Secure() {
		ws = "wss://" + cfg.BaseURL.Host
	}
	style := "style-src 'self'"
	if dev {
		style = "style-src 'self' 'unsafe-inline'"
	}
	return "default-src 'self'; script-src 'self'; " + style + "; img-src 'self' data:; " +
		"connect-src 'self' " + ws + "; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
}

// securityHeaders sets the security headers on every response.
func (h *handler) securityHeaders(c *fiber.Ctx) error {
	h.setSecurityHeaders(c)
	return c.Next()
}

// setSecurityHeaders is separate from the middleware because the error
// handler calls it too: some errors (body too large, bad request line) are
// answered without running any middleware.
func (h *handler) setSecurityHeaders(c *fiber.Ctx) {
	c.Set("Content-Security-Policy", h.csp)
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("X-Frame-Options", "DENY")
	// No referrer: sign-up links carry a token in the path.
	c.Set("Referrer-Policy", "no-referrer")
	c.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()")
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	c.Set("Cross-Origin-Resource-Policy", "same-origin")
	if h.cfg.Secure() {
		// No includeSubDomains: Dialoog does not own its parent domain's
		// other hosts.
		c.Set("Strict-Transport-Security", "max-age=31536000")
	}
}
