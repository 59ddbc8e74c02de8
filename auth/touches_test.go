package auth

import (
	"testing"
	"time"
)

// TestTouchesClaim: a session is claimed once a touchEvery; entries of
// sessions not seen for longer are dropped as the map grows, and many
// sessions active at once are all kept (and not scanned on every claim).
func TestTouchesClaim(t *testing.T) {
	var tc touches
	t0 := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	if !tc.claim(1, t0) || tc.claim(1, t0.Add(30*time.Second)) {
		t.Fatal("a session is to be refreshed once a minute")
	}
	if !tc.claim(1, t0.Add(touchEvery)) {
		t.Fatal("a minute later it is due again")
	}
	tc.release(1)
	if !tc.claim(1, t0.Add(touchEvery+time.Second)) {
		t.Fatal("a released claim is due again at once")
	}
	// 5,000 sessions active within the same minute are all kept.
	now := t0.Add(2 * touchEvery)
	for id := int64(100); id < 5100; id++ {
		if !tc.claim(id, now) {
			t.Fatalf("session %d: not claimed", id)
		}
	}
	if len(tc.at) != 5001 {
		t.Fatalf("%d entries, want 5001", len(tc.at))
	}
	if tc.prune < 2*1024 {
		t.Errorf("next scan at %d entries: it would scan on every claim", tc.prune)
	}
	// A while later the map, grown to its next scan, drops them.
	later := now.Add(touchEvery)
	for id := int64(10000); len(tc.at) < tc.prune; id++ {
		tc.claim(id, later)
	}
	tc.claim(99999, later)
	for id, at := range tc.at {
		if later.Sub(at) >= touchEvery {
			t.Fatalf("session %d from %v is still kept", id, at)
		}
	}
}
