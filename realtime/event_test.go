package realtime

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestEncodeEventSplitsLargeUserLists(t *testing.T) {
	ev := Event{Kind: KindMessage, ThreadID: 7, MessageID: 8, ActorID: 9}
	for i := range 3000 {
		ev.UserIDs = append(ev.UserIDs, 1_000_000_000_000+int64(i))
	}
	payloads, err := encodeEvent(ev, MaxPayload)
	if err != nil {
		t.Fatal(err)
	}
	if len(payloads) < 2 {
		t.Fatalf("%d payloads, want a split", len(payloads))
	}
	var users []int64
	for _, p := range payloads {
		if len(p) > MaxPayload {
			t.Fatalf("payload of %d bytes", len(p))
		}
		got, err := decodeEvent(p)
		if err != nil {
			t.Fatal(err)
		}
		if got.Kind != ev.Kind || got.ThreadID != 7 || got.MessageID != 8 || got.ActorID != 9 {
			t.Fatalf("decoded %+v", got)
		}
		users = append(users, got.UserIDs...)
	}
	if !slices.Equal(users, ev.UserIDs) {
		t.Fatal("user ids lost or duplicated in the split")
	}
}

func TestEncodeEventSmall(t *testing.T) {
	payloads, err := encodeEvent(Event{Kind: KindSessionEnded, SessionID: 42}, MaxPayload)
	if err != nil {
		t.Fatal(err)
	}
	if len(payloads) != 1 || string(payloads[0]) != `{"kind":"session_ended","session":42}` {
		t.Fatalf("payloads = %q", payloads)
	}
	if _, err := encodeEvent(Event{Kind: strings.Repeat("k", 100)}, 50); !errors.Is(err, ErrEventTooLarge) {
		t.Fatalf("oversized event: %v", err)
	}
}

func TestDecodeEventRejectsGarbage(t *testing.T) {
	for _, p := range []string{``, `{`, `{}`, `{"kind":"resync"}`, `{"kind":"message","users":"x"}`} {
		if _, err := decodeEvent([]byte(p)); err == nil {
			t.Errorf("decodeEvent(%q) accepted", p)
		}
	}
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(`{"kind":"message","users":[1,2],"thread":3,"message":4,"actor":5}`))
	f.Add([]byte(`{"kind":"session_ended","session":42}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		ev, err := decodeEvent(p)
		if err != nil {
			return
		}
		if ev.Kind == "" || ev.Kind == KindResync {
			t.Fatalf("accepted %+v", ev)
		}
	})
}

func TestChannelForDSN(t *testing.T) {
	for dsn, want := range map[string]string{
		"postgres://u@h/db?sslmode=disable":                        DefaultChannel,
		"postgres://u@h/db?search_path=public":                     DefaultChannel,
		"postgres://u@h/db?search_path=t_ab12":                     DefaultChannel + "_t_ab12",
		"postgres://u@h/db?search_path=Tenant,public":              DefaultChannel + "_tenant",
		"postgres://u@h/db?search_path=" + strings.Repeat("x", 60): DefaultChannel + "_",
		"postgres://u@h/db?search_path=we%22ird":                   DefaultChannel + "_",
	} {
		got, err := channelForDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(want, "_") {
			// Unusable as a name: a hash of the schema instead.
			if !strings.HasPrefix(got, want) || len(got) != len(want)+16 || !channelName.MatchString(got) {
				t.Errorf("channelForDSN(%q) = %q", dsn, got)
			}
			continue
		}
		if got != want {
			t.Errorf("channelForDSN(%q) = %q, want %q", dsn, got, want)
		}
	}
}
