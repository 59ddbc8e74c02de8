package notifytest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// PushService is a stand-in for a browser vendor's push service: a real
// HTTP server that checks the VAPID authorization (RFC 8292) against the
// server's public key and decrypts each notification (RFC 8291) with the
// browser's private key, independently of the library under test.
type PushService struct {
	t      *testing.T
	srv    *httptest.Server
	vapid  *ecdsa.PublicKey
	vapidB string
	sub    string // expected JWT sub

	mu       sync.Mutex
	browsers map[string]*browserKeys // path -> keys
	gone     map[string]bool
	got      []string // decrypted payloads
	errs     []string
}

type browserKeys struct {
	priv *ecdh.PrivateKey
	auth []byte
}

// StartPushService starts the stand-in, over plain HTTP, for the server's
// VAPID public key (base64url) and the JWT subject it must carry.
func StartPushService(t *testing.T, vapidPublic, subject string) *PushService {
	return startPushService(t, vapidPublic, subject, false)
}

// StartTLSPushService is StartPushService over HTTPS, as a real push
// service is (browsers' endpoints, and so the subscriptions a server
// accepts, are https URLs). CertPEM is the certificate a client must trust.
func StartTLSPushService(t *testing.T, vapidPublic, subject string) *PushService {
	return startPushService(t, vapidPublic, subject, true)
}

func startPushService(t *testing.T, vapidPublic, subject string, tls bool) *PushService {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(vapidPublic)
	if err != nil {
		t.Fatal(err)
	}
	x, y := elliptic.Unmarshal(elliptic.P256(), raw) //nolint:staticcheck // parsing an uncompressed point for ecdsa
	if x == nil {
		t.Fatal("bad VAPID public key")
	}
	ps := &PushService{t: t, vapid: &ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: y}, vapidB: vapidPublic, sub: subject,
		browsers: map[string]*browserKeys{}, gone: map[string]bool{}}
	if tls {
		ps.srv = httptest.NewTLSServer(http.HandlerFunc(ps.handle))
	} else {
		ps.srv = httptest.NewServer(http.HandlerFunc(ps.handle))
	}
	t.Cleanup(ps.srv.Close)
	return ps
}

// CertPEM is the stand-in's TLS certificate in PEM (for 127.0.0.1), empty
// over plain HTTP.
func (ps *PushService) CertPEM() []byte {
	if ps.srv.Certificate() == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ps.srv.Certificate().Raw})
}

// Client is the client a test's notify.WebPush sends with to reach the
// stand-in on 127.0.0.1 (trusting its certificate over HTTPS): the
// production client connects to public addresses only.
func (ps *PushService) Client() *http.Client { return ps.srv.Client() }

// NewBrowser makes a subscription: an endpoint and its keys (base64url),
// as a browser's PushSubscription gives them.
func (ps *PushService) NewBrowser(name string) (endpoint, p256dh, auth string) {
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		ps.t.Fatal(err)
	}
	authSecret := make([]byte, 16)
	_, _ = rand.Read(authSecret)
	ps.mu.Lock()
	ps.browsers["/push/"+name] = &browserKeys{priv: priv, auth: authSecret}
	ps.mu.Unlock()
	return ps.srv.URL + "/push/" + name, base64.RawURLEncoding.EncodeToString(priv.PublicKey().Bytes()),
		base64.RawURLEncoding.EncodeToString(authSecret)
}

// Gone makes the push service answer 410 for the browser name: it dropped
// the subscription.
func (ps *PushService) Gone(name string) {
	ps.mu.Lock()
	ps.gone["/push/"+name] = true
	ps.mu.Unlock()
}

// Received returns the decrypted payloads so far and the errors the
// stand-in found (a bad signature, headers or encryption).
func (ps *PushService) Received() (payloads, errs []string) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return append([]string(nil), ps.got...), append([]string(nil), ps.errs...)
}

