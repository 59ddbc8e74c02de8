package handlers

import (
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
// a download in its stored (checked) type, never sniffed, never cached.
func (h *handler) attachmentDownload(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	a, data, err := h.messages.Download(c.UserContext(), current(c).User, id)
	if err != nil {
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
	return c.Status(fiber.StatusOK).Send(data)
}

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
