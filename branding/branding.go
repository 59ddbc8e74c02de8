// Package branding holds the rules of an organisation's house style: which
// names, texts, colours and logos are accepted, and the stylesheet that
// carries the colour to the pages. It does no I/O; auth stores the values.
package branding

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"dialoog/usertext"
)

// Limits of the fields of "Organisatie" in Beheer.
const (
	MaxName        = 100
	MaxSenderName  = 100
	MaxSupportText = 1000
	// MaxLogoBytes bounds an uploaded logo.
	MaxLogoBytes = 200 << 10
	// MaxLogoSide bounds the width and the height of a logo in pixels.
	MaxLogoSide = 2000
	// MinContrast is the contrast the colour must have with white, the
	// colour of the text on it, and with PageBackground, on which it is
	// the colour of links (WCAG AA for normal text).
	MinContrast = 4.5
)

// Logo types: only raster images, which carry no script (SVG can).
const (
	TypePNG  = "image/png"
	TypeJPEG = "image/jpeg"
)

// Problems a value can have; each is an i18n key.
const (
	ErrNameEmpty      = "branding.name_empty"
	ErrNameLong       = "branding.name_long"
	ErrSenderLong     = "branding.sender_long"
	ErrSenderAddress  = "branding.sender_address"
	ErrSupportLong    = "branding.support_long"
	ErrControl        = "branding.control"
	ErrSenderChars    = "branding.sender_chars"
	ErrColourFormat   = "branding.colour_format"
	ErrColourContrast = "branding.colour_contrast"
	ErrLogoMissing    = "branding.logo_missing"
	ErrLogoLarge      = "branding.logo_large"
	ErrLogoType       = "branding.logo_type"
	ErrLogoSize       = "branding.logo_dimensions"
)

// CheckName checks an organisation's name; "" when it is fine.
func CheckName(s string) string {
	switch {
	case strings.TrimSpace(s) == "":
		return ErrNameEmpty
	case utf8.RuneCountInString(s) > MaxName:
		return ErrNameLong
	case hasControl(s, false):
		return ErrControl
	}
	return ""
}

