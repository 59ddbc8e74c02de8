package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/i18n"
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

// TestAbsenceEditKeepsItsPeriod: the rule "one auto-reply per conversation
// per absence period" holds while the absent person edits the reply: fixing
// the message or moving the last day of a reply that is on keeps the period
// (AwaySince), so nobody gets a second auto-reply in the same conversation.
// Switching it on again, or a reply that was not on before (ended, or not
// yet begun), starts a new period.
func TestAbsenceEditKeepsItsPeriod(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		tok, _ := f.onboarded(t, "jan@example.nl")
		since := func() time.Time {
			t.Helper()
			var u db.User
			if err := d.NewSelect().Model(&u).Where("id = ?", f.cur(t, tok).User.ID).Scan(ctx); err != nil {
				t.Fatal(err)
			}
			return auth.AwaySince(&u)
		}
		set := func(ab auth.Absence) {
			t.Helper()
			if err := f.acc.SetAbsence(ctx, f.cur(t, tok), ab, "127.0.0.1"); err != nil {
				t.Fatal(err)
			}
		}
		set(auth.Absence{Enabled: true, Message: "Ik ben ziek"})
		start := since()
		f.clk.Add(10 * time.Minute)
		set(auth.Absence{Enabled: true, Message: "Ik ben ziek, bel de bedrijfsarts"})
		set(auth.Absence{Enabled: true, Message: "Ik ben ziek, bel de bedrijfsarts", Until: f.clk.Now().AddDate(0, 0, 7).Format("2006-01-02")})
		if got := since(); !got.Equal(start) {
			t.Fatalf("editing a reply that is on moved its period from %v to %v", start, got)
		}
		f.clk.Add(10 * time.Minute)
		set(auth.Absence{Enabled: false, Message: "Ik ben ziek"})
		set(auth.Absence{Enabled: true, Message: "Ik ben ziek"})
		if got := since(); !got.After(start) {
			t.Fatalf("switching off and on kept the period (%v)", got)
		}
		// A reply whose period ended, given a new open end, starts anew.
		f.clk.Add(10 * time.Minute)
		y, m, dd := f.clk.Now().In(i18n.Zone).AddDate(0, 0, -1).Date()
		if _, err := d.NewUpdate().Model((*db.User)(nil)).Set("away_until = ?", time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)).
			Where("id = ?", f.cur(t, tok).User.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		ended := since()
		f.clk.Add(10 * time.Minute)
		set(auth.Absence{Enabled: true, Message: "Weer ziek"})
		if got := since(); !got.After(ended) {
			t.Fatalf("a reply that had ended, switched on again, kept its period (%v)", got)
		}
	})
}

// TestAbsenceRefusesEndedPeriod: switching the reply on with a last day
// that has passed in the Netherlands (a mistyped year, say) is refused with
// a message at the field instead of being saved as a reply that never
// answers; its last day may be today; switched off, any dates are kept for
// next time.
func TestAbsenceRefusesEndedPeriod(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		// 23:30 on 23 February in Amsterdam: its last day may still be
		// the 23rd.
		f.clk.Add(time.Date(2026, 2, 23, 22, 30, 0, 0, time.UTC).Sub(f.clk.Now()))
		tok, _ := f.onboarded(t, "kim@example.nl")
		ab := auth.Absence{Enabled: true, Message: "Ik ben ziek", Until: "2026-02-22"}
		wantKey(t, f.acc.SetAbsence(ctx, f.cur(t, tok), ab, "127.0.0.1"), "profile.period_past")
		ab.Until = "2026-02-23"
		if err := f.acc.SetAbsence(ctx, f.cur(t, tok), ab, "127.0.0.1"); err != nil {
			t.Fatalf("last day today: %v", err)
		}
		ab.Enabled, ab.Until = false, "2025-02-22"
		if err := f.acc.SetAbsence(ctx, f.cur(t, tok), ab, "127.0.0.1"); err != nil {
			t.Fatalf("switched off with a past period: %v", err)
		}
	})
}

// TestAbsenceDutchDates, on both engines: the absence period takes days as
// a date picker sends them (2026-03-01) and as people type them where the
// browser shows a text field (1-3-2026, 01-03-2026, 1/3/2026), like a
// signing deadline; a day that does not exist (31 February, 29 February
// outside a leap year) or a last day before the first is refused at its
// field.
func TestAbsenceDutchDates(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newAccFixture(t, d)
		f.clk.Add(time.Date(2026, 2, 23, 22, 30, 0, 0, time.UTC).Sub(f.clk.Now()))
		tok, _ := f.onboarded(t, "kim@example.nl")
		stored := func() (string, string) {
			t.Helper()
			var u db.User
			if err := d.NewSelect().Model(&u).Where("id = ?", f.cur(t, tok).User.ID).Scan(ctx); err != nil {
				t.Fatal(err)
			}
			return u.AwayFrom.Time.UTC().Format("2006-01-02"), u.AwayUntil.Time.UTC().Format("2006-01-02")
		}
		for _, c := range []struct{ from, until, wantFrom, wantUntil string }{
			{"2026-03-01", "2026-03-31", "2026-03-01", "2026-03-31"},
			{"1-3-2026", "31-03-2026", "2026-03-01", "2026-03-31"},
			{" 01/03/2026 ", "29-02-2028", "2026-03-01", "2028-02-29"},
		} {
			ab := auth.Absence{Enabled: true, Message: "Ik ben weg", From: c.from, Until: c.until}
			if err := f.acc.SetAbsence(ctx, f.cur(t, tok), ab, "127.0.0.1"); err != nil {
				t.Fatalf("%s..%s: %v", c.from, c.until, err)
			}
			if from, until := stored(); from != c.wantFrom || until != c.wantUntil {
				t.Fatalf("%s..%s stored as %s..%s", c.from, c.until, from, until)
			}
		}
		for _, c := range []struct{ from, until, field, key string }{
			{"31-02-2026", "", "away_from", "profile.date_invalid"},
			{"", "29-02-2027", "away_until", "profile.date_invalid"},
			{"", "2026-02-29", "away_until", "profile.date_invalid"},
			{"", "1-13-2026", "away_until", "profile.date_invalid"},
			{"10-03-2026", "9-3-2026", "away_until", "profile.period_order"},
		} {
			err := f.acc.SetAbsence(ctx, f.cur(t, tok), auth.Absence{Enabled: true, Message: "Ik ben weg", From: c.from, Until: c.until}, "127.0.0.1")
			fields := apperr.FieldsOf(err)
			if len(fields) != 1 || fields[0].Field != c.field || fields[0].Key != c.key {
				t.Errorf("%s..%s: %v, want %s on %s", c.from, c.until, err, c.key, c.field)
			}
		}
	})
}
