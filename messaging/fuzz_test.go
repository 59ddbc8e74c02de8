package messaging

import (
	"strings"
	"testing"
	"unicode/utf8"

	"dialoog/usertext"
)

// FuzzDetectType: the type check of an uploaded file never panics, answers
// the same for the same file, only ever returns an allow-listed type, and
// agrees with the check of the file's head that uploads stream through.
func FuzzDetectType(f *testing.F) {
	f.Add("a.pdf", []byte("%PDF-1.4\n%%EOF\n"))
	f.Add("a.png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
	f.Add("a.txt", []byte("hallo\nwereld\n"))
	f.Add("a.txt", []byte("caf\xc3"))
	f.Add("a.docx", []byte("PK\x03\x04rest"))
	f.Add("a.exe", []byte("MZ\x90\x00"))
	f.Add("evil\u202efdp.txt", []byte("x"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		ct, err := DetectType(name, data)
		ct2, err2 := DetectType(name, data)
		if ct != ct2 || (err == nil) != (err2 == nil) {
			t.Fatalf("not deterministic: %q/%v vs %q/%v", ct, err, ct2, err2)
		}
		if err != nil {
			return
		}
		allowed := false
		for _, want := range allowedTypes {
			allowed = allowed || ct == want
		}
		if !allowed {
			t.Fatalf("%q: type %q is not allow-listed", name, ct)
		}
		if _, err := detectType(name, data[:min(len(data), 512)], len(data) <= 512); err != nil {
			t.Fatalf("%q: whole file accepted, its head refused: %v", name, err)
		}
	})
}

// FuzzCleanLine: a cleaned name or subject is valid UTF-8 without control
// or bidirectional formatting characters, and cleaning it again changes
// nothing; so is a cleaned file name.
func FuzzCleanLine(f *testing.F) {
	for _, s := range []string{"evil\u202efdp.txt", " a\tb\nc ", "\x00\x1b[2J", "caf\xc3", "\u2066x\u2069", "..\\..\\etc/passwd", "\"q\".pdf", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, clean := range []func(string) string{CleanLine, cleanFilename} {
			c := clean(s)
			if !utf8.ValidString(c) || usertext.Hidden(c) || strings.TrimSpace(c) != c {
				t.Fatalf("%q -> %q", s, c)
			}
			if again := clean(c); again != c {
				t.Fatalf("%q -> %q -> %q: not idempotent", s, c, again)
			}
		}
	})
}

// A long name keeps a short extension and is cut to 120 characters; a long
// "extension" is part of the name (it made the cut panic before).
func TestCleanFilenameLength(t *testing.T) {
	long := strings.Repeat("a", 200)
	for in, want := range map[string]string{
		long + ".pdf":         strings.Repeat("a", 116) + ".pdf",
		"a." + long:           "a." + strings.Repeat("a", 118),
		"rapport.pdf":         "rapport.pdf",
		long + "." + long[:5]: strings.Repeat("a", 114) + ".aaaaa",
	} {
		if got := cleanFilename(in); got != want {
			t.Errorf("cleanFilename(%d runes) = %q (%d runes), want %q", len(in), got, len([]rune(got)), want)
		}
	}
}
