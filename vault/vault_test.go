package vault

import (
	"bytes"
	"testing"
)

func TestSealOpenRotate(t *testing.T) {
	old := bytes.Repeat([]byte{1}, 32)
	cur := bytes.Repeat([]byte{2}, 32)
	v1, err := New(old)
	if err != nil {
		t.Fatal(err)
	}
	sealedOld := v1.Seal([]byte("geheim"), []byte("row1"))
	if bytes.Contains(sealedOld, []byte("geheim")) {
		t.Fatal("plaintext visible")
	}
	v2, err := New(cur, old)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := v2.Open(sealedOld, []byte("row1")); err != nil || string(got) != "geheim" {
		t.Fatalf("open with rotated vault: %q %v", got, err)
	}
	if _, err := v2.Open(sealedOld, []byte("row2")); err == nil {
		t.Fatal("value moved to another row opened")
	}
	s := v2.Seal([]byte("nieuw"), nil)
	if _, err := v1.Open(s, nil); err == nil {
		t.Fatal("old vault opened data of an unknown key")
	}
	s[len(s)-1] ^= 1
	if _, err := v2.Open(s, nil); err == nil {
		t.Fatal("tampered value opened")
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadOrCreateKey(dir)
	if err != nil || len(k1) != 32 {
		t.Fatal(k1, err)
	}
	k2, err := LoadOrCreateKey(dir)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatal("key not stable across loads", err)
	}
}
