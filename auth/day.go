package auth

import (
	"strings"
	"time"
)

// The years a date field accepts. A day outside them is a typing error,
// and not every store holds it: PostgreSQL knows no year 0, and
// 0001-01-01 is the zero time, which reads back as "no date".
const (
	minDayYear = 1900
	maxDayYear = 9999
)

// parseDay reads a day as a date input sends it (yyyy-mm-dd, white space
// around it ignored) as midnight in loc; false for anything else or for a
// year outside minDayYear to maxDayYear.
func parseDay(v string, loc *time.Location) (time.Time, bool) {
	t, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(v), loc)
	if err != nil || t.Year() < minDayYear || t.Year() > maxDayYear {
		return time.Time{}, false
	}
	return t, true
}
