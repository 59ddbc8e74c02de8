package realtime

import (
	"sync"
	"time"
)

// TypingThrottle lets through at most one typing event per user per thread
// per period, however often the browser reports keystrokes. It is safe for
// concurrent use and forgets entries older than the period.
type TypingThrottle struct {
	every time.Duration

	mu        sync.Mutex
	last      map[typingKey]time.Time
	lastSweep time.Time
}

type typingKey struct{ user, thread int64 }

// NewTypingThrottle returns a throttle that allows one event per user and
// thread every period (2 s is a good value: the indicator disappears a few
// seconds after the last event).
func NewTypingThrottle(every time.Duration) *TypingThrottle {
	return &TypingThrottle{every: every, last: make(map[typingKey]time.Time)}
}

// Allow reports whether a typing event of userID in threadID at now may be
// published, and if so records it.
func (t *TypingThrottle) Allow(userID, threadID int64, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := typingKey{userID, threadID}
	if last, ok := t.last[k]; ok && now.Sub(last) < t.every && !now.Before(last) {
		return false
	}
	t.last[k] = now
	if now.Sub(t.lastSweep) >= t.every {
		t.lastSweep = now
		for k, last := range t.last {
			if now.Sub(last) >= t.every {
				delete(t.last, k)
			}
		}
	}
	return true
}
