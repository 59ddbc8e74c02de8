// Package auth owns who a person is: invitations, sessions, onboarding
// stages, throttling, and (later) passwords and second factors. It stores
// only hashes of the secrets it hands out and never logs them.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"dialoog/apperr"
)

// NewToken returns a 256-bit random token, URL-safe, and its hash.
func NewToken() (token string, hash []byte) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("auth: random: " + err.Error())
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken hashes a high-entropy token; a fast hash suffices because the
// token cannot be guessed.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// ValidToken reports whether s looks like a token made by NewToken, so that
// junk never reaches the database.
func ValidToken(s string) bool {
	if len(s) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// NormalizeEmail trims and lower-cases a mail address and checks that it is
// a single bare address.
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", apperr.Field("email", "email.required")
	}
	if HiddenInEmail(s) {
		return "", apperr.Field("email", emailHidden)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || len(s) > 254 || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") && !strings.HasSuffix(s, "@localhost") {
		return "", apperr.Field("email", "email.invalid")
	}
	return s, nil
}

// emailHidden is NormalizeEmail's message for an address that holds a
// hidden character (HiddenInEmail).
const emailHidden = "email.hidden_chars"

// HiddenEmail reports whether err is NormalizeEmail's refusal of an
// address that holds a hidden character, which a caller may name in a
// message of its own.
func HiddenEmail(err error) bool {
	e, ok := apperr.As(err)
	return ok && e.Key == emailHidden
}

// HiddenInEmail reports whether a typed address holds, inside it, a
// character nobody sees or that is no part of an address: a control or
// format character (a zero-width space pasted along, a soft hyphen, a
// direction override that shows "\u202ekees@example.nl" reversed) or a
// space other than the plain one (which is no part of an address either,
// but is seen). Such an address reaches nobody and looks like another one, so
// NormalizeEmail refuses it with a message that says why.
func HiddenInEmail(s string) bool {
	for _, r := range strings.TrimSpace(s) {
		if unicode.In(r, unicode.Cc, unicode.Cf) || r != ' ' && unicode.IsSpace(r) || r == utf8.RuneError {
			return true
		}
	}
	return false
}
