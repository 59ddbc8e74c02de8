package i18n

import (
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the zone below must load on hosts without a zoneinfo database
)

// Zone is the time zone in which dates and times are shown. Dialoog's users
// are in the Netherlands; stored times are UTC.
var Zone = loadZone("Europe/Amsterdam")

func loadZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil { // cannot happen with the embedded database
		return time.UTC
	}
	return loc
}

// When writes the time of t for a list, relative to now, as people read
// it: the clock time "14:05" for today, the day "23 februari" ("23
// February") for another day of this year, and "23 februari 2025" for
// other years.
func (l Localizer) When(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	var buf [32]byte
	return string(l.AppendWhen(buf[:0], t, now))
}

// AppendWhen appends When(t, now) to dst, for a caller that writes many
// dates (an inbox page has one per row) and reuses one buffer.
func (l Localizer) AppendWhen(dst []byte, t, now time.Time) []byte {
	if t.IsZero() {
		return dst
	}
	t, now = t.In(Zone), now.In(Zone)
	year, month, day := t.Date()
	nowYear, nowMonth, nowDay := now.Date()
	if year == nowYear && month == nowMonth && day == nowDay {
		return l.appendClock(dst, t)
	}
	return l.appendDay(dst, year, month, day, nowYear)
}

// DateTime writes t with its day and clock time, relative to now: "23
// februari 14:05", or "23 februari 2025 14:05" in another year.
func (l Localizer) DateTime(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(Zone)
	year, month, day := t.Date()
	var buf [40]byte
	b := append(l.appendDay(buf[:0], year, month, day, now.In(Zone).Year()), ' ')
	return string(l.appendClock(b, t))
}

// Date writes a calendar date, as stored dates hold it (year, month and
// day in UTC), relative to now: "14 maart", or "14 maart 2027" in another
// year.
func (l Localizer) Date(t, now time.Time) string {
	year, month, day := t.UTC().Date()
	var buf [32]byte
	return string(l.appendDay(buf[:0], year, month, day, now.In(Zone).Year()))
}

// appendDay appends "23 februari", with the year when it is not nowYear.
func (l Localizer) appendDay(dst []byte, year int, month time.Month, day, nowYear int) []byte {
	dst = strconv.AppendInt(dst, int64(day), 10)
	dst = append(dst, ' ')
	dst = append(dst, l.month(month)...)
	if year != nowYear {
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, int64(year), 10)
	}
	return dst
}

// appendClock appends t's clock time as "15:04" does, with the zone's
// summer or winter time after it when that clock time happens twice
// (repeated).
func (l Localizer) appendClock(dst []byte, t time.Time) []byte {
	hour, minute, _ := t.Clock()
	dst = append(dst, byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+minute/10), byte('0'+minute%10))
	if !Repeated(t) {
		return dst
	}
	key := "date.winter_time"
	if t.IsDST() {
		key = "date.summer_time"
	}
	return append(append(dst, ' '), l.T(key)...)
}

// Repeated reports whether t's clock time in its zone happens twice that
// day: when the clocks go back (in the Netherlands from 03:00 summer time
// to 02:00 winter time on the last Sunday of October), the hour before
// the switch comes again after it, and "02:30" alone does not say which
// of the two it was. The same clock time an hour before or after t is
// the other one. (Europe/Amsterdam's switches are of one hour.)
func Repeated(t time.Time) bool {
	hour, minute, _ := t.Clock()
	for _, d := range [2]time.Duration{-time.Hour, time.Hour} {
		o := t.Add(d)
		if h, m, _ := o.Clock(); h == hour && m == minute {
			return true
		}
	}
	return false
}

// month names a month in l's language, from the catalog's "date.months"
// (split once, when the catalogs are compiled: dates are written for every
// inbox row).
func (l Localizer) month(m time.Month) string {
	months := l.months
	if months == nil {
		months = localizers[Default].months
	}
	if months == nil || m < time.January || m > time.December {
		return strconv.Itoa(int(m))
	}
	return months[m-1]
}

// FullDate writes t's day in Zone in full, with the year: "23 februari
// 2026".
func (l Localizer) FullDate(t time.Time) string {
	year, month, day := t.In(Zone).Date()
	return string(l.appendDay(nil, year, month, day, 0))
}

// Clock writes t's clock time in Zone: "14:05" (with summer or winter
// time in the hour that happens twice, see appendClock).
func (l Localizer) Clock(t time.Time) string {
	return string(l.appendClock(nil, t.In(Zone)))
}

// dayLayouts are the ways a day is typed: as a date input sends it
// (yyyy-mm-dd) and as people in the Netherlands type it where the browser
// shows a text field instead (31-12-2026, 1-3-2026, 1/3/2026).
var dayLayouts = []string{"2006-01-02", "2-1-2006", "2/1/2006"}

// ParseDay reads a typed day (dayLayouts, white space around it ignored)
// as midnight in loc; false for anything else or for a day that does not
// exist (31 February).
func ParseDay(v string, loc *time.Location) (time.Time, bool) {
	v = strings.TrimSpace(v)
	for _, layout := range dayLayouts {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
