package auth

import (
	"strings"

	"github.com/nyaruka/phonenumbers"

	"dialoog/apperr"
)

// NormalizeMobile parses a mobile number, Dutch by default ("06 12345678"),
// and returns it in E.164 ("+31612345678"). Landlines are refused: the
// number is only for SMS codes.
func NormalizeMobile(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", apperr.Field("phone", "phone.required")
	}
	if len(s) > 32 {
		return "", apperr.Field("phone", "phone.invalid")
	}
	n, err := phonenumbers.Parse(s, "NL")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", apperr.Field("phone", "phone.invalid")
	}
	if n.GetExtension() != "" {
		// "06 12345678 x12": a text cannot go to an extension, and
		// dropping it would text a number the person did not type.
		return "", apperr.Field("phone", "phone.extension")
	}
	switch phonenumbers.GetNumberType(n) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
	default:
		return "", apperr.Field("phone", "phone.not_mobile")
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// MaskPhone shows only the last digits of a number, for screens and logs.
func MaskPhone(e164 string) string {
	if len(e164) <= 4 {
		return e164
	}
	return strings.Repeat("•", len(e164)-4) + e164[len(e164)-4:]
}

// FormatPhone shows a stored number (E.164) the way a person reads it back
// to check it: a Dutch number in the national form, a mobile one with its
// digits in pairs ("06 12 34 56 78"), any other internationally
// ("+32 470 12 34 56"). Input that is not a number comes back unchanged.
func FormatPhone(e164 string) string {
	n, err := phonenumbers.Parse(e164, "NL")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return e164
	}
	if phonenumbers.GetRegionCodeForNumber(n) != "NL" {
		return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
	}
	nsn := phonenumbers.GetNationalSignificantNumber(n)
	if phonenumbers.GetNumberType(n) != phonenumbers.MOBILE || len(nsn) != 9 {
		return phonenumbers.Format(n, phonenumbers.NATIONAL)
	}
	// 6 12345678: the library writes "06 12345678"; pairs are how Dutch
	// mobile numbers are read aloud and compared.
	var b strings.Builder
	b.WriteString("0" + nsn[:1])
	for i := 1; i < len(nsn); i += 2 {
		b.WriteString(" " + nsn[i:i+2])
	}
	return b.String()
}
