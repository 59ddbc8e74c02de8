// Package vault encrypts data at rest with AES-256-GCM. Every sealed value
// starts with the id of the key that sealed it, so keys can be rotated: new
// data uses the current key, old data opens with the key it names.
package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeyFile is the name of the generated key file in the data dir.
const KeyFile = "encryption.key"

// Vault seals and opens byte strings.
type Vault struct {
	current string
	aeads   map[string]cipher.AEAD
	// roots holds, per key id, a key derived from that key for deriving
	// stream keys (DeriveKey), never the key itself.
	roots  map[string][]byte
	macKey []byte
}

// New returns a vault whose current key is key. Older keys may be added for
// reading data sealed before a rotation.
func New(key []byte, older ...[]byte) (*Vault, error) {
	v := &Vault{aeads: map[string]cipher.AEAD{}, roots: map[string][]byte{}}
	for i, k := range append([][]byte{key}, older...) {
		id, a, err := aead(k)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			v.current = id
			mk := sha256.Sum256(append([]byte("dialoog-mac:"), k...))
			v.macKey = mk[:]
		}
		v.aeads[id] = a
		root := sha256.Sum256(append([]byte("dialoog-derive:"), k...))
		v.roots[id] = root[:]
	}
	return v, nil
}

func aead(key []byte) (string, cipher.AEAD, error) {
	if len(key) != 32 {
		return "", nil, errors.New("vault: key must be 32 bytes")
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return "", nil, fmt.Errorf("vault: %w", err)
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		return "", nil, fmt.Errorf("vault: %w", err)
	}
	sum := sha256.Sum256(append([]byte("dialoog-key-id:"), key...))
	return base64.RawURLEncoding.EncodeToString(sum[:6]), a, nil
}

// KeyID returns the id of the current key.
func (v *Vault) KeyID() string { return v.current }

// Seal encrypts plain; ad binds the ciphertext to its context (a table and
// row), so a sealed value cannot be moved to another row unnoticed.
func (v *Vault) Seal(plain, ad []byte) []byte {
	a := v.aeads[v.current]
	nonce := make([]byte, a.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(fmt.Sprintf("vault: random: %v", err))
	}
	out := make([]byte, 0, len(v.current)+1+len(nonce)+len(plain)+a.Overhead())
	out = append(out, v.current...)
	out = append(out, '.')
	out = append(out, nonce...)
	return a.Seal(out, nonce, plain, ad)
}

// Open decrypts a value made by Seal with the same ad.
func (v *Vault) Open(sealed, ad []byte) ([]byte, error) {
	dot := strings.IndexByte(string(sealed[:min(len(sealed), 16)]), '.')
	if dot < 0 {
		return nil, errors.New("vault: malformed value")
	}
	a, ok := v.aeads[string(sealed[:dot])]
	if !ok {
		return nil, fmt.Errorf("vault: unknown key id %q", sealed[:dot])
	}
	rest := sealed[dot+1:]
	if len(rest) < a.NonceSize()+a.Overhead() {
		return nil, errors.New("vault: value too short")
	}
	plain, err := a.Open(nil, rest[:a.NonceSize()], rest[a.NonceSize():], ad)
	if err != nil {
		return nil, fmt.Errorf("vault: open: %w", err)
	}
	return plain, nil
}

// DeriveKey returns a 32-byte key derived with HKDF-SHA256 from the key
// named keyID, for purpose (a label such as "attachment") and info (what
// the key is bound to, e.g. a storage key). The same inputs always give the
// same key, so data encrypted under it opens after a restart or on another
// instance with the same key; data moved to another info does not open.
func (v *Vault) DeriveKey(keyID, purpose string, info []byte) ([]byte, error) {
	root, ok := v.roots[keyID]
	if !ok {
		return nil, fmt.Errorf("vault: unknown key id %q", keyID)
	}
	k, err := hkdf.Key(sha256.New, root, []byte("dialoog-"+purpose), string(info), 32)
	if err != nil {
		return nil, fmt.Errorf("vault: derive key: %w", err)
	}
	return k, nil
}

// LoadOrCreateKey returns the key stored in dir, generating it (mode 0600)
// on first use.
func LoadOrCreateKey(dir string) ([]byte, error) {
	k, err := LoadKey(dir)
	if errors.Is(err, os.ErrNotExist) {
		return CreateKey(dir)
	}
	return k, err
}

// LoadKey returns the key stored in dir; an error that matches
// os.ErrNotExist when there is none.
func LoadKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, KeyFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("vault: read key: %w", err)
	}
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) != 32 {
		return nil, fmt.Errorf("vault: %s is not a base64 32-byte key", path)
	}
	return k, nil
}

// CreateKey generates a key and stores it in dir (mode 0600); when
// another process created one first, it returns that one.
func CreateKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, KeyFile)
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("vault: random: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) { // another process won the race
			return LoadKey(dir)
		}
		return nil, fmt.Errorf("vault: create key: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("vault: write key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("vault: write key: %w", err)
	}
	return k, nil
}

// MAC returns an HMAC-SHA256 of data under a key derived from the current
// key: a keyed hash for short secrets (SMS codes) that a stolen database
// alone cannot brute-force.
func (v *Vault) MAC(data []byte) []byte {
	m := hmac.New(sha256.New, v.macKey)
	m.Write(data)
	return m.Sum(nil)
}

// KeyCheck returns a check value of the current key: an HMAC of a
// constant under a key derived from it. Stored beside the data, it tells
// whether a later start uses the same key without revealing the key.
func (v *Vault) KeyCheck() []byte {
	m := hmac.New(sha256.New, v.roots[v.current])
	m.Write([]byte("dialoog-key-check-v1"))
	return m.Sum(nil)
}
