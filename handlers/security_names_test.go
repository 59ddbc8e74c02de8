package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
)

// bidiTricks are the characters that make a name show as something else:
// "evil\u202efdp.txt" shows as "eviltxt.pdf".
var bidiTricks = []string{"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f", "\x1b", "\u0085", "&#8238;", "&#x202e;"}

func wantNoBidi(t *testing.T, where, s string) {
	t.Helper()
	for _, c := range bidiTricks {
		if strings.Contains(strings.ToLower(s), c) {
			t.Errorf("%s holds %q:\n%s", where, c, s)
		}
	}
}

// TestBidiControlsAreStrippedFromNamesAndSubjects uploads a file named
// "evil\u202efdp.txt" and starts a conversation whose subject carries
// bidirectional overrides and control characters, through HTTP: the chip,
// the conversation, the inbox and the download show the names without
// them. Names and subjects stored before the rule show clean as well.
func TestBidiControlsAreStrippedFromNamesAndSubjects(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
		ext := ra.person(t, "jan@example.nl", false, "Jan", "", "Berg", "nl")

		resp, chip := hr.b.postMultipart(pathUpload, nil, []testFile{{"file", "evil\u202efdp.txt", []byte("hallo\n")}}, false)
		wantStatus(t, resp, http.StatusOK)
		wantNoBidi(t, "the chip", chip)
		wantContains(t, chip, `<span class="chip__name">evilfdp.txt</span>`)
		m := chipID.FindStringSubmatch(chip)
		if m == nil {
			t.Fatalf("no attachment id:\n%s", chip)
		}

		resp, _ = hr.b.post("/berichten/nieuw", url.Values{"to": {ext.u.Email}, "subject": {"Factuur \u202egnp.exe\u2066 \x1b[2Jbetaal\u200f"},
			"body": {"Zie bijlage"}, "attachment": {m[1]}})
		threadID := threadIDFrom(t, resp)
		thread := "/berichten/" + itoa(threadID)
		for _, b := range []*browser{hr.b, ext.b} {
			resp, page := b.get(thread)
			wantStatus(t, resp, http.StatusOK)
			wantNoBidi(t, "the conversation", page)
			wantContains(t, page, "Factuur gnp.exe [2Jbetaal", "evilfdp.txt")
			resp, page = b.get("/berichten")
			wantStatus(t, resp, http.StatusOK)
			wantNoBidi(t, "the inbox", page)
			wantContains(t, page, "Factuur gnp.exe [2Jbetaal")
		}
		resp, _ = ext.b.get("/bijlagen/" + m[1])
		wantStatus(t, resp, http.StatusOK)
		wantNoBidi(t, "Content-Disposition", resp.Header.Get("Content-Disposition"))

		// Stored before the rule (and, for the file, before names were
		// sealed): shown clean.
		ctx := context.Background()
		if _, err := ra.d.NewUpdate().Model((*db.Thread)(nil)).Set("subject = ?", "Oud \u202eftp.exe").Where("id = ?", threadID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := ra.d.NewUpdate().Model((*db.Attachment)(nil)).Set("filename = ?", "oud\u202efdp.txt").Set("name_sealed = NULL").Where("id = ?", m[1]).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		resp, page := ext.b.get(thread)
		wantStatus(t, resp, http.StatusOK)
		wantNoBidi(t, "the conversation stored before", page)
		wantContains(t, page, "Oud ftp.exe", "oudfdp.txt")
		_, page = ext.b.get("/berichten")
		wantNoBidi(t, "the inbox stored before", page)
		resp, _ = ext.b.get("/bijlagen/" + m[1])
		wantNoBidi(t, "Content-Disposition stored before", resp.Header.Get("Content-Disposition"))
	})
}

