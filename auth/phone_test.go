package auth

import (
	"testing"

	"dialoog/apperr"
)

func TestNormalizeMobile(t *testing.T) {
	for in, want := range map[string]string{
		"06 12345678":      "+31612345678",
		"0612345678":       "+31612345678",
		"06-123 456 78":    "+31612345678",
		"+31 6 12345678":   "+31612345678",
		"0031612345678":    "+31612345678",
		"+32 470 12 34 56": "+32470123456",
	} {
		got, err := NormalizeMobile(in)
		if err != nil || got != want {
			t.Errorf("%q: got %q %v, want %q", in, got, err, want)
		}
	}
	for in, key := range map[string]string{
		"":              "phone.required",
		"06":            "phone.invalid",
		"bel me":        "phone.invalid",
		"020 123 4567":  "phone.not_mobile",
		"0800 1234567":  "phone.not_mobile",
		"061234567890a": "phone.invalid",
		// An extension is no part of a number a text can go to, and was
		// dropped without a word.
		"06 12345678 ext. 12": "phone.extension",
		"0612345678 x12":      "phone.extension",
		"+31612345678;ext=5":  "phone.extension",
	} {
		_, err := NormalizeMobile(in)
		if e, ok := apperr.As(err); !ok || e.Key != key || e.Field != "phone" {
			t.Errorf("%q: want %s, got %v", in, key, err)
		}
	}
	if got := MaskPhone("+31612345678"); got != "••••••••5678" {
		t.Errorf("mask: %q", got)
	}
}

// FormatPhone shows a number as a person reads it back: Dutch numbers in
// the national form (mobile digits in pairs), others internationally.
func TestFormatPhone(t *testing.T) {
	for in, want := range map[string]string{
		"+31612345678":   "06 12 34 56 78",
		"+31201234567":   "020 123 4567",
		"+32470123456":   "+32 470 12 34 56",
		"+4915112345678": "+49 1511 2345678",
		"":               "",
		"geen nummer":    "geen nummer",
	} {
		if got := FormatPhone(in); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}
