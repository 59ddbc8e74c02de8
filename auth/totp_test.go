package auth

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// hotp computes RFC 4226 codes independently of the code under test.
func hotp(key []byte, counter int64, digits int) string {
	msg := make([]byte, 8)
	binary.BigEndian.PutUint64(msg, uint64(counter))
	m := hmac.New(sha1.New, key)
	m.Write(msg)
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, v%mod)
}

func TestRFC6238Vectors(t *testing.T) {
	key := []byte("12345678901234567890")
	// RFC 6238 appendix B, SHA1, 8 digits.
	for _, v := range []struct {
		t    int64
		want string
	}{{59, "94287082"}, {1111111109, "07081804"}, {1111111111, "14050471"}, {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"}} {
		if got := hotp(key, v.t/30, 8); got != v.want {
			t.Fatalf("reference implementation wrong at %d: %s", v.t, got)
		}
		secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(key)
		// The product uses 6 digits: the last six of the 8-digit vector.
		if _, ok := VerifyTOTP(secret, v.want[2:], time.Unix(v.t, 0), 0); !ok {
			t.Fatalf("vector at %d refused", v.t)
		}
	}
}

func TestVerifyTOTP(t *testing.T) {
	k, err := NewTOTPKey("OSAW", "jan@example.nl")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(k.Secret)
	if err != nil || len(raw) != 20 || strings.Contains(k.Secret, "=") {
		t.Fatalf("secret must be 160 bits, unpadded: %q %v", k.Secret, err)
	}
	u, _ := url.Parse(k.URI)
	q := u.Query()
	if u.Scheme != "otpauth" || u.Host != "totp" || q.Get("issuer") != "OSAW" || !strings.Contains(u.Path, "jan@example.nl") || q.Get("digits") != "6" || q.Get("period") != "30" || q.Get("algorithm") != "SHA1" {
		t.Fatalf("uri: %s", k.URI)
	}
	now := time.Date(2026, 2, 23, 10, 0, 15, 0, time.UTC)
	step := now.Unix() / 30
	code := func(s int64) string { return hotp(raw, s, 6) }

	got, ok := VerifyTOTP(k.Secret, code(step), now, 0)
	if !ok || got != step {
		t.Fatal("current code refused")
	}
	if _, ok := VerifyTOTP(k.Secret, code(step), now, step); ok {
		t.Fatal("replay accepted")
	}
	if _, ok := VerifyTOTP(k.Secret, code(step-1), now, 0); !ok {
		t.Fatal("one step behind refused")
	}
	if _, ok := VerifyTOTP(k.Secret, code(step+1), now, 0); !ok {
		t.Fatal("one step ahead refused")
	}
	if _, ok := VerifyTOTP(k.Secret, code(step-2), now, 0); ok {
		t.Fatal("two steps behind accepted")
	}
	if _, ok := VerifyTOTP(k.Secret, code(step+2), now, 0); ok {
		t.Fatal("two steps ahead accepted")
	}
	if _, ok := VerifyTOTP(k.Secret, "12345", now, 0); ok {
		t.Fatal("short code accepted")
	}
	if got := FormatSecret("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"); got != "ABCD EFGH IJKL MNOP QRST UVWX YZ23 4567" {
		t.Fatalf("format: %q", got)
	}
	png, err := QRCodePNG(k.URI)
	if err != nil || len(png) < 100 || string(png[1:4]) != "PNG" {
		t.Fatalf("qr: %v", err)
	}
}
