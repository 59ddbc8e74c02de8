package handlers

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestClipKeepsWholeCharacters: shortening outside input never splits a
// character, so that a text kept in a form after a refusal, or stored, is
// valid UTF-8 that ends in a whole character.
func TestClipKeepsWholeCharacters(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abcdef", 3, "abc"},
		{"aé", 2, "a"},  // é is two bytes
		{"a😀b", 3, "a"}, // the emoji is four
		{"a😀b", 5, "a😀"},
		{"😀", 0, ""},
		{"\xff\xfeabc", 1, "\xff"}, // invalid input is cut in bytes, as before
	} {
		if got := clip(tc.in, tc.n); got != tc.want {
			t.Errorf("clip(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
	long := strings.Repeat("😀", 30)
	for n := range len(long) {
		if got := clip(long, n); !utf8.ValidString(got) || len(got) > n {
			t.Fatalf("clip to %d bytes: %q", n, got)
		}
	}
}
