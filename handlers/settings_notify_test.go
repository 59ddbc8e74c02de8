package handlers

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/db/dbtest"
)

// TestSettingsNotify: "Meldingen per e-mail" shows the three choices with
// what each means and the stored one checked (a mail per message for
// everyone at first); saving is audited; an unknown value is refused with
// a clear message in the person's language, the stored choice still
// checked, and nothing changes; the form
// is not for someone who has not finished the first visit.
func TestSettingsNotify(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		stored := func() string {
			t.Helper()
			var u db.User
			if err := ra.d.NewSelect().Model(&u).Where("email = ?", "jan@example.nl").Scan(context.Background()); err != nil {
				t.Fatal(err)
			}
			return u.Notify
		}

		_, page := jan.b.get(pathAccount)
		wantContains(t, page, "Meldingen per e-mail", `action="/account/meldingen"`,
			`value="message" checked`, "Een e-mail bij elk nieuw bericht", "Eén samenvatting per dag", "Geen e-mail",
			"Je ziet nieuwe berichten alleen als je zelf inlogt. Uitnodigingen en e-mails over de beveiliging van je account krijg je wel.")
		for _, s := range auth.NotifySettings {
			wantContains(t, page, `type="radio" name="notify" value="`+s+`"`)
		}

		resp, _ := jan.b.post(pathSettingsNotify, url.Values{"notify": {"daily"}})
		wantRedirect(t, resp, pathAccount+"?melding=meldingen")
		_, page = jan.b.follow(resp)
		wantContains(t, page, "Je meldingen zijn opgeslagen.", `value="daily" checked`)
		wantNotContains(t, page, `value="message" checked`)
		if got := stored(); got != auth.NotifyDaily {
			t.Fatalf("stored %q, want daily", got)
		}

		resp, page = jan.b.post(pathSettingsNotify, url.Values{"notify": {"weekly"}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, "Kies een van de drie mogelijkheden.", `id="settings-notify-error"`, `value="daily" checked`)
		if got := stored(); got != auth.NotifyDaily {
			t.Fatalf("after a refused value: stored %q, want daily", got)
		}
		resp, _ = jan.b.post(pathSettingsNotify, url.Values{})
		wantStatus(t, resp, http.StatusUnprocessableEntity)

		resp, _ = jan.b.post(pathSettingsNotify, url.Values{"notify": {"none"}})
		wantRedirect(t, resp, pathAccount+"?melding=meldingen")
		if got := stored(); got != auth.NotifyNone {
			t.Fatalf("stored %q, want none", got)
		}
		_, page = jan.b.get(pathAccountActivity)
		wantContains(t, page, "Meldingen per e-mail gewijzigd")

		resp, _ = jan.b.post(pathSettingsLanguage, url.Values{"language": {"en"}})
		wantRedirect(t, resp, pathAccount+"?melding=taal")
		resp, page = jan.b.post(pathSettingsNotify, url.Values{"notify": {"hourly"}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, "Choose one of the three options.", "Email notifications", `value="none" checked`)
		_, page = jan.b.get(pathAccountActivity)
		wantContains(t, page, "Email notifications changed")

		half := ra.signUp(t, auth.InviteInput{Email: "half@example.nl"})
		resp, _ = half.post(pathSettingsNotify, url.Values{"notify": {"none"}})
		wantRedirect(t, resp, pathTerms)
	})
}
