package i18n

import (
	"testing"
	"time"
)

func TestWhenAndDateTime(t *testing.T) {
	// 13:05 UTC is 14:05 in Amsterdam in winter, 15:05 in summer.
	now := time.Date(2026, 2, 23, 16, 0, 0, 0, time.UTC)
	cases := []struct {
		name           string
		t              time.Time
		lang           string
		when, dateTime string
	}{
		{"today nl", time.Date(2026, 2, 23, 13, 5, 0, 0, time.UTC), "nl", "14:05", "23 februari 14:05"},
		{"today en", time.Date(2026, 2, 23, 13, 5, 0, 0, time.UTC), "en", "14:05", "23 February 14:05"},
		{"this year nl", time.Date(2026, 1, 2, 8, 0, 0, 0, time.UTC), "nl", "2 januari", "2 januari 09:00"},
		{"this year en", time.Date(2026, 1, 2, 8, 0, 0, 0, time.UTC), "en", "2 January", "2 January 09:00"},
		{"other year nl", time.Date(2025, 2, 23, 13, 5, 0, 0, time.UTC), "nl", "23 februari 2025", "23 februari 2025 14:05"},
		{"other year en", time.Date(2025, 2, 23, 13, 5, 0, 0, time.UTC), "en", "23 February 2025", "23 February 2025 14:05"},
		{"summer time", time.Date(2025, 7, 1, 13, 5, 0, 0, time.UTC), "nl", "1 juli 2025", "1 juli 2025 15:05"},
		// Just after midnight in Amsterdam is still the day before in UTC.
		{"local day", time.Date(2026, 2, 22, 23, 30, 0, 0, time.UTC), "nl", "00:30", "23 februari 00:30"},
		{"zero", time.Time{}, "nl", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := For(tc.lang)
			if got := l.When(tc.t, now); got != tc.when {
				t.Errorf("When = %q, want %q", got, tc.when)
			}
			if got := l.DateTime(tc.t, now); got != tc.dateTime {
				t.Errorf("DateTime = %q, want %q", got, tc.dateTime)
			}
		})
	}
}
