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

// dayLayouts are the ways a day is read: as a date input sends it
// (yyyy-mm-dd) and as people in the Netherlands type it where the browser
// shows a text field instead (31-12-2026, 1-3-2026, 1/3/2026), as a
// signing deadline is read (signing.ParseDeadline).
var dayLayouts = []string{"2006-01-02", "2-1-2006", "2/1/2006"}

// parseDay reads a day (dayLayouts, white space around it ignored) as
// midnight in loc; false for anything else, for a day that does not exist
// (31 February) or for a year outside minDayYear to maxDayYear.
func parseDay(v string, loc *time.Location) (time.Time, bool) {
	v = strings.TrimSpace(v)
	for _, layout := range dayLayouts {
		t, err := time.ParseInLocation(layout, v, loc)
		if err != nil {
			continue
		}
		if t.Year() < minDayYear || t.Year() > maxDayYear {
			return time.Time{}, false
		}
		return t, true
	}
	return time.Time{}, false
}
