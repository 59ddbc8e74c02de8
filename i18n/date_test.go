package i18n

import (
	"strings"
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

// TestRepeatedHour: on the last Sunday of October the clocks in the
// Netherlands go back from 03:00 summer time to 02:00 winter time, so
// every time from 02:00 to 02:59 happens twice. A list that shows "02:30"
// for two messages an hour apart reads as if they came at once, or in the
// wrong order; those times, and only those, say which of the two it was.
func TestRepeatedHour(t *testing.T) {
	// 25 October 2026: 00:30 UTC is 02:30 summer time, 01:30 UTC 02:30
	// winter time.
	now := time.Date(2026, 10, 25, 12, 0, 0, 0, time.UTC)
	first, second := time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC)
	cases := []struct {
		name           string
		t              time.Time
		lang           string
		when, dateTime string
	}{
		{"summer nl", first, "nl", "02:30 zomertijd", "25 oktober 02:30 zomertijd"},
		{"winter nl", second, "nl", "02:30 wintertijd", "25 oktober 02:30 wintertijd"},
		{"summer en", first, "en", "02:30 CEST", "25 October 02:30 CEST"},
		{"winter en", second, "en", "02:30 CET", "25 October 02:30 CET"},
		{"first minute", time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC), "nl", "02:00 zomertijd", "25 oktober 02:00 zomertijd"},
		{"last minute", time.Date(2026, 10, 25, 1, 59, 0, 0, time.UTC), "en", "02:59 CET", "25 October 02:59 CET"},
		// Just outside the repeated hour: as always.
		{"before", time.Date(2026, 10, 24, 23, 59, 0, 0, time.UTC), "nl", "01:59", "25 oktober 01:59"},
		{"after", time.Date(2026, 10, 25, 2, 0, 0, 0, time.UTC), "en", "03:00", "25 October 03:00"},
		// The spring switch skips an hour instead: nothing is repeated.
		{"march", time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC), "nl", "29 maart", "29 maart 03:30"},
		// Another year's switch, shown with its day.
		{"other year", time.Date(2025, 10, 26, 0, 30, 0, 0, time.UTC), "nl", "26 oktober 2025", "26 oktober 2025 02:30 zomertijd"},
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
			clock := tc.dateTime[strings.LastIndex(tc.dateTime, ":")-2:]
			if got := l.Clock(tc.t); got != clock {
				t.Errorf("Clock = %q, want %q", got, clock)
			}
		})
	}
}
