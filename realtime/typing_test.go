package realtime

import (
	"testing"
	"time"
)

func TestTypingThrottle(t *testing.T) {
	th := NewTypingThrottle(2 * time.Second)
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	steps := []struct {
		user, thread int64
		at           time.Duration
		want         bool
	}{
		{1, 10, 0, true},
		{1, 10, 500 * time.Millisecond, false},
		{1, 11, 500 * time.Millisecond, true}, // another thread
		{2, 10, 500 * time.Millisecond, true}, // another user
		{1, 10, 1999 * time.Millisecond, false},
		{1, 10, 2 * time.Second, true},
		{1, 10, 3 * time.Second, false},
		{1, 10, time.Second, true}, // the clock went back: allow, start over
	}
	for i, s := range steps {
		if got := th.Allow(s.user, s.thread, t0.Add(s.at)); got != s.want {
			t.Errorf("step %d: Allow(%d, %d, +%v) = %v, want %v", i, s.user, s.thread, s.at, got, s.want)
		}
	}
	// Old entries are forgotten.
	th.Allow(3, 30, t0.Add(time.Hour))
	th.mu.Lock()
	n := len(th.last)
	th.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d entries kept, want 1", n)
	}
}
