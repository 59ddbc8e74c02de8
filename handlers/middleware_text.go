package handlers

import (
	"bytes"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/messaging"
)

// errInvalidText answers a request with text no store can hold.
var errInvalidText = apperr.New(apperr.Malformed, "error.invalid_text")

// checkText refuses, with a 400 and a page that says why, a request whose
// query, form fields, uploaded file names or stored headers (the
// User-Agent, kept with a session) hold a NUL byte or invalid UTF-8: no
// store can hold them (PostgreSQL refuses both), so without this check they
// ended as a 500 deep in a service. It runs after the body was read; a
// streamed upload's file name is cleaned by the service. Paths are left to
// the routes, which answer a malformed id or token with a 404.
func (h *handler) checkText(c *fiber.Ctx) error {
	req := c.Request()
	ok := validText(req.Header.UserAgent())
	if ok {
		req.URI().QueryArgs().VisitAll(func(k, v []byte) { ok = ok && validText(k) && validText(v) })
	}
	if ok && !streamsBody(c) {
		if isMultipart(c) {
			if form, err := c.MultipartForm(); err == nil {
				for k, vs := range form.Value {
					ok = ok && messaging.ValidText(k)
					for _, v := range vs {
						ok = ok && messaging.ValidText(v)
					}
				}
				for _, fhs := range form.File {
					for _, fh := range fhs {
						ok = ok && messaging.ValidText(fh.Filename)
					}
				}
			}
		} else {
			req.PostArgs().VisitAll(func(k, v []byte) { ok = ok && validText(k) && validText(v) })
		}
	}
	if !ok {
		return errInvalidText
	}
	return c.Next()
}

// validText is messaging.ValidText for bytes.
func validText(b []byte) bool { return utf8.Valid(b) && bytes.IndexByte(b, 0) < 0 }
