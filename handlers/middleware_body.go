package handlers

import (
	"io"
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"

	"dialoog/auth"
)

// formBodyLimit bounds the body of every form: the longest message text
// with its fields fits, an attacker's 29 MiB login does not.
const formBodyLimit = 64 << 10

// streamsBody reports whether the request's body is left on the
// connection for its handler to stream: an attachment upload.
func streamsBody(c *fiber.Ctx) bool {
	return c.Method() == fiber.MethodPost && c.Path() == pathUpload
}

// messageForm matches the paths of the two message forms, which a browser
// without script posts with their files (multipart).
var messageForm = regexp.MustCompile(`^/berichten/(nieuw|[0-9]{1,19})$`)

// mayCarryFiles reports whether the request is a message form posted with
// its files: its body may be as large as bodyLimit, but only for a user
// whose session is checked first (readDeferredBody).
func mayCarryFiles(c *fiber.Ctx) bool {
	return c.Method() == fiber.MethodPost && isMultipart(c) && messageForm.MatchString(c.Path())
}

// limitBody reads the body of every request but a streamed upload into
// memory, as the handlers expect, up to formBodyLimit, and refuses a
// larger one with a 413 without reading it: from its announced length,
// or, sent in chunks, as soon as it grows past the limit. The server
// streams request bodies (fiber.Config.StreamRequestBody), so without
// this nothing would bound what c.Body() reads. A message form with its
// files is left on the connection until the session is known
// (readDeferredBody).
//
// A streamed upload's body is left to its handler; whatever of it is left
// when the request is answered (also when the session or CSRF check
// refused it) is read here, up to a little, so the connection can carry
// the next request, or the connection is closed after the answer.
func (h *handler) limitBody(c *fiber.Ctx) error {
	if streamsBody(c) {
		err := c.Next()
		drainOrClose(c, requestBody(c))
		return err
	}
	if !c.Request().IsBodyStream() {
		return c.Next()
	}
	if mayCarryFiles(c) {
		c.Locals(keyBodyDeferred, true)
		err := c.Next()
		if deferred, _ := c.Locals(keyBodyDeferred).(bool); deferred {
			// Answered before readDeferredBody ran (a static file, an
			// early error): the body was never read.
			c.Context().SetConnectionClose()
		}
		return err
	}
	if err := readBody(c, formBodyLimit); err != nil {
		return err
	}
	return c.Next()
}

// readDeferredBody reads the body limitBody left for after the session
// check: up to bodyLimit for a signed-in user who finished the first visit
// and the second factor, up to formBodyLimit for anyone else.
func (h *handler) readDeferredBody(c *fiber.Ctx) error {
	if deferred, _ := c.Locals(keyBodyDeferred).(bool); !deferred {
		return c.Next()
	}
	c.Locals(keyBodyDeferred, false)
	limit := formBodyLimit
	if cur := current(c); cur != nil && !cur.NeedsSecondFactor && cur.Stage == auth.StageDone {
		limit = bodyLimit
	}
	if err := readBody(c, limit); err != nil {
		return err
	}
	return c.Next()
}

// readBody reads a streamed body of at most limit bytes into memory; a
// larger one is a 413, and its connection is closed after the answer.
func readBody(c *fiber.Ctx, limit int) error {
	req := c.Request()
	if req.Header.ContentLength() > limit {
		c.Context().SetConnectionClose()
		return fiber.ErrRequestEntityTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(c.Context().RequestBodyStream(), int64(limit)+1))
	if err != nil {
		c.Context().SetConnectionClose()
		return fiber.NewError(fiber.StatusBadRequest, "unreadable request body")
	}
	if len(body) > limit {
		c.Context().SetConnectionClose()
		return fiber.ErrRequestEntityTooLarge
	}
	req.SetBodyRaw(body)
	return nil
}

// isMultipart reports whether the request body is multipart/form-data:
// a message form posted without script, with its files.
func isMultipart(c *fiber.Ctx) bool {
	return strings.HasPrefix(strings.ToLower(string(c.Request().Header.ContentType())), fiber.MIMEMultipartForm)
}
