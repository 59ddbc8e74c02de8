package usertext

import "testing"

// TestHidden: what a one-line field refuses when typed, and what it lets
// through, letters of every script among them.
func TestHidden(t *testing.T) {
	for s, want := range map[string]bool{
		"Jan van der Berg":     false,
		"Zoë Çelik-Ağaoğlu":    false,
		"محمد العربي":          false,
		"Jan\u202eSnesnaj":     true, // RLO
		"\u2066Jan\u2069":      true, // LRI … PDI
		"Jan\u200f":            true, // RLM
		"Jan\tBerg":            true,
		"Jan\x1b[2J":           true,
		"Jan\u0085":            true, // NEL, a C1 control
		"caf\xc3":              true, // invalid UTF-8
		"Jan \u200d zwj emoji": false,
	} {
		if got := Hidden(s); got != want {
			t.Errorf("Hidden(%q) = %v, want %v", s, got, want)
		}
	}
}
