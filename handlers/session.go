package handlers

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"dialoog/auth"
	"dialoog/config"
)

const (
	sessionCookie = "dialoog_session"
	csrfCookie    = "dialoog_csrf"
	// deviceCookie marks a browser that completed a login of an account.
	deviceCookie = "dialoog_device"
)

// cookieName adds the __Host- prefix over HTTPS: browsers then only accept
// the cookie when it is Secure, has Path=/ and no Domain, so a sibling
// subdomain cannot set or overwrite it.
func cookieName(cfg *config.Config, base string) string {
	if cfg.Secure() {
		return "__Host-" + base
	}
	return base
}

// SessionCookieName returns the name of the session cookie:
// "__Host-dialoog_session" when Dialoog is served over HTTPS, else
// "dialoog_session".
func SessionCookieName(cfg *config.Config) string { return cookieName(cfg, sessionCookie) }

// SetSessionCookie sets the session cookie to token: HttpOnly, SameSite=Lax,
// Path=/, Secure over HTTPS. It lasts for the browser session; the server
// enforces the idle and absolute limits.
func SetSessionCookie(c *fiber.Ctx, cfg *config.Config, token string) {
	c.Cookie(&fiber.Cookie{
		Name:        SessionCookieName(cfg),
		Value:       token,
		Path:        "/",
		Secure:      cfg.Secure(),
		HTTPOnly:    true,
		SameSite:    fiber.CookieSameSiteLaxMode,
		SessionOnly: true,
	})
}

// DeviceCookieName returns the name of the device cookie, with the
// __Host- prefix over HTTPS.
func DeviceCookieName(cfg *config.Config) string { return cookieName(cfg, deviceCookie) }

// SetDeviceCookie sets the device cookie (auth.Accounts.RememberDevice):
// HttpOnly, SameSite=Lax, Path=/, Secure over HTTPS, kept for a year. It
// opens nothing by itself; it only gives login attempts from this browser
// their own throttle bucket.
func SetDeviceCookie(c *fiber.Ctx, cfg *config.Config, value string) {
	c.Cookie(&fiber.Cookie{
		Name:     DeviceCookieName(cfg),
		Value:    value,
		Path:     "/",
		Secure:   cfg.Secure(),
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
		MaxAge:   auth.DeviceCookieMaxAge,
	})
}

// ClearSessionCookie removes the session cookie from the browser.
func ClearSessionCookie(c *fiber.Ctx, cfg *config.Config) {
	c.Cookie(&fiber.Cookie{
		Name:     SessionCookieName(cfg),
		Value:    "",
		Path:     "/",
		Secure:   cfg.Secure(),
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
		MaxAge:   -1,
		Expires:  time.Unix(0, 0),
	})
}
