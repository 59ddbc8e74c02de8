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
	t, now = t.In(Zone), now.In(Zone)
	if sameDay(t, now) {
		return clock(t)
	}
	return l.day(t, now)
}

// DateTime writes t with its day and clock time, relative to now: "23
// februari 14:05", or "23 februari 2025 14:05" in another year.
func (l Localizer) DateTime(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	t, now = t.In(Zone), now.In(Zone)
	return l.day(t, now) + " " + clock(t)
}

// day writes "23 februari", with the year when it is not now's.
func (l Localizer) day(t, now time.Time) string {
	s := strconv.Itoa(t.Day()) + " " + l.month(t.Month())
	if t.Year() != now.Year() {
		s += " " + strconv.Itoa(t.Year())
	}
	return s
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

func clock(t time.Time) string { return t.Format("15:04") }

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}
