package auth

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestCleanUserAgent: a stored User-Agent is one clean line of at most
// maxUserAgent bytes, cut between characters.
func TestCleanUserAgent(t *testing.T) {
	for in, want := range map[string]string{
		"Mozilla/5.0 (X11)":              "Mozilla/5.0 (X11)",
		"Mozilla\x00/5.0\xff":            "Mozilla/5.0",
		"Mozilla\u202e0.5/ \x1b[31m ok ": "Mozilla0.5/ [31m ok",
	} {
		if got := cleanUserAgent(in); got != want {
			t.Errorf("cleanUserAgent(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("a", maxUserAgent-1) + "éé"
	got := cleanUserAgent(long)
	if len(got) > maxUserAgent || !utf8.ValidString(got) || got != strings.Repeat("a", maxUserAgent-1) {
		t.Errorf("long User-Agent cut to %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
}
