package auth

import (
	"crypto/subtle"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	qrcode "github.com/skip2/go-qrcode"

	"dialoog/apperr"
)

// TOTP parameters (DESIGN): SHA1, 6 digits, 30 s, 160-bit secret; one step
// of clock drift either way.
const (
	totpPeriod     = 30
	totpSecretSize = 20
	totpSkew       = 1
)

// TOTPKey is a new authenticator-app secret and its otpauth URI.
type TOTPKey struct {
	Secret string // base32 without padding
	URI    string
}

// NewTOTPKey generates a secret for account (the mail address) issued by
// issuer (the organisation).
func NewTOTPKey(issuer, account string) (TOTPKey, error) {
	k, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, Period: totpPeriod,
		SecretSize: totpSecretSize, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return TOTPKey{}, fmt.Errorf("generate totp key: %w", err)
	}
	return TOTPKey{Secret: k.Secret(), URI: k.URL()}, nil
}

// FormatSecret writes a secret in groups of four for typing it over.
func FormatSecret(secret string) string {
	secret = strings.TrimRight(secret, "=")
	var b strings.Builder
	for i, r := range secret {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// QRCodePNG renders an otpauth URI as a PNG QR code.
func QRCodePNG(uri string) ([]byte, error) {
	png, err := qrcode.Encode(uri, qrcode.Medium, 256)
	if err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	return png, nil
}

// normalizeCode is a typed six-digit code (SMS or app) as compared: the
// spaces people type between groups of three taken out.
func normalizeCode(code string) string {
	// Without bytes that are no UTF-8 (see normalizeRecovery).
	return strings.ReplaceAll(strings.TrimSpace(strings.ToValidUTF8(code, "")), " ", "")
}

// requireCode refuses an empty code before anything counts it: a button
// pressed before the text arrived is no wrong guess, and must not use up
// the code's tries or slow the account down.
func requireCode(code string) error {
	if normalizeCode(code) == "" {
		return apperr.Field("code", "code.required")
	}
	return nil
}

// VerifyTOTP checks code against secret at now, allowing one step of drift
// either way, and refuses any step at or before lastStep so that a code
// works once. It returns the step that matched.
func VerifyTOTP(secret, code string, now time.Time, lastStep int64) (int64, bool) {
	code = normalizeCode(code)
	if len(code) != 6 {
		return 0, false
	}
	step := now.Unix() / totpPeriod
	for s := step - totpSkew; s <= step+totpSkew; s++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*totpPeriod, 0), totp.ValidateOpts{
			Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			if s <= lastStep {
				return s, false
			}
			return s, true
		}
	}
	return 0, false
}
