package auth

import (
	"context"
	"strings"
	"testing"

	"dialoog/apperr"
)

func TestPasswordPolicy(t *testing.T) {
	cases := []struct {
		name, pw, key string
	}{
		{"TooShort", "Kort1!", "password.too_short"},
		{"ElevenRunes", "ëëëëëëëëëëë", "password.too_short"},
		{"TooLong", strings.Repeat("lang wachtwoord ", 20), "password.too_long"},
		{"Common", "wachtwoord123", "password.weak"},
		{"Repeated", "aaaaaaaaaaaaaaaa", "password.weak"},
		{"Keyboard", "qwertyuiopasdf", "password.weak"},
		{"ContainsEmail", "jan.jansen@example.nl!", "password.contains_email"},
		{"ContainsLocalPart", "ikbenjan.jansenechtwaar", "password.contains_email"},
		{"ContainsName", "Pietersen-hond-fiets", "password.contains_name"},
		{"OK", "paard batterij nietje correct", ""},
		{"OKNoCompositionRules", "zonnebloemvelden aan de maas", ""},
		{"OKLong128", "op een dinsdagmiddag fietste de oude molenaar met zeven geiten langs de rivier naar het dorp waar niemand hem ooit verwachtte, toen", ""},
		{"RepeatedLong", strings.Repeat("x9#", 42), "password.weak"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckPasswordPolicy(c.pw, "jan.jansen@example.nl", "Pietersen")
			if c.key == "" {
				if err != nil {
					t.Fatalf("want accepted, got %v", err)
				}
				return
			}
			e, ok := apperr.As(err)
			if !ok || e.Key != c.key || e.Field != "password" {
				t.Fatalf("want %s, got %v", c.key, err)
			}
		})
	}
}

func TestHashAndVerify(t *testing.T) {
	ctx := context.Background()
	h, err := HashPassword(ctx, "paard batterij nietje correct")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("parameters: %s", h)
	}
	h2, _ := HashPassword(ctx, "paard batterij nietje correct")
	if h == h2 {
		t.Fatal("salt not random")
	}
	if ok, err := VerifyPassword(ctx, h, "paard batterij nietje correct"); !ok || err != nil {
		t.Fatalf("right password refused: %v", err)
	}
	if ok, _ := VerifyPassword(ctx, h, "paard batterij nietje correcT"); ok {
		t.Fatal("wrong password accepted")
	}
	if ok, err := VerifyPassword(ctx, "", "anything"); ok || err != nil {
		t.Fatalf("empty hash: %v %v", ok, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	for range cap(hashSlots) {
		hashSlots <- struct{}{}
	}
	_, err = HashPassword(cctx, "x")
	for range cap(hashSlots) {
		<-hashSlots
	}
	if err == nil {
		t.Fatal("hash should wait for a slot and give up with the context")
	}
}

func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		if _, err := HashPassword(context.Background(), "paard batterij nietje correct"); err != nil {
			b.Fatal(err)
		}
	}
}
