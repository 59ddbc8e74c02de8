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
// _csrf form field of the body or the X-Csrf-Token header, never in the
// query string. Another site can make a browser send the cookie but cannot
// read it to repeat it. The token is left in c.Locals for forms and the
// layout's hx-headers.
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
	case fiber.MethodPost:
	case fiber.MethodPut, fiber.MethodPatch, fiber.MethodDelete:
		// No route takes them (a route that did would need this check
		// first): 405, not a form that expired.
		c.Set(fiber.HeaderAllow, "GET, HEAD, POST")
		return fiber.ErrMethodNotAllowed
	default:
		return c.Next()
	}
	// A request without the cookie cannot match: the fresh token set above
	// lets the user's next attempt succeed. A streamed upload carries the
	// token in the header only: its body is not read before the session is
	// checked.
	if !known || !(sameToken(c.Get(csrfHeader), token) || (!streamsBody(c) && sameToken(postedCSRF(c), token))) {
		return apperr.New(apperr.Forbidden, "error.csrf")
	}
	return c.Next()
}

// postedCSRF is the token of the form field in the body: never from the
// query string (c.FormValue would look there first), where it would end up
// in logs and history and a link could carry it.
func postedCSRF(c *fiber.Ctx) string {
	if isMultipart(c) {
		form, err := c.MultipartForm()
		if err != nil || len(form.Value[csrfField]) == 0 {
			return ""
		}
		return form.Value[csrfField][0]
	}
	return string(c.Request().PostArgs().Peek(csrfField))
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
