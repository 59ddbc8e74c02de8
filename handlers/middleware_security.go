package handlers

import (
	"slices"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

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
	h.writeSecurityHeaders(&c.Response().Header)
}

// writeSecurityHeaders sets the security headers on a response header,
// also one Fiber never routes (an unknown method, see unknownMethods).
func (h *handler) writeSecurityHeaders(rh *fasthttp.ResponseHeader) {
	rh.Set("Content-Security-Policy", h.csp)
	rh.Set("X-Content-Type-Options", "nosniff")
	rh.Set("X-Frame-Options", "DENY")
	// No referrer: sign-up links carry a token in the path.
	rh.Set("Referrer-Policy", "no-referrer")
	rh.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()")
	rh.Set("Cross-Origin-Opener-Policy", "same-origin")
	rh.Set("Cross-Origin-Resource-Policy", "same-origin")
	if h.cfg.Secure() {
		// No includeSubDomains: Dialoog does not own its parent domain's
		// other hosts.
		rh.Set("Strict-Transport-Security", "max-age=31536000")
	}
}

// unknownMethods wraps the server's handler: Fiber answers a method it
// does not know (PROPFIND, anything made up) itself, before any middleware
// or the error handler, so without this that answer carried none of the
// security headers. It gets a 501 with them, never cached.
func (h *handler) unknownMethods(next fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(fc *fasthttp.RequestCtx) {
		if slices.Contains(fiber.DefaultMethods, string(fc.Method())) {
			next(fc)
			return
		}
		fc.SetStatusCode(fiber.StatusNotImplemented)
		fc.SetContentType(fiber.MIMETextPlainCharsetUTF8)
		fc.SetBodyString("Not Implemented")
		h.writeSecurityHeaders(&fc.Response.Header)
		fc.Response.Header.Set(fiber.HeaderCacheControl, "no-store")
		fc.Response.Header.Set(fiber.HeaderAllow, "GET, HEAD, POST")
		fc.SetConnectionClose()
	}
}
