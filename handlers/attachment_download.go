package handlers

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
)

// downloadCSP is the policy of a downloaded file: should a browser render
// it after all, it runs in a sandbox (no script, its own origin) and may
// load nothing.
const downloadCSP = "sandbox; default-src 'none'; frame-ancestors 'none'"

// attachmentDownload sends a file of a message the user can see, always as
// a download in its stored (checked) type, never sniffed, never cached. The
// file streams from the blob store, decrypted as it goes, after the
// participant check; the response is written after the handler returned,
// so the reading gets a context of its own, and the connection's write
// deadline is renewed while the file goes out (see writeDeadline).
func (h *handler) attachmentDownload(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), streamTimeout)
	a, rc, err := h.messages.Download(ctx, current(c).User, id)
	if err != nil {
		cancel()
		return err
	}
	ctype := a.ContentType
	if _, _, err := mime.ParseMediaType(ctype); err != nil {
		ctype = fiber.MIMEOctetStream
	}
	c.Set(fiber.HeaderContentType, ctype)
	c.Set(fiber.HeaderContentDisposition, contentDisposition(a.Name))
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentSecurityPolicy, downloadCSP)
	body := &downloadStream{r: rc, close: func() error { cancel(); return rc.Close() }, log: h.logger(c), id: a.ID,
		deadline: writeDeadline(c.Context().Conn())}
	return c.Status(fiber.StatusOK).SendStream(body, int(a.Size))
}

// downloadStream is a file on its way to the client. A read error (a
// store failing, content that does not authenticate) ends the response
// early, which the client sees as a broken download; it is logged here
// because the handler has returned by then.
type downloadStream struct {
	r      io.Reader
	close  func() error
	log    *slog.Logger
	id     int64
	failed bool
	// deadline is renewed at each read: the server reads the next part
	// once it wrote the one before.
	deadline *deadline
}

func (d *downloadStream) Read(p []byte) (int, error) {
	d.deadline.progressed()
	n, err := d.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && !d.failed {
		d.failed = true
		d.log.Error("attachment download broke off", "attachment", d.id, "err", err)
	}
	return n, err
}

func (d *downloadStream) Close() error { return d.close() }

// contentDisposition makes a file a download under its own name: an ASCII
// fallback in filename= for old clients and the exact UTF-8 name in
// filename*= (RFC 6266 with RFC 5987 encoding).
func contentDisposition(name string) string {
	if name == "" || !utf8.ValidString(name) {
		name = "bijlage"
	}
	return `attachment; filename="` + asciiFilename(name) + `"; filename*=UTF-8''` + encodeRFC5987(name)
}

// asciiFilename replaces everything but printable ASCII, and the quote and
// backslash that would end or escape the quoted string, by "_".
func asciiFilename(name string) string {
	var b strings.Builder
	for _, r := range name {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			b.WriteByte('_')
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// encodeRFC5987 percent-encodes every UTF-8 byte outside RFC 5987's
// attr-char.
func encodeRFC5987(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAttrChar(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0x0f])
	}
	return b.String()
}

func isAttrChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}
