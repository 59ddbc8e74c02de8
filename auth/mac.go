package auth

import (
	"crypto/hmac"
	"net/url"
)

func equalMAC(a, b []byte) bool { return hmac.Equal(a, b) }

// totpURI rebuilds the otpauth URI of a stored secret the way NewTOTPKey
// made it, so that a reload shows the same QR code.
func totpURI(issuer, account, secret string) string {
	v := url.Values{}
	v.Set("secret", secret)
	v.Set("issuer", issuer)
	v.Set("period", "30")
	v.Set("algorithm", "SHA1")
	v.Set("digits", "6")
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + account, RawQuery: v.Encode()}
	return u.String()
}
