package handlers

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"dialoog/auth"
)

// requestLog gives every request a random id (response header X-Request-Id,
// and an attribute of the request's logger) and writes one access log line
// when the request is done. Errors are turned into responses here, not by
// Fiber after the chain returns, so that the logged status is the sent one.
func (h *handler) requestLog(c *fiber.Ctx) error {
	start := time.Now()
	id := newRequestID()
	c.Set("X-Request-Id", id)
	log := h.log.With("request_id", id)
	c.Locals(keyLogger, log)

	if err := c.Next(); err != nil {
		if herr := h.handleError(c, err); herr != nil {
			log.Error("handle error", "err", herr)
			c.Status(fiber.StatusInternalServerError)
		}
	}
	log.Info("request",
		"method", c.Method(),
		"path", logPath(c.Path()),
		"status", c.Response().StatusCode(),
		"duration", time.Since(start),
	)
	return nil
}

// newRequestID returns 16 random hex characters: enough to find one request
// in the logs, and never taken from the client, so it cannot inject text.
func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails since Go 1.24
	return hex.EncodeToString(b[:])
}

// secretPaths are path prefixes whose next segment is a secret (a sign-up,
// password-reset, helpdesk-reset or first admin's setup token), mapped to
// the sub-paths below them that are not.
var secretPaths = map[string]map[string]bool{
	"/aanmelden/":           {"nieuwe-link": true, "nieuwe-link/verstuurd": true},
	"/wachtwoord-vergeten/": {"verstuurd": true},
	"/herstel/":             {},
	auth.SetupPath:          {},
}

// logPath returns the path for the access log with secrets replaced: logs
// never contain tokens, and anyone who reads them could otherwise use a
// sign-up link. The prefixes are matched in any case, as the router
// matches them ("/Aanmelden/..." opens the same link).
func logPath(path string) string {
	for prefix, public := range secretPaths {
		if len(path) > len(prefix) && strings.EqualFold(path[:len(prefix)], prefix) {
			if rest := path[len(prefix):]; !public[strings.ToLower(rest)] {
				return prefix + ":token"
			}
		}
	}
	const max = 200 // a path is outside input; keep log lines bounded
	if len(path) > max {
		return path[:max] + "…"
	}
	return path
}
