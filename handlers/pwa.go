package handlers

import (
	"github.com/gofiber/fiber/v2"

	"dialoog/components"
)

// Paths of the installable web app. The service worker is served from the
// site root, so its scope is the whole site without a
// Service-Worker-Allowed header.
const (
	pathServiceWorker = "/sw.js"
	pathManifest      = "/manifest.webmanifest"
	pathOffline       = "/offline"
)

// rootAsset serves an embedded file at a root path (the service worker, the
// manifest) with its own content type. It is revalidated on every use
// (no-cache, ETag), so a new release's service worker is picked up at once.
func (h *handler) rootAsset(name, contentType string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		a, ok := h.assets[name]
		if !ok {
			return fiber.ErrNotFound
		}
		c.Set(fiber.HeaderCacheControl, "no-cache")
		c.Set(fiber.HeaderETag, a.etag)
		c.Set(fiber.HeaderContentType, contentType)
		if etagMatches(c.Get(fiber.HeaderIfNoneMatch), a.etag) {
			c.Status(fiber.StatusNotModified)
			return nil
		}
		return c.Send(a.body)
	}
}

// offline is the page the service worker keeps to show when there is no
// network. It is routed before the session is resolved, so it never
// carries a name, an unread count or a CSRF token: what the browser stores
// is the same for everyone (in their language).
func (h *handler) offline(c *fiber.Ctx) error {
	m := h.meta(c)
	m.Offline = true
	return render(c, fiber.StatusOK, components.OfflinePage(m))
}
