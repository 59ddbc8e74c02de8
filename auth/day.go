package auth

import (
	"time"

	"dialoog/i18n"
)

// The years a date field accepts. A day outside them is a typing error,
// and not every store holds it: PostgreSQL knows no year 0, and
// 0001-01-01 is the zero time, which reads back as "no date".
const (
	minDayYear = 1900
	maxDayYear = 9999
)

// parseDay reads a day as people type it (i18n.ParseDay: 2026-12-31,
// 31-12-2026, 31/12/2026) as midnight in loc; false for anything else, for
// a day that does not exist (31 February) or for a year outside
// minDayYear to maxDayYear.
func parseDay(v string, loc *time.Location) (time.Time, bool) {
	t, ok := i18n.ParseDay(v, loc)
	if !ok || t.Year() < minDayYear || t.Year() > maxDayYear {
		return time.Time{}, false
	}
	return t, true
}
