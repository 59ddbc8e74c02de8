package handlers

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/gofiber/fiber/v2"

	"dialoog/components"
	"dialoog/i18n"
)

// Paths of the installable web app. The service worker is served from the
// site root, so its scope is the whole site without a
// Service-Worker-Allowed header.
const (
	pathServiceWorker = "/sw.js"
	pathManifest      = "/manifest.webmanifest"
	pathOffline       = "/offline"
)

// rootAsset serves an embedded file at a root path (the service worker)
// with its own content type. It is revalidated on every use (no-cache,
// ETag), so a new release's service worker is picked up at once.
func (h *handler) rootAsset(name, contentType string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		a, ok := h.assets[name]
		if !ok {
			return fiber.ErrNotFound
		}
		return sendRevalidated(c, a.body, a.etag, contentType)
	}
}

// sendRevalidated sends body with its ETag, to be revalidated on every use.
func sendRevalidated(c *fiber.Ctx, body []byte, etag, contentType string) error {
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderETag, etag)
	c.Set(fiber.HeaderContentType, contentType)
	if etagMatches(c.Get(fiber.HeaderIfNoneMatch), etag) {
		c.Status(fiber.StatusNotModified)
		return nil
	}
	return c.Send(body)
}

// askedLanguage is the language a PWA address names in ?lang= (the page
// that links it puts its own there: browsers fetch a manifest without
// cookies), "" when it names none Dialoog has.
func askedLanguage(c *fiber.Ctx) string {
	if lang := c.Query("lang"); slices.Contains(i18n.Languages, lang) {
		return lang
	}
	return ""
}

// webManifest is the web app manifest, in one language.
type webManifest struct {
	Name            string         `json:"name"`
	ShortName       string         `json:"short_name"`
	Description     string         `json:"description"`
	Lang            string         `json:"lang"`
	StartURL        string         `json:"start_url"`
	Scope           string         `json:"scope"`
	Display         string         `json:"display"`
	BackgroundColor string         `json:"background_color"`
	ThemeColor      string         `json:"theme_color"`
	Icons           []manifestIcon `json:"icons"`
}

type manifestIcon struct {
	Src     string `json:"src"`
	Sizes   string `json:"sizes"`
	Type    string `json:"type"`
	Purpose string `json:"purpose"`
}

// manifests are the web app manifests by language, built once.
var manifests = func() map[string]asset {
	out := make(map[string]asset, len(i18n.Languages))
	for _, lang := range i18n.Languages {
		l := i18n.For(lang)
		body, err := json.MarshalIndent(webManifest{
			Name: l.T("layout.product"), ShortName: l.T("layout.product"), Description: l.T("pwa.description"),
			Lang: l.Lang(), StartURL: "/berichten", Scope: "/", Display: "standalone",
			BackgroundColor: "#f4f6f8", ThemeColor: "#1f4e79",
			Icons: []manifestIcon{
				{"/static/icons/icon-192.png", "192x192", "image/png", "any"},
				{"/static/icons/icon-512.png", "512x512", "image/png", "any"},
				{"/static/icons/icon-512.png", "512x512", "image/png", "maskable"},
			},
		}, "", "  ")
		if err != nil {
			panic(fmt.Errorf("web app manifest: %w", err))
		}
		sum := sha256.Sum256(body)
		out[lang] = asset{body: append(body, '\n'), etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
	}
	return out
}()

// manifest serves the web app manifest in the language of ?lang= (the
// layout links the page's own), else in the language the browser's cookie
// or Accept-Language asks for.
func (h *handler) manifest(c *fiber.Ctx) error {
	lang := askedLanguage(c)
	if lang == "" {
		lang = i18n.Match(c.Get(fiber.HeaderAcceptLanguage), h.chosenLanguage(c))
		c.Vary(fiber.HeaderAcceptLanguage, fiber.HeaderCookie)
	}
	a := manifests[lang]
	c.Set(fiber.HeaderContentLanguage, lang)
	return sendRevalidated(c, a.body, a.etag, "application/manifest+json")
}

// offline is the page the service worker keeps to show when there is no
// network. It is routed before the session is resolved, so it never
// carries a name, an unread count or a CSRF token: what the browser stores
// is the same for everyone in a language. The worker keeps it in each
// language (?lang=, see static/pwa/sw.js) and shows the one the person
// last read in.
func (h *handler) offline(c *fiber.Ctx) error {
	if lang := askedLanguage(c); lang != "" {
		setLanguage(c, lang)
	}
	m := h.meta(c)
	m.Offline = true
	return render(c, fiber.StatusOK, components.OfflinePage(m))
}
