package handlers

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"strings"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/components"
	"dialoog/messaging"
)

// pathUpload is where app.js posts each chosen file. Its body is not read
// into memory like other requests' (see limitBody): the file streams from
// the connection into the blob store.
const pathUpload = "/bijlagen"

// maxUploadOverhead bounds what a one-file multipart body may carry beyond
// the file: boundaries, part headers, a CSRF field.
const maxUploadOverhead = 64 << 10

// attachmentUpload stores one file for a message being written (app.js
// posts each chosen file here, multipart, field "file") and answers with
// its chip: the hidden id the form posts, name and size. A refused file
// gets a 422 with the reason in the chip's place; a full store a 507 that
// says so. The session was checked before any of the body was read; the
// file is read part by part from the connection, checked and encrypted
// as it streams, so memory does not grow with its size.
func (h *handler) attachmentUpload(c *fiber.Ctx) error {
	m := h.meta(c)
	// limitBody drains what is left of it; a slow line's bytes keep the
	// connection's read deadline from cutting the file off.
	body := &progressReader{r: requestBody(c), d: readDeadline(c.Context().Conn())}
	if cl := c.Request().Header.ContentLength(); cl > messaging.MaxAttachmentSize+maxUploadOverhead {
		// Refused before reading: the announced length alone is too much.
		return render(c, fiber.StatusUnprocessableEntity, components.AttachmentChipError(m, "", m.T("attachment.too_big")))
	}
	mediaType, params, err := mime.ParseMediaType(string(c.Request().Header.ContentType()))
	if err != nil || mediaType != fiber.MIMEMultipartForm || params["boundary"] == "" {
		return render(c, fiber.StatusUnprocessableEntity, components.AttachmentChipError(m, "", m.T("attachment.empty")))
	}
	mr := multipart.NewReader(body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return render(c, fiber.StatusUnprocessableEntity, components.AttachmentChipError(m, "", m.T("attachment.empty")))
		}
		if err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "malformed multipart form")
		}
		if part.FormName() != "file" {
			continue // NextPart skips what is left of it
		}
		name := clipFilename(part.FileName())
		a, err := h.messages.UploadFrom(c.UserContext(), current(c).User, name, part)
		if err != nil {
			return h.uploadRefused(c, name, err)
		}
		h.logger(c).Info("attachment uploaded", "attachment", a.ID, "size", a.Size)
		return render(c, fiber.StatusOK, components.AttachmentChip(m, attachmentItem(*a)))
	}
}

// uploadRefused answers a refused or failed upload with the chip's error:
// 422 with the reason, 507 when the store is full; other errors are
// internal and go to the error page.
func (h *handler) uploadRefused(c *fiber.Ctx, name string, err error) error {
	m := h.meta(c)
	switch apperr.CodeOf(err) {
	case apperr.Invalid:
		return render(c, fiber.StatusUnprocessableEntity, components.AttachmentChipError(m, name, h.fieldMessage(c, err, "attachments")))
	case apperr.NoSpace:
		h.logger(c).Error("attachment store full", "err", err)
		return render(c, fiber.StatusInsufficientStorage, components.AttachmentChipError(m, name, h.message(c, err)))
	}
	return err
}

// requestBody is the request body as a stream: the connection itself for
// a streamed request, else the bytes already read.
func requestBody(c *fiber.Ctx) io.Reader {
	if r := c.Context().RequestBodyStream(); r != nil {
		return r
	}
	return strings.NewReader(string(c.Body()))
}

// drainOrClose reads what is left of a streamed body, so the connection
// can serve the next request and the browser, still sending, gets to read
// the answer (a refused file's message) instead of a reset connection: for
// a signed-in user up to an attachment's size, for anyone else a little. A
// client that still has more to send gets its connection closed after the
// answer instead.
func drainOrClose(c *fiber.Ctx, body io.Reader) {
	most := int64(64 << 10)
	if current(c) != nil {
		most = messaging.MaxAttachmentSize + maxUploadOverhead
	}
	n, err := io.Copy(io.Discard, io.LimitReader(body, most))
	if n == most || (err != nil && !errors.Is(err, io.EOF)) {
		c.Context().SetConnectionClose()
	}
}

// clipFilename bounds a posted file name; the service cleans it.
func clipFilename(name string) string {
	return strings.ToValidUTF8(clip(name, maxFilenameLen), "")
}
