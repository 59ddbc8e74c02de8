package handlers

import (
	"io"

	"github.com/gofiber/fiber/v2"
)

// streamsBody reports whether the request's body is left on the
// connection for its handler to stream: an attachment upload.
func streamsBody(c *fiber.Ctx) bool {
	return c.Method() == fiber.MethodPost && c.Path() == pathUpload
}

// limitBody reads the body of every request but a streamed upload into
// memory, as the handlers expect, and refuses one above bodyLimit with a
// 413 without reading it: from its announced length, or, sent in chunks,
// as soon as it grows past the limit. The server streams request bodies
// (fiber.Config.StreamRequestBody), so without this nothing would bound
// what c.Body() reads.
//
// A streamed upload's body is left to its handler; whatever of it is left
// when the request is answered (also when the session or CSRF check
// refused it) is read here, up to a little, so the connection can carry
// the next request, or the connection is closed after the answer.
func (h *handler) limitBody(c *fiber.Ctx) error {
	req := c.Request()
	if streamsBody(c) {
		err := c.Next()
		drainOrClose(c, requestBody(c))
		return err
	}
	if !req.IsBodyStream() {
		return c.Next()
	}
	if req.Header.ContentLength() > bodyLimit {
		c.Context().SetConnectionClose()
		return fiber.ErrRequestEntityTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(c.Context().RequestBodyStream(), bodyLimit+1))
	if err != nil {
		c.Context().SetConnectionClose()
		return fiber.NewError(fiber.StatusBadRequest, "unreadable request body")
	}
	if len(body) > bodyLimit {
		c.Context().SetConnectionClose()
		return fiber.ErrRequestEntityTooLarge
	}
	req.SetBodyRaw(body)
	return c.Next()
}