// TestOwnNameStoredBeforeTheRuleShowsClean: a name stored before the rule
// against hidden characters shows clean where its owner sees it too (the
// menu's name, "Ingelogd als" on Berichten), as it does in other people's
// inboxes; and someone with only initials is named by them there, as
// everywhere else.
func TestOwnNameStoredBeforeTheRuleShowsClean(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
		ext := ra.person(t, "jan@example.nl", false, "Jan", "", "Berg", "nl")
		if _, err := ra.d.NewUpdate().Model((*db.User)(nil)).Set("first_name = ?", "Jan\u202e\u2066").Set("name_prefix = ?", "van\tder").
			Where("id = ?", ext.u.ID).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, b := range []*browser{ext.b, hr.b} {
			resp, page := b.get("/berichten")
			wantStatus(t, resp, http.StatusOK)
			wantNoBidi(t, "Berichten", page)
		}
		_, page := ext.b.get("/berichten")
		wantContains(t, page, `<span class="account__name">Jan van der Berg</span>`, "Ingelogd als Jan van der Berg")

		if _, err := ra.d.NewUpdate().Model((*db.User)(nil)).Set("first_name = ''").Set("initials = 'J.B.'").Set("name_prefix = ''").
			Where("id = ?", ext.u.ID).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		_, page = ext.b.get("/berichten")
		wantContains(t, page, `<span class="account__name">J.B. Berg</span>`, "Ingelogd als J.B. Berg")
	})
}

// TestAddressWithInvisibleCharacterIsRefused, on both engines: a mail
// address holding an invisible character (a zero-width space pasted along,
// a direction override that shows "\u202ekees@example.nl" reversed) is no
// address anyone can be reached at: writing to it, adding it to a
// conversation, inviting it or adding it to a team is refused beside the
// field, in the writer's language, with the rest of the form as typed, and
// no account is made for it. Such an address made an account of its own
// beside the visible one, with an invitation mail to it.
func TestAddressWithInvisibleCharacterIsRefused(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		admin := ra.adminOf(t, "hr@osaw.nl")
		kees := ra.person(t, "kees@osaw.nl", true, "Kees", "", "Smit", "en")
		jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		thread := "/berichten/" + itoa(ra.compose(t, admin.u, "Verzuim", "Hallo", jan.u.Email, kees.u.Email))
		resp, _ := admin.b.post(pathAdminTeams, url.Values{"name": {"Verzuim"}})
		wantStatus(t, resp, http.StatusSeeOther)
		team := strings.TrimSuffix(resp.Header.Get("Location"), "?melding=aangemaakt")
		users := ra.count(t, (*db.User)(nil), "1 = 1")
		for _, address := range []string{"piet\u200b@example.nl", "\u202epiet@example.nl", "piet@exam\u200dple.nl", "piet\u00ad@example.nl"} {
			for _, hx := range [][]string{nil, {"HX-Request", "true"}} {
				for _, p := range []struct {
					who  *person
					want string
				}{{admin, "onzichtbaar teken"}, {kees, "invisible"}} {
					resp, page := p.who.b.post("/berichten/nieuw", url.Values{"to": {address}, "subject": {"Onderwerp X"}, "body": {"Tekst Y"}}, hx...)
					wantStatus(t, resp, http.StatusUnprocessableEntity)
					wantContains(t, page, `id="compose-to-error"`, p.want, `value="Onderwerp X"`, "Tekst Y")
					resp, page = p.who.b.post(thread+"/deelnemers", url.Values{"email": {address}, "history": {"new"}}, hx...)
					wantStatus(t, resp, http.StatusUnprocessableEntity)
					wantContains(t, page, `id="participant-email-error"`, p.want, `value="new" checked`)
				}
				resp, page := admin.b.post("/beheer/gebruikers/uitnodigen", url.Values{"email": {address}, "role": {"admin"}}, hx...)
				wantStatus(t, resp, http.StatusUnprocessableEntity)
				wantContains(t, page, `id="invite-email-error"`, "onzichtbaar teken")
				resp, page = admin.b.post(team+"/leden", url.Values{"email": {address}}, hx...)
				wantStatus(t, resp, http.StatusUnprocessableEntity)
				wantContains(t, page, `id="team-add-email-error"`, "onzichtbaar teken")
			}
		}
		if n := ra.count(t, (*db.User)(nil), "1 = 1"); n != users {
			t.Fatalf("%d users, want the %d before", n, users)
		}
	})
}