// CheckSenderName checks the display name of the organisation's mail
// (empty: the installation's); it goes into a mail header, so no control
// characters and no quotes or angle brackets. Nor an at sign: many mail
// apps show only the display name, and "security@bank.example" there
// reads as the address the mail came from.
func CheckSenderName(s string) string {
	switch {
	case utf8.RuneCountInString(s) > MaxSenderName:
		return ErrSenderLong
	case hasControl(s, false):
		return ErrControl
	case strings.ContainsAny(s, `"<>\`):
		return ErrSenderChars
	case HasAtSign(s):
		return ErrSenderAddress
	}
	return ""
}

// HasAtSign reports whether s holds an at sign, also the full-width and
// the small one that look like it.
func HasAtSign(s string) bool {
	return strings.ContainsAny(s, "@\uff20\ufe6b")
}

// CheckSupportText checks the support text; it may have line breaks.
func CheckSupportText(s string) string {
	switch {
	case utf8.RuneCountInString(s) > MaxSupportText:
		return ErrSupportLong
	case hasControl(s, true):
		return ErrControl
	}
	return ""
}

// hasControl reports whether s holds a control character (line breaks
// only when newlines is false), invalid UTF-8, or an invisible
// bidirectional formatting character, which would make a name show as
// another (usertext.Hidden, the rule of people's names).
func hasControl(s string, newlines bool) bool {
	if newlines {
		s = strings.NewReplacer("\r\n", "", "\n", "", "\r", "").Replace(s)
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return true
		}
	}
	return usertext.Hidden(s)
}

// NormaliseColour returns s as #rrggbb in lower case, and "" with no
// problem for an empty s (the default colour). Anything but six hex
// digits, with or without '#', is refused, and so is a colour too light
// for white text on it or for links in it on the page.
func NormaliseColour(s string) (string, string) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", ""
	}
	s = "#" + strings.TrimPrefix(s, "#")
	if !ValidColour(s) {
		return "", ErrColourFormat
	}
	if !Passes(s) {
		return "", ErrColourContrast
	}
	return s, ""
}

// Passes reports whether s is a valid colour that meets today's rules:
// MinContrast with white (text on it) and with PageBackground (links in
// it).
func Passes(s string) bool {
	return ValidColour(s) && Contrast(s) >= MinContrast && ContrastBetween(s, PageBackground) >= MinContrast
}

// Readable is the colour pages and mail show for a stored colour: the
// colour itself when it Passes, else the lightest darker shade of it (its
// channels scaled down alike, so the hue stays) that does: a colour stored
// before a rule was added is shown readable instead of as stored. "" for
// "" or an invalid colour (the default then).
func Readable(s string) string {
	c, _ := readableShade(s)
	return c
}

// readableShade returns Readable(s) and its step k: the shade is
// shade(s, k), and shade(s, k+1) fails.
func readableShade(s string) (string, int) {
	if !ValidColour(s) {
		return "", 0
	}
	if Passes(s) { // shade(s, 255), the colour itself: every page's case
		return s, 255
	}
	for k := 254; k > 0; k-- {
		if c := shade(s, k); Passes(c) {
			return c, k
		}
	}
	return "#000000", 0
}

// shade is s with every channel scaled by k/255 (rounded down).
func shade(s string, k int) string {
	r, g, b := rgb(s)
	f := func(c float64) int { return int(c) * k / 255 }
	return fmt.Sprintf("#%02x%02x%02x", f(r), f(g), f(b))
}

// ValidColour reports whether s is exactly #rrggbb in lower case: the
// only form that reaches a stylesheet or a mail.
func ValidColour(s string) bool {
	if len(s) != 7 || s[0] != '#' {
		return false
	}
	for i := 1; i < 7; i++ {
		b := s[i]
		if !('0' <= b && b <= '9' || 'a' <= b && b <= 'f') {
			return false
		}
	}
	return true
}

func rgb(s string) (r, g, b float64) {
	var v [3]byte
	_, _ = hex.Decode(v[:], []byte(s[1:]))
	return float64(v[0]), float64(v[1]), float64(v[2])
}

// PageBackground is the page's own colour behind the text (app.css's
// --c-bg). The organisation's colour is also the colour of links and
// subjects on it, so it must be as readable there as under white text.
const PageBackground = "#f4f6f8"

// Contrast is the WCAG contrast ratio of a valid colour with white.
func Contrast(s string) float64 { return ContrastBetween(s, "#ffffff") }

// ContrastBetween is the WCAG contrast ratio of two valid colours.
func ContrastBetween(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// luminance is the WCAG relative luminance of a valid colour.
func luminance(s string) float64 {
	lin := func(c float64) float64 {
		c /= 255
		if c <= 0.03928 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	r, g, b := rgb(s)
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// darker returns a valid colour a quarter darker, for hover states.
func darker(s string) string {
	r, g, b := rgb(s)
	return fmt.Sprintf("#%02x%02x%02x", int(r*0.75), int(g*0.75), int(b*0.75))
}

// Stylesheet is the organisation's stylesheet: the colour, as Readable
// shows it, as the app stylesheet's custom properties. colour must be
// valid (ValidColour); anything else gives an empty stylesheet, so nothing
// unchecked reaches a page.
func Stylesheet(colour string) string {
	colour = Readable(colour)
	if colour == "" {
		return ""
	}
	return ":root{--c-primary:" + colour + ";--c-primary-hover:" + darker(colour) + "}\n"
}

// Hash is the short content hash in the address of a stylesheet or logo,
// so that a changed one gets a new address and an old one may be cached.
func Hash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// CheckLogo decides by content, not by name or announced type, whether
// data is a logo: a PNG or JPEG image that decodes, of at most
// MaxLogoBytes and MaxLogoSide pixels a side. It returns the content type.
func CheckLogo(data []byte) (string, string) {
	if len(data) == 0 {
		return "", ErrLogoMissing
	}
	if len(data) > MaxLogoBytes {
		return "", ErrLogoLarge
	}
	var typ string
	var decodeConfig func(io.Reader) (image.Config, error)
	var decode func(io.Reader) (image.Image, error)
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		typ, decodeConfig, decode = TypePNG, png.DecodeConfig, png.Decode
	case bytes.HasPrefix(data, []byte{0xff, 0xd8, 0xff}):
		typ, decodeConfig, decode = TypeJPEG, jpeg.DecodeConfig, jpeg.Decode
	default:
		return "", ErrLogoType
	}
	cfg, err := decodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", ErrLogoType
	}
	// The size is checked before the image is decoded in full.
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > MaxLogoSide || cfg.Height > MaxLogoSide {
		return "", ErrLogoSize
	}
	if _, err := decode(bytes.NewReader(data)); err != nil {
		return "", ErrLogoType
	}
	return typ, ""
}

// Ext is the file extension of a logo type.
func Ext(contentType string) string {
	if contentType == TypeJPEG {
		return ".jpg"
	}
	return ".png"
}
