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
