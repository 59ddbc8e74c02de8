package handlers

import (
	"io"
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"

	"dialoog/auth"
)

// formBodyLimit bounds the body of every form posted without an account
// (and by a user still in the first visit): a login, a sign-up step, a
// forgotten password. An attacker's 29 MiB login does not fit.
const formBodyLimit = 64 << 10

// signedInFormLimit bounds the forms of a user who finished the first
// visit: a message of 20,000 characters or two texts of the terms of use,
// url-encoded, fit.
const signedInFormLimit = 1 << 20

// streamsBody reports whether the request's body is left on the
// connection for its handler to stream: an attachment upload.
func streamsBody(c *fiber.Ctx) bool {
	return c.Method() == fiber.MethodPost && c.Path() == pathUpload
}

// messageForm matches the paths of the two message forms, which a browser
// without script posts with their files (multipart).
var messageForm = regexp.MustCompile(`^/berichten/(nieuw|[0-9]{1,19})$`)

// mayCarryFiles reports whether the request is a message form posted with
// its files, or a PDF posted to "Document controleren": its body may be as
// large as bodyLimit, but only for a signed-in user (readDeferredBody).
func mayCarryFiles(c *fiber.Ctx) bool {
	return c.Method() == fiber.MethodPost && isMultipart(c) && (messageForm.MatchString(c.Path()) || c.Path() == pathSealVerify)
}

// limitBody leaves the body of every request on the connection until the
// session is known (readDeferredBody reads it, after the session
// middleware), so that without an account nobody gets more than
// formBodyLimit read into memory. The server streams request bodies
// (fiber.Config.StreamRequestBody), so without this nothing would bound
// what c.Body() reads. A request answered before (a static file, a health
// check, an early error) gets its connection closed after the answer,
// unread.
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
	c.Locals(keyBodyDeferred, true)
	err := c.Next()
	if deferred, _ := c.Locals(keyBodyDeferred).(bool); deferred && c.Request().Header.ContentLength() != 0 {
		c.Context().SetConnectionClose()
	}
	return err
}

// readDeferredBody reads the body limitBody left for after the session
// check into memory, as the handlers expect: up to formBodyLimit without
// a session that finished the first visit and the second factor,
// signedInFormLimit with one, and bodyLimit for such a user's message form
// posted with its files; a message form of a session that lapsed gets the
// limits it had (its text is kept, see keepUnsent). A larger body is a
// 413, refused from its announced length or, sent in chunks, as soon as it
// passes the limit.
func (h *handler) readDeferredBody(c *fiber.Ctx) error {
	if deferred, _ := c.Locals(keyBodyDeferred).(bool); !deferred {
		return c.Next()
	}
	c.Locals(keyBodyDeferred, false)
	limit := formBodyLimit
	if cur := current(c); (cur != nil && !cur.NeedsSecondFactor && cur.Stage == auth.StageDone) || h.lapsedUser(c) != 0 {
		limit = signedInFormLimit
		if mayCarryFiles(c) {
			limit = bodyLimit
		}
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
	// A message form with its files may come over a slow line: its
	// arriving bytes renew the read deadline.
	stream := &progressReader{r: c.Context().RequestBodyStream(), d: readDeadline(c.Context().Conn())}
	body, err := io.ReadAll(io.LimitReader(stream, int64(limit)+1))
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
