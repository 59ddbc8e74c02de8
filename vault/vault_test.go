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

func TestDeriveKey(t *testing.T) {
	old := bytes.Repeat([]byte{1}, 32)
	cur := bytes.Repeat([]byte{2}, 32)
	v, err := New(cur, old)
	if err != nil {
		t.Fatal(err)
	}
	vOld, _ := New(old)
	k1, err := v.DeriveKey(v.KeyID(), "attachment", []byte("abc"))
	if err != nil || len(k1) != 32 {
		t.Fatalf("derive: %x %v", k1, err)
	}
	if k2, _ := v.DeriveKey(v.KeyID(), "attachment", []byte("abc")); !bytes.Equal(k1, k2) {
		t.Error("the same inputs gave different keys")
	}
	for name, other := range map[string][]byte{
		"info":    must(v.DeriveKey(v.KeyID(), "attachment", []byte("abd"))),
		"purpose": must(v.DeriveKey(v.KeyID(), "other", []byte("abc"))),
		"key":     must(v.DeriveKey(vOld.KeyID(), "attachment", []byte("abc"))),
	} {
		if bytes.Equal(k1, other) {
			t.Errorf("another %s gave the same key", name)
		}
		if bytes.Equal(other, cur) || bytes.Equal(other, old) {
			t.Errorf("derived key equals a vault key (%s)", name)
		}
	}
	// An older key still derives after a rotation, as the data it sealed.
	if a, b := must(v.DeriveKey(vOld.KeyID(), "attachment", []byte("x"))), must(vOld.DeriveKey(vOld.KeyID(), "attachment", []byte("x"))); !bytes.Equal(a, b) {
		t.Error("the older key derives differently after a rotation")
	}
	if _, err := v.DeriveKey("unknown", "attachment", nil); err == nil {
		t.Error("an unknown key id derived a key")
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