// WaitReceived waits until the stand-in has accepted n notifications and
// returns their decrypted payloads; it fails the test at once on a
// notification the stand-in refused (signature, headers, encryption).
func (ps *PushService) WaitReceived(t *testing.T, n int, within time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got, errs := ps.Received()
		if len(errs) > 0 {
			t.Fatalf("the push service refused a notification: %v", errs)
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("the push service got %d notifications within %s, want %d", len(got), within, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (ps *PushService) fail(format string, args ...any) {
	ps.mu.Lock()
	ps.errs = append(ps.errs, fmt.Sprintf(format, args...))
	ps.mu.Unlock()
}

func (ps *PushService) handle(w http.ResponseWriter, r *http.Request) {
	ps.mu.Lock()
	b, gone := ps.browsers[r.URL.Path], ps.gone[r.URL.Path]
	ps.mu.Unlock()
	if b == nil {
		http.NotFound(w, r)
		return
	}
	if gone {
		w.WriteHeader(http.StatusGone)
		return
	}
	if err := ps.checkVAPID(r); err != nil {
		ps.fail("vapid: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.Header.Get("Content-Encoding") != "aes128gcm" || r.Header.Get("TTL") == "" {
		ps.fail("headers: encoding %q ttl %q", r.Header.Get("Content-Encoding"), r.Header.Get("TTL"))
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	body, _ := io.ReadAll(r.Body)
	plain, err := decryptAES128GCM(b, body)
	if err != nil {
		ps.fail("decrypt: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	ps.mu.Lock()
	ps.got = append(ps.got, string(plain))
	ps.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
}

// checkVAPID verifies "vapid t=JWT, k=KEY": the key is the server's, the
// JWT is ES256-signed by it, aud is the push service's origin, exp is in
// the future and at most 24 h away, sub is the configured contact.
func (ps *PushService) checkVAPID(r *http.Request) error {
	h := r.Header.Get("Authorization")
	if !strings.HasPrefix(h, "vapid ") {
		return fmt.Errorf("authorization %q", h)
	}
	var tok, key string
	for _, part := range strings.Split(strings.TrimPrefix(h, "vapid "), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			tok = v
		case "k":
			key = v
		}
	}
	if key != ps.vapidB {
		return fmt.Errorf("k is not the server's public key")
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return fmt.Errorf("jwt has %d parts", len(parts))
	}
	var head struct{ Alg, Typ string }
	if err := decodeJSONPart(parts[0], &head); err != nil || head.Alg != "ES256" {
		return fmt.Errorf("jwt header %+v %v", head, err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return fmt.Errorf("jwt signature: %d bytes %v", len(sig), err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(ps.vapid, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return fmt.Errorf("jwt signature does not verify with the VAPID public key")
	}
	var claims struct {
		Aud string `json:"aud"`
		Exp int64  `json:"exp"`
		Sub string `json:"sub"`
	}
	if err := decodeJSONPart(parts[1], &claims); err != nil {
		return err
	}
	if claims.Aud != ps.srv.URL {
		return fmt.Errorf("aud %q, want %q", claims.Aud, ps.srv.URL)
	}
	exp := time.Unix(claims.Exp, 0)
	if now := time.Now(); !exp.After(now) || exp.After(now.Add(24*time.Hour+time.Minute)) {
		return fmt.Errorf("exp %v", exp)
	}
	if claims.Sub != ps.sub {
		return fmt.Errorf("sub %q, want %q", claims.Sub, ps.sub)
	}
	return nil
}

func decodeJSONPart(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("jwt part: %w", err)
	}
	return json.Unmarshal(b, v)
}

func hmacSHA256(key []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// decryptAES128GCM decrypts a Web Push message (RFC 8291 over RFC 8188,
// one record) for the browser b.
func decryptAES128GCM(b *browserKeys, body []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, fmt.Errorf("body too short")
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if idlen != 65 || len(body) < 21+idlen {
		return nil, fmt.Errorf("keyid length %d", idlen)
	}
	asPublic := body[21 : 21+idlen]
	ct := body[21+idlen:]
	if uint32(len(ct)) > rs {
		return nil, fmt.Errorf("more than one record")
	}
	asKey, err := ecdh.P256().NewPublicKey(asPublic)
	if err != nil {
		return nil, fmt.Errorf("application server key: %w", err)
	}
	secret, err := b.priv.ECDH(asKey)
	if err != nil {
		return nil, err
	}
	uaPublic := b.priv.PublicKey().Bytes()
	prkKey := hmacSHA256(b.auth, secret)
	ikm := hmacSHA256(prkKey, []byte("WebPush: info\x00"), uaPublic, asPublic, []byte{1})
	prk := hmacSHA256(salt, ikm)
	cek := hmacSHA256(prk, []byte("Content-Encoding: aes128gcm\x00"), []byte{1})[:16]
	nonce := hmacSHA256(prk, []byte("Content-Encoding: nonce\x00"), []byte{1})[:12]
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, ct, nil)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	// Strip the padding: zeros after the last record's delimiter 0x02.
	i := len(plain) - 1
	for i >= 0 && plain[i] == 0 {
		i--
	}
	if i < 0 || plain[i] != 2 {
		return nil, fmt.Errorf("no last-record delimiter")
	}
	return plain[:i], nil
}
