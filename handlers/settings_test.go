package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestSettings: after the first visit a person changes their details, the
// absence reply (with a banner in their inbox while it is on) and their
// language, each in a small form that keeps what was typed on a mistake;
// each change is in the security activity.
func TestSettings(t *testing.T) {
	ra := newRealApp(t)
	jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")

	_, page := jan.b.get(pathAccount)
	wantContains(t, page, `action="/account/gegevens"`, `action="/account/afwezigheid"`, `action="/account/taal"`, `value="Jansen"`)

	resp, page := jan.b.post(pathSettingsNames, url.Values{"gender": {"male"}, "initials": {""}, "first_name": {"Johannes"}, "last_name": {"Jansen"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, "Vul dit veld in.", `value="Johannes"`)
	// Too long: the message says how long it may be.
	resp, page = jan.b.post(pathSettingsNames, url.Values{"gender": {"male"}, "initials": {"J."}, "first_name": {strings.Repeat("a", 101)}, "last_name": {"Jansen"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, "Dit is te lang: gebruik maximaal 100 tekens.")
	resp, _ = jan.b.post(pathSettingsNames, url.Values{"gender": {"male"}, "initials": {"J."}, "first_name": {"Johannes"}, "name_prefix": {"van"}, "last_name": {"Dam"}})
	wantRedirect(t, resp, pathAccount+"?melding=gegevens")
	_, page = jan.b.follow(resp)
	wantContains(t, page, "Je gegevens zijn opgeslagen.", `value="Johannes"`, `value="Dam"`)

	_, inbox := jan.b.get(pathInbox)
	wantNotContains(t, inbox, "Je afwezigheidsbericht staat aan")
	resp, page = jan.b.post(pathSettingsAway, url.Values{"away_enabled": {"yes"}, "away_message": {""}, "away_until": {"2026-03-20"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, "Vul het bericht in dat automatisch wordt gestuurd.", `value="2026-03-20"`)
	resp, _ = jan.b.post(pathSettingsAway, url.Values{"away_enabled": {"yes"}, "away_message": {"Ik ben tot 20 maart weg."}, "away_until": {"2026-03-20"}})
	wantRedirect(t, resp, pathAccount+"?melding=afwezigheid")
	_, page = jan.b.follow(resp)
	wantContains(t, page, "Je afwezigheidsbericht staat nu aan.", "Ik ben tot 20 maart weg.")
	_, inbox = jan.b.get(pathInbox)
	wantContains(t, inbox, "Je afwezigheidsbericht staat aan tot en met 20 maart.", `href="/account#settings-away"`)
	resp, _ = jan.b.post(pathSettingsAway, url.Values{"away_message": {"Ik ben tot 20 maart weg."}})
	wantRedirect(t, resp, pathAccount+"?melding=afwezigheid")
	_, inbox = jan.b.get(pathInbox)
	wantNotContains(t, inbox, "Je afwezigheidsbericht staat aan")

	resp, page = jan.b.post(pathSettingsLanguage, url.Values{"language": {"fr"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, "Kies Nederlands of English.")
	resp, _ = jan.b.post(pathSettingsLanguage, url.Values{"language": {"en"}})
	wantRedirect(t, resp, pathAccount+"?melding=taal")
	_, page = jan.b.follow(resp)
	wantContains(t, page, "<h1>My account</h1>", "The language was saved.", `<option value="en" selected>`)

	_, page = jan.b.get(pathAccountActivity)
	wantContains(t, page, "Details changed", "Absence changed", "Language changed")

	half := ra.signUp(t, auth.InviteInput{Email: "half@example.nl"})
	for _, p := range []string{pathSettingsNames, pathSettingsAway, pathSettingsLanguage} {
		resp, _ = half.post(p, url.Values{"language": {"en"}})
		wantRedirect(t, resp, pathTerms)
	}
}

// TestSettingsAwayYearOutOfRange, on both engines: a day of the absence
// period with a year no calendar of the service holds (year 0 is refused
// by PostgreSQL, 0001-01-01 is the zero time and was dropped as "no
// date") is refused at its field in the person's language, with the typed
// values kept and nothing stored.
func TestSettingsAwayYearOutOfRange(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		ann := ra.person(t, "ann@example.nl", false, "Ann", "", "Smith", "en")
		for _, tc := range []struct {
			p    *person
			want string
		}{{jan, "Vul een geldige datum in, bijvoorbeeld 2026-03-01."}, {ann, "Enter a valid date, for example 2026-03-01."}} {
			for _, day := range []string{"0000-01-01", "0001-01-01", "1899-12-31"} {
				resp, page := tc.p.b.post(pathSettingsAway, url.Values{"away_enabled": {"yes"}, "away_message": {"Ik ben weg."}, "away_from": {"2026-03-01"}, "away_until": {day}})
				wantStatus(t, resp, http.StatusUnprocessableEntity)
				wantContains(t, page, tc.want, `value="`+day+`"`, `value="2026-03-01"`, "Ik ben weg.")
				var u db.User
				if err := ra.d.NewSelect().Model(&u).Where("id = ?", tc.p.u.ID).Scan(context.Background()); err != nil {
					t.Fatal(err)
				}
				if u.AwayEnabled || !u.AwayFrom.IsZero() || !u.AwayUntil.IsZero() {
					t.Fatalf("%s: stored %v %v %v", day, u.AwayEnabled, u.AwayFrom, u.AwayUntil)
				}
			}
		}
		resp, _ := jan.b.post(pathSettingsAway, url.Values{"away_enabled": {"yes"}, "away_message": {"Ik ben weg."}, "away_from": {"1900-01-01"}, "away_until": {"9999-12-31"}})
		wantRedirect(t, resp, pathAccount+"?melding=afwezigheid")
	})
}
