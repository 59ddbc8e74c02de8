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
	if sameDay(t, now) {
		return t.AppendFormat(dst, "15:04")
	}
	return l.appendDay(dst, t, now)
}

// DateTime writes t with its day and clock time, relative to now: "23
// februari 14:05", or "23 februari 2025 14:05" in another year.
func (l Localizer) DateTime(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	t, now = t.In(Zone), now.In(Zone)
	var buf [40]byte
	b := append(l.appendDay(buf[:0], t, now), ' ')
	return string(t.AppendFormat(b, "15:04"))
}

// appendDay appends "23 februari", with the year when it is not now's.
func (l Localizer) appendDay(dst []byte, t, now time.Time) []byte {
	year, month, day := t.Date()
	dst = strconv.AppendInt(dst, int64(day), 10)
	dst = append(dst, ' ')
	dst = append(dst, l.month(month)...)
	if year != now.Year() {
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, int64(year), 10)
	}
	return dst
}

// monthNames holds each language's month names from the catalog's
// "date.months", split once: dates are written for every inbox row.
var monthNames = func() map[string][]string {
	out := make(map[string][]string, len(Languages))
	for _, lang := range Languages {
		if months := strings.Fields(For(lang).T("date.months")); len(months) == 12 {
			out[lang] = months
		}
	}
	return out
}()

// month names a month in l's language.
func (l Localizer) month(m time.Month) string {
	if months, ok := monthNames[l.Lang()]; ok {
		return months[m-1]
	}
	return strconv.Itoa(int(m))
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}
