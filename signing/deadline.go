package signing

import (
	"time"

	"dialoog/apperr"
	"dialoog/i18n"
)

// ParseDeadline reads the day by which a request must be answered: as a
// date picker sends it (2026-12-31) or as people write it where the
// browser has none (31-12-2026, also with slashes or single digits, the
// form the message of a refusal asks for). The deadline is the last
// second of that day in Dutch time. A day that does not parse is refused
// on "deadline".
func ParseDeadline(s string) (time.Time, error) {
	if day, ok := i18n.ParseDay(s, i18n.Zone); ok {
		return day.AddDate(0, 0, 1).Add(-time.Second), nil
	}
	return time.Time{}, apperr.Field("deadline", "signing.deadline_invalid")
}
