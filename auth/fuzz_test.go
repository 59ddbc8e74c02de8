package auth

import (
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pquerna/otp"

	"dialoog/apperr"
)

// Fuzz targets for the parsers of outside input in auth. Each checks an
// invariant beyond "no panic": normalised output normalises to itself.

func FuzzNormalizeMobile(f *testing.F) {
	for _, s := range []string{"06 12345678", "+31612345678", "0031 6 1234 5678", "020 1234567", "+1 415 555 2671", "", "06-1234-567a", "+"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := NormalizeMobile(s)
		if err != nil {
			return
		}
		if !strings.HasPrefix(n, "+") || strings.ContainsAny(n, " -()") {
			t.Fatalf("%q: not E.164: %q", s, n)
		}
		again, err := NormalizeMobile(n)
		if err != nil || again != n {
			t.Fatalf("%q -> %q -> %q, %v: not idempotent", s, n, again, err)
		}
	})
}

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"Jan@Example.nl", " a@b.nl ", "Jan <jan@example.nl>", "a@localhost", "\"a b\"@c.nl", "a@b", "@", "a@b.nl\x00", "kees\u200b@example.nl", "\u202ekees@example.nl", "jösé@bücher.example"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := NormalizeEmail(s)
		if err != nil {
			return
		}
		if n != strings.ToLower(n) || strings.TrimSpace(n) != n || len(n) > 254 || !strings.Contains(n, "@") || !utf8.ValidString(n) || HiddenInEmail(n) {
			t.Fatalf("%q -> %q", s, n)
		}
		again, err := NormalizeEmail(n)
		if err != nil || again != n {
			t.Fatalf("%q -> %q -> %q, %v: not idempotent", s, n, again, err)
		}
	})
}

// TestNormalizeEmailRefusesInvisible: an address with a zero-width
// space, a soft hyphen, a direction override or a control character in
// it is refused with its own message; one with letters beyond ASCII is
// an address.
func TestNormalizeEmailRefusesInvisible(t *testing.T) {
	for _, s := range []string{"kees\u200b@example.nl", "kees@example.nl\u200b", "\u202ekees@example.nl", "kees@exam\u200dple.nl",
		"kees\u00ad@example.nl", "kees\ufeff@example.nl", "kees\x1b@example.nl", "kees\u00a0a@example.nl"} {
		if _, err := NormalizeEmail(s); errKey(err) != "email.hidden_chars" {
			t.Errorf("NormalizeEmail(%q): %v, want email.hidden_chars", s, err)
		}
	}
	for _, s := range []string{" Kees@Example.nl\u00a0", "jösé@bücher.example"} {
		if _, err := NormalizeEmail(s); err != nil {
			t.Errorf("NormalizeEmail(%q): %v", s, err)
		}
	}
}

func errKey(err error) string {
	if e, ok := apperr.As(err); ok {
		return e.Key
	}
	return ""
}

func FuzzTokensAndCodes(f *testing.F) {
	for _, s := range []string{"abcde-fghij", " ABCDE FGHIJ ", "123 456", "123456", "", "-", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "!!"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if r := normalizeRecovery(s); normalizeRecovery(r) != r || strings.ContainsAny(r, "- ") {
			t.Fatalf("recovery %q -> %q: not idempotent", s, r)
		}
		if c := normalizeCode(s); normalizeCode(c) != c || strings.Contains(c, " ") {
			t.Fatalf("code %q -> %q: not idempotent", s, c)
		}
		if ValidToken(s) && len(HashToken(s)) != 32 {
			t.Fatalf("token %q: hash of %d bytes", s, len(HashToken(s)))
		}
		if _, ok := VerifyTOTP("JBSWY3DPEHPK3PXP", s, time.Unix(1_700_000_000, 0), 0); ok && len(normalizeCode(s)) != 6 {
			t.Fatalf("code %q accepted", s)
		}
	})
}

func FuzzTOTPURI(f *testing.F) {
	f.Add("OSAW", "jan@example.nl", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
	f.Add("Arbo & Co: Noord", "a+b@example.nl", "ABCDEFGH")
	f.Add("", "", "")
	f.Fuzz(func(t *testing.T, issuer, account, secret string) {
		if !utf8.ValidString(issuer) || !utf8.ValidString(account) {
			return // names come from valid UTF-8 columns
		}
		uri := totpURI(issuer, account, secret)
		u, err := url.Parse(uri)
		if err != nil || u.Scheme != "otpauth" || u.Host != "totp" {
			t.Fatalf("%q: %v", uri, err)
		}
		k, err := otp.NewKeyFromURL(uri)
		if err != nil {
			t.Fatalf("%q: %v", uri, err)
		}
		if k.Secret() != secret || k.Issuer() != issuer || k.Period() != 30 || k.Digits() != otp.DigitsSix {
			t.Fatalf("%q: secret %q issuer %q period %d digits %v", uri, k.Secret(), k.Issuer(), k.Period(), k.Digits())
		}
	})
}
