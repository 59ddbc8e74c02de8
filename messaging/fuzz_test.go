package messaging

import (
	"strings"
	"testing"
	"unicode/utf8"

	"dialoog/db"
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

// FuzzPlainName: a name built without cleaning is the name cleaning would
// give, whenever plainName takes it.
func FuzzPlainName(f *testing.F) {
	f.Add("Jan", "van der", "Berg")
	f.Add("Bülent", "", "Özdemir")
	f.Add("", "", "")
	f.Add(" Jan", "", "Berg ")
	f.Add("Jan\u00a0Piet", "", "Berg")
	f.Add("Jan", "", "Berg\x1b[2J")
	f.Add("Jan", "\u202e", "Berg")
	f.Add("caf\xc3", "", "x")
	f.Add("J.", "de", "Vries\t")
	f.Fuzz(func(t *testing.T, first, prefix, last string) {
		want := cleanName(first, prefix, last)
		got, plain := plainName(first, prefix, last)
		if plain && got != want {
			t.Fatalf("plainName(%q, %q, %q) = %q, cleaning gives %q", first, prefix, last, got, want)
		}
		if !plain && got != "" {
			t.Fatalf("plainName(%q, %q, %q) = %q without taking it", first, prefix, last, got)
		}
	})
}

// FuzzPeopleLine: the line of names a page row shows is what naming the
// same people one by one gives (the reference below splits and joins as
// the page did before peopleLine), for an internal and an external viewer.
func FuzzPeopleLine(f *testing.F) {
	person := func(fields ...string) string { return strings.Join(fields, fieldSep) }
	f.Add(person("Hanna", "H", "de", "Vries", "hr@osaw.nl", "internal", ""))
	f.Add(person("Hanna", "H", "de", "Vries", "hr@osaw.nl", "internal", "Verzuim") + personSep +
		person("Piet", "P", "", "Bakker", "pb@osaw.nl", "internal", "Verzuim") + personSep +
		person("", "", "", "", "jan@example.nl", "external", ""))
	f.Add(person("a", "b", "c") + personSep + person("x", "", "", "", "x@y.nl", "external", "", "extra"))
	f.Add(personSep + personSep + person("", "", "", "", "", "", ""))
	f.Add(person("Jan\x1b[2J", "", "van", " Berg ", "j@b.nl", "external", "") + personSep)
	f.Add("")
	internal := &db.User{ID: 1, Kind: db.KindInternal, Language: "nl"}
	external := &db.User{ID: 2, Kind: db.KindExternal, Language: "en"}
	f.Fuzz(func(t *testing.T, others string) {
		for _, viewer := range []*db.User{internal, external} {
			if got, want := peopleLine(viewer, others), joinNames(splitPeopleReference(viewer, others)); got != want {
				t.Fatalf("peopleLine(%s, %q) = %q, want %q", viewer.Kind, others, got, want)
			}
		}
	})
}

// splitPeopleReference is how a page row's names were made before
// peopleLine: every person and field split into slices of their own.
func splitPeopleReference(viewer *db.User, others string) []string {
	if others == "" {
		return nil
	}
	var names []string
	teams := map[string]bool{}
	for _, person := range strings.Split(others, personSep) {
		f := strings.Split(person, fieldSep)
		if len(f) != 7 {
			continue
		}
		if team := f[6]; team != "" && outsider(viewer) {
			if !teams[team] {
				teams[team] = true
				names = append(names, team)
			}
			continue
		}
		names = append(names, NameFor(viewer, &db.User{FirstName: f[0], Initials: f[1], NamePrefix: f[2], LastName: f[3], Email: f[4], Kind: f[5]}))
	}
	return names
}
