package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"dialoog/auth"
)

// TestLiveParticipantList: a new message pushed to an open conversation
// also replaces its participant list, rendered for each reader with the
// page's rules. An invitee shows as "uitgenodigd" with the resend button
// for the case manager; once they signed up and replied, every open page
// shows them by name, without the button; the other outsider never sees
// the invitee's address or last-seen time, nor a resend button.
func TestLiveParticipantList(t *testing.T) {
	la := newLiveApp(t)
	hr := la.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	jan := la.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
	hrConn := la.connect(t, hr.u, hr.b.session())
	janConn := la.connect(t, jan.u, jan.b.session())

	threadID := la.compose(t, hr.u, "Verzuim", "Hoe gaat het?", jan.u.Email, "piet.de-groot@example.nl")
	piet := la.userByEmail(t, "piet.de-groot@example.nl")
	list := `<ul id="participants-` + itoa(threadID) + `" class="participant-list" hx-swap-oob="true">`
	resend := "/berichten/" + itoa(threadID) + "/deelnemers/" + itoa(piet.ID) + "/uitnodiging"

	got := readLiveUntil(t, hrConn, "Verzuim")
	wantContains(t, got, list, "piet.de-groot@example.nl", "uitgenodigd", `action="`+resend+`"`, "Uitnodiging opnieuw versturen",
		"Jan Jansen", "jan@example.nl")
	got = readLiveUntil(t, janConn, "Verzuim")
	wantContains(t, got, list, "Genodigde P.D.G.", "uitgenodigd", "Hanna de Vries")
	wantNotContains(t, got, "piet.de-groot", resend, "Uitnodiging opnieuw versturen")

	// The page itself has the same list, with the id the push replaces.
	_, page := hr.b.get("/berichten/" + itoa(threadID))
	wantContains(t, page, `<ul id="participants-`+itoa(threadID)+`" class="participant-list">`)

	// Piet signs up (a new link, as the resend button would send) and
	// replies.
	b := la.signUp(t, auth.InviteInput{Email: piet.Email, OrgID: la.org.ID})
	acceptTerms(t, b)
	setPassword(t, b)
	la.setUpSMS(t, b, testPhone)
	resp, _ := b.post(pathApp+"/overslaan", nil)
	wantRedirect(t, resp, pathRecovery)
	storeRecoveryCodes(t, b)
	resp, _ = b.post(pathProfile, url.Values{"gender": {"male"}, "initials": {"P."}, "first_name": {"Piet"}, "name_prefix": {"de"}, "last_name": {"Groot"}})
	wantRedirect(t, resp, pathInbox)
	resp, _ = b.post("/berichten/"+itoa(threadID), url.Values{"body": {"Het gaat beter"}})
	wantStatus(t, resp, http.StatusSeeOther)

	got = readLiveUntil(t, hrConn, "Het gaat beter")
	wantContains(t, got, list, "Piet de Groot", "piet.de-groot@example.nl", "laatst gezien")
	wantNotContains(t, got, resend, "uitgenodigd")
	got = readLiveUntil(t, janConn, "Het gaat beter")
	section := cut(t, got, list, "</ul>")
	wantContains(t, section, "Piet de Groot", "Hanna de Vries")
	wantNotContains(t, section, "piet.de-groot", "uitgenodigd", resend)
	// Jan sees no last-seen time of the other outsider: Piet's line says
	// only that he signed up.
	pietLine := cut(t, section, "Piet de Groot", "</li>")
	wantContains(t, pietLine, "aangemeld")
	wantNotContains(t, pietLine, "laatst gezien")
}

// cut returns s from start up to the first end after it.
func cut(t *testing.T, s, start, end string) string {
	t.Helper()
	i := strings.Index(s, start)
	if i < 0 {
		t.Fatalf("no %q in:\n%s", start, s)
	}
	j := strings.Index(s[i:], end)
	if j < 0 {
		t.Fatalf("no %q after %q in:\n%s", end, start, s)
	}
	return s[i : i+j]
}
