package handlers

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"strings"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
)

const (
	csrfField  = "_csrf"
	csrfHeader = "X-Csrf-Token"
	// csrfTokenLen is the length of 32 random bytes in unpadded base64url.
	csrfTokenLen = 43
)

// csrf protects every state-changing request with a double-submit token: a
// random value in an HttpOnly, SameSite=Lax cookie (__Host- prefixed over
// HTTPS, so no subdomain can plant one) that the request must repeat in the
// _csrf form field or the X-Csrf-Token header. Another site can make a
// browser send the cookie but cannot read it to repeat it. The token is left
// in c.Locals for forms and the layout's hx-headers.
func (h *handler) csrf(c *fiber.Ctx) error {
	name := cookieName(h.cfg, csrfCookie)
	token := c.Cookies(name)
	known := validCSRFToken(token)
	if known {
		token = strings.Clone(token) // Fiber reuses the request buffer
	} else {
		token = newCSRFToken()
		c.Cookie(&fiber.Cookie{
			Name:        name,
			Value:       token,
			Path:        "/",
			Secure:      h.cfg.Secure(),
			HTTPOnly:    true,
			SameSite:    fiber.CookieSameSiteLaxMode,
			SessionOnly: true,
		})
	}
	c.Locals(keyCSRF, token)

	switch c.Method() {
	case fiber.MethodPost, fiber.MethodPut, fiber.MethodPatch, fiber.MethodDelete:
	default:
		return c.Next()
	}
	// A request without the cookie cannot match: the fresh token set above
	// lets the user's next attempt succeed. A streamed upload carries the
	// token in the header only: its body is not read before the session is
	// checked.
	if !known || !(sameToken(c.Get(csrfHeader), token) || (!streamsBody(c) && sameToken(c.FormValue(csrfField), token))) {
		return apperr.New(apperr.Forbidden, "error.csrf")
	}
	return c.Next()
}

func sameToken(sent, want string) bool {
	return sent != "" && subtle.ConstantTimeCompare([]byte(sent), []byte(want)) == 1
}

func newCSRFToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func validCSRFToken(s string) bool {
	if len(s) != csrfTokenLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}
