package handlers

import (
	"net/http"
	"net/url"
	"testing"

	"dialoog/auth"
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
