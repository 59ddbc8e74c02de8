package auth_test

import (
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/auth"
	"dialoog/db"
)

// TestCurrentAwayOn: the inbox's banner (Current.AwayOn, from the plain
// values handlers get) says what the auto-reply does (AwayOn, from the
// row): on for an active person with a message, within the period.
func TestCurrentAwayOn(t *testing.T) {
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	day := func(d int) bun.NullTime { return bun.NullTime{Time: time.Date(2026, 12, 6+d, 0, 0, 0, 0, time.UTC)} }
	cases := map[string]db.User{
		"on":                  {AwayEnabled: true, AwaySealed: []byte{1}},
		"off":                 {AwaySealed: []byte{1}},
		"no message":          {AwayEnabled: true},
		"blank plain":         {AwayEnabled: true, AwayMessage: "  "},
		"plain (before 0008)": {AwayEnabled: true, AwayMessage: "Tot maandag"},
		"until yesterday":     {AwayEnabled: true, AwaySealed: []byte{1}, AwayUntil: day(-1)},
		"until today":         {AwayEnabled: true, AwaySealed: []byte{1}, AwayUntil: day(0)},
		"from tomorrow":       {AwayEnabled: true, AwaySealed: []byte{1}, AwayFrom: day(1)},
		"from today":          {AwayEnabled: true, AwaySealed: []byte{1}, AwayFrom: day(0)},
		"invited":             {AwayEnabled: true, AwaySealed: []byte{1}, Status: db.StatusInvited},
	}
	on := 0
	for name, u := range cases {
		if u.Status == "" {
			u.Status = db.StatusActive
		}
		want := auth.AwayOn(&u, now)
		if got := auth.ActingAs(&u).AwayOn(now); got != want {
			t.Errorf("%s: Current.AwayOn %v, AwayOn %v", name, got, want)
		}
		if want {
			on++
		}
	}
	if on != 4 {
		t.Errorf("%d of the cases are on, want 4 (on, plain, until today, from today)", on)
	}
}
