// Package usertext holds the rules for text that people type and others
// see: what may be stored at all, and what a one-line name (a person's
// name, a subject, a file name) may hold.
package usertext

import (
	"strings"
	"unicode/utf8"
)

// Valid reports whether s can be stored and shown: valid UTF-8 and no
// NUL. PostgreSQL refuses both, so text that fails here is refused as
// input, before it reaches a store.
func Valid(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// invisibleFormat reports whether r changes how the text around it is
// laid out without being seen itself: the bidirectional embeddings,
// overrides and isolates, and the direction marks. In a name,
// "evil\u202efdp.txt" shows as "eviltxt.pdf".
func invisibleFormat(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E: // LRE, RLE, PDF, LRO, RLO
		return true
	case r >= 0x2066 && r <= 0x2069: // LRI, RLI, FSI, PDI
		return true
	case r == 0x200E || r == 0x200F || r == 0x061C: // LRM, RLM, ALM
		return true
	}
	return false
}

// control reports whether r is a C0 or C1 control character or DEL.
func control(r rune) bool {
	return r < 0x20 || (r >= 0x7F && r <= 0x9F)
}

// CleanLine returns s as one line for a name or a subject: invalid UTF-8,
// control characters and the invisible bidirectional formatting
// characters are dropped, tabs and line breaks become spaces, and the
// result is trimmed. Every stored name and subject passes through it, and
// so does every one shown (also those stored before the rule).
func CleanLine(s string) string {
	if !Hidden(s) {
		return strings.TrimSpace(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToValidUTF8(s, "") {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case control(r) || invisibleFormat(r) || r == utf8.RuneError:
			// dropped
		default:
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}

// LineWithin is CleanLine(s) cut to at most max bytes between characters:
// a line from a browser (a User-Agent) as it is stored beside what it
// describes.
func LineWithin(s string, max int) string {
	s = CleanLine(s)
	if len(s) <= max {
		return s
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return strings.TrimSpace(s[:max])
}

// Hidden reports whether s holds invalid UTF-8, a control character
// (tabs and line breaks too) or an invisible bidirectional formatting
// character: what a one-line field refuses when typed, so that a name
// shows as it reads, and what CleanLine changes beyond trimming.
func Hidden(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			return true
		}
		if control(r) || invisibleFormat(r) {
			return true
		}
		i += size
	}
	return false
}
