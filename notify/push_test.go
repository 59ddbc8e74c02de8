package notify

import (
	"context"
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
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// pushService is a stand-in for a browser vendor's push service: a real
// HTTP server that checks the VAPID authorization (RFC 8292) against the
// server's public key and decrypts each notification (RFC 8291) with the
// browser's private key, independently of the library under test.
type pushService struct {
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

func startPushService(t *testing.T, vapidPublic, subject string) *pushService {
	raw, err := base64.RawURLEncoding.DecodeString(vapidPublic)
	if err != nil {
		t.Fatal(err)
	}
	x, y := elliptic.Unmarshal(elliptic.P256(), raw) //nolint:staticcheck // parsing an uncompressed point for ecdsa
	if x == nil {
		t.Fatal("bad VAPID public key")
	}
	ps := &pushService{t: t, vapid: &ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: y}, vapidB: vapidPublic, sub: subject,
		browsers: map[string]*browserKeys{}, gone: map[string]bool{}}
	ps.srv = httptest.NewServer(http.HandlerFunc(ps.handle))
	t.Cleanup(ps.srv.Close)
	return ps
}

// newBrowser makes a subscription: an endpoint and its keys.
func (ps *pushService) newBrowser(name string) (string, PushKeys) {
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		ps.t.Fatal(err)
	}
	auth := make([]byte, 16)
	_, _ = rand.Read(auth)
	ps.mu.Lock()
	ps.browsers["/push/"+name] = &browserKeys{priv: priv, auth: auth}
	ps.mu.Unlock()
	return ps.srv.URL + "/push/" + name, PushKeys{
		P256dh: base64.RawURLEncoding.EncodeToString(priv.PublicKey().Bytes()),
		Auth:   base64.RawURLEncoding.EncodeToString(auth),
	}
}

func (ps *pushService) fail(format string, args ...any) {
	ps.mu.Lock()
	ps.errs = append(ps.errs, fmt.Sprintf(format, args...))
	ps.mu.Unlock()
}

func (ps *pushService) handle(w http.ResponseWriter, r *http.Request) {
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
func (ps *pushService) checkVAPID(r *http.Request) error {
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

func insertUser(t *testing.T, d *db.DB, email string) int64 {
	t.Helper()
	var id int64
	err := d.NewRaw("INSERT INTO users (email, kind, status, created_at, updated_at) VALUES (?, 'external', 'active', ?, ?) RETURNING id", email, time.Now(), time.Now()).Scan(context.Background(), &id)
	if err != nil {
		t.Fatalf("insert user: %v", err)
	}
	return id
}

// TestWebPushLane: a notification queued for a person goes out on the push
// lane to each of their own subscriptions (not another person's), signed
// with the VAPID key and encrypted so that only the browser reads it, and
// holds nothing but the fixed title and the inbox URL; a 410 of the push
// service removes the subscription and fails the row.
func TestWebPushLane(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		v := testVault(t, 7)
		priv, pub, err := GenerateVAPID()
		if err != nil {
			t.Fatal(err)
		}
		const subject = "mailto:beheer@dialoog.test"
		ps := startPushService(t, pub, subject)
		jan := insertUser(t, d, "jan@example.test")
		piet := insertUser(t, d, "piet@example.test")
		phone, phoneKeys := ps.newBrowser("jan-phone")
		laptop, laptopKeys := ps.newBrowser("jan-laptop")
		other, otherKeys := ps.newBrowser("piet")
		if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if err := Subscribe(ctx, tx, v, jan, phone, phoneKeys, "Phone"); err != nil {
				return err
			}
			if err := Subscribe(ctx, tx, v, jan, laptop, laptopKeys, "Laptop"); err != nil {
				return err
			}
			return Subscribe(ctx, tx, v, piet, other, otherKeys, "Other")
		}); err != nil {
			t.Fatal(err)
		}

		w := NewWorker(d, v, nil, nil, testLogger(t), WorkerOptions{
			Push: &WebPush{DB: d, Vault: v, Keys: VAPID{Public: pub, Private: priv, Subject: subject}},
		})
		ob := NewOutbox(v)
		var n int
		if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			n, err = ob.QueuePush(ctx, tx, jan, "Nieuw bericht in Dialoog", "/berichten")
			return err
		}); err != nil || n != 2 {
			t.Fatalf("queue push: %d rows, %v", n, err)
		}
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		ps.mu.Lock()
		got, errs := append([]string(nil), ps.got...), ps.errs
		ps.mu.Unlock()
		if len(errs) > 0 {
			t.Fatalf("push service: %v", errs)
		}
		if len(got) != 2 {
			t.Fatalf("push service got %d notifications, want 2 (Jan's two browsers): %q", len(got), got)
		}
		for _, g := range got {
			var p map[string]any
			if err := json.Unmarshal([]byte(g), &p); err != nil {
				t.Fatalf("payload %q: %v", g, err)
			}
			if len(p) != 2 || p["title"] != "Nieuw bericht in Dialoog" || p["url"] != "/berichten" {
				t.Fatalf("payload %q holds more than the fixed title and URL", g)
			}
		}

		// The laptop's browser dropped the subscription.
		ps.mu.Lock()
		ps.gone["/push/jan-laptop"] = true
		ps.mu.Unlock()
		if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			_, err := ob.QueuePush(ctx, tx, jan, "Nieuw bericht in Dialoog", "/berichten")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := PushDevices(ctx, d, jan); err != nil || n != 1 {
			t.Fatalf("after a 410 Jan has %d subscriptions (%v), want 1", n, err)
		}
		var failed int
		if err := d.NewRaw("SELECT count(*) FROM outbox WHERE channel = 'push' AND status = 'failed'").Scan(ctx, &failed); err != nil || failed != 1 {
			t.Fatalf("failed push rows: %d %v", failed, err)
		}
		ps.mu.Lock()
		total := len(ps.got)
		ps.mu.Unlock()
		if total != 3 {
			t.Fatalf("push service got %d notifications in all, want 3", total)
		}

		// Switching off removes the subscription; a later push queues nothing.
		if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error { return Unsubscribe(ctx, tx, jan, phone) }); err != nil {
			t.Fatal(err)
		}
		if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			n, err = ob.QueuePush(ctx, tx, jan, "Nieuw bericht in Dialoog", "/berichten")
			return err
		}); err != nil || n != 0 {
			t.Fatalf("after switching off: %d rows, %v", n, err)
		}
	})
}
