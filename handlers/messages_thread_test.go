package handlers

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"dialoog/auth"
	"dialoog/db"
	"dialoog/messaging"
	"dialoog/messaging/messagingtest"
)

// TestThreadView: what a participant sees of a conversation, and the
// routes around it (REAGEER in place, a reply, mark as read).
func TestThreadView(t *testing.T) {
	ra := newRealApp(t)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	jan := ra.person(t, "jan@example.nl", false, "Jan", "van der", "Berg", "nl")
	ra.d.NewUpdate().Model((*db.User)(nil)).Set("away_enabled = ?", true).Set("away_message = ?", "Ik ben tot maandag afwezig.").
		Where("id = ?", jan.u.ID).Exec(t.Context())

	pdf := ra.upload(t, hr.u, "Verslag spreekuur.pdf", pdfFile)
	threadID := ra.compose(t, hr.u, "testbericht", "Beste Jan,\n\nZie https://osaw.nl/uitleg.\nGroet", jan.u.Email)
	ra.clk.Add(5 * time.Minute)
	ra.reply(t, hr.u, threadID, "Met bijlage", pdf)
	tp := "/berichten/" + itoa(threadID)

	b := ra.signIn(t, jan.u)
	resp, page := b.get(tp)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page,
		"<h1>testbericht</h1>", "<title>testbericht – Dialoog</title>",
		`<span class="participant__name">Hanna de Vries</span>`, `<span class="participant__status">laatst gezien 23 februari 10:00</span>`,
		`<span class="message__sender">Hanna de Vries</span> <span class="message__org">OSAW</span>`,
		`<time class="message__time" datetime="2026-02-23T09:00:00Z">23 februari 10:00</time>`,
		"Beste Jan,\n\nZie ", `<a href="https://osaw.nl/uitleg" rel="noopener noreferrer nofollow" target="_blank">https://osaw.nl/uitleg</a>.`,
		`<span class="tag">Automatisch antwoord</span>`, "Ik ben tot maandag afwezig.",
		`<a href="/bijlagen/`+itoa(pdf)+`" download="Verslag spreekuur.pdf">Verslag spreekuur.pdf</a> <span class="muted">(`+strconv.Itoa(len(pdfFile))+` bytes)</span>`,
		">Verwijderen uit mijn berichten</button>", ">Gesprek verwijderen</button>", `hx-confirm="`,
		`href="`+tp+`/reageer" hx-get="`+tp+`/reageer" hx-target="#reply"`, ">REAGEER</a>",
		`hx-post="`+tp+`/gelezen" hx-trigger="load"`)
	// An external reader sees no invitation buttons, no "add", no addresses.
	wantNotContains(t, page, "Uitnodiging opnieuw versturen", "Deelnemer toevoegen", "hr@osaw.nl", ">Verwijderen voor iedereen</button>")
	if strings.Index(page, "Beste Jan") > strings.Index(page, "Met bijlage") {
		t.Error("messages are not oldest first")
	}

	// REAGEER with htmx: the form alone; without script, the conversation
	// with the form open.
	resp, form := b.get(tp+"/reageer", "HX-Request", "true", "HX-Target", "reply")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, form, `<form method="post" action="`+tp+`"`, `<label for="reply-body">Bericht</label>`, "autofocus", ">VERZEND</button>")
	wantNotContains(t, form, "<h1", "<html")
	resp, page = b.get(tp + "/reageer")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page, "<h1>testbericht</h1>", `<label for="reply-body">Bericht</label>`)

	// A reply goes back to the conversation.
	resp, _ = b.post(tp, url.Values{"body": {"Dank je, ik kom."}}, "HX-Request", "true")
	wantRedirect(t, resp, tp)
	_, page = b.get(tp)
	wantContains(t, page, "Dank je, ik kom.")

	// Without script, the button marks as read and reloads the page.
	if ra.unread(t, jan.u) == 0 {
		t.Fatal("showing the conversation marked it read")
	}
	resp, _ = b.post(tp+"/gelezen", nil)
	wantRedirect(t, resp, tp)
	if n := ra.unread(t, jan.u); n != 0 {
		t.Fatalf("%d unread after marking read", n)
	}
	_, page = b.get(tp)
	wantNotContains(t, page, "/gelezen", "Markeer als gelezen")
}

// TestMessagingIDOR: every route with an id answers 404, the normal error
// page, to someone who does not take part in the conversation (an external
// stranger and a colleague of the same organisation alike), and to ids
// that are not ids. Nothing changes.
func TestMessagingIDOR(t *testing.T) {
	ra := newRealApp(t)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
	pdf := ra.upload(t, hr.u, "brief.pdf", pdfFile)
	threadID := ra.compose(t, hr.u, "Vertrouwelijk", "Alleen voor Jan", jan.u.Email, "nieuw@example.nl")
	msgID := ra.reply(t, hr.u, threadID, "Met bijlage", pdf)
	invited := ra.userByEmail(t, "nieuw@example.nl")
	tid, mid := itoa(threadID), itoa(msgID)
	mails := ra.mailCount(t, invited.Email)

	type route struct {
		method, path string
		form         url.Values
	}
	routes := []route{
		{http.MethodGet, "/berichten/" + tid, nil},
		{http.MethodGet, "/berichten/" + tid + "/reageer", nil},
		{http.MethodPost, "/berichten/" + tid, url.Values{"body": {"ingebroken"}}},
		{http.MethodPost, "/berichten/" + tid + "/gelezen", nil},
		{http.MethodPost, "/berichten/" + tid + "/bericht/" + mid + "/verwijderen-voor-iedereen", nil},
		{http.MethodPost, "/berichten/" + tid + "/bericht/" + mid + "/verwijderen", nil},
		{http.MethodPost, "/berichten/" + tid + "/verwijderen", nil},
		{http.MethodPost, "/berichten/" + tid + "/deelnemers", url.Values{"email": {"spion@example.nl"}}},
		{http.MethodPost, "/berichten/" + tid + "/deelnemers/" + itoa(invited.ID) + "/uitnodiging", nil},
		{http.MethodGet, "/bijlagen/" + itoa(pdf), nil},
	}
	stranger := ra.person(t, "vreemd@example.nl", false, "Vera", "", "Vreemd", "nl")
	colleague := ra.person(t, "collega@osaw.nl", true, "Cor", "", "Collega", "nl")
	for name, p := range map[string]*person{"external": stranger, "colleague": colleague} {
		for _, r := range routes {
			t.Run(name+" "+r.method+" "+r.path, func(t *testing.T) {
				var resp *http.Response
				var page string
				if r.method == http.MethodGet {
					resp, page = p.b.get(r.path)
				} else {
					resp, page = p.b.post(r.path, r.form)
				}
				wantStatus(t, resp, http.StatusNotFound)
				wantContains(t, page, "<h1>Pagina niet gevonden</h1>", "Deze pagina bestaat niet (meer).")
				wantNotContains(t, page, "Vertrouwelijk", "Alleen voor Jan", "brief.pdf", "%PDF")
			})
		}
	}
	// A message id under another conversation of the user is not found
	// either, even for a participant.
	other := ra.compose(t, hr.u, "Ander gesprek", "x", jan.u.Email)
	resp, _ := hr.b.post("/berichten/"+itoa(other)+"/bericht/"+mid+"/verwijderen", nil)
	wantStatus(t, resp, http.StatusNotFound)

	// Nothing changed for the participants.
	_, page := jan.b.get("/berichten/" + tid)
	wantContains(t, page, "Alleen voor Jan", "Met bijlage", "brief.pdf")
	wantNotContains(t, page, "ingebroken", "spion@example.nl")
	if n := ra.mailCount(t, invited.Email); n != mails {
		t.Errorf("invitations to %s: %d, was %d", invited.Email, n, mails)
	}
	if n := ra.unread(t, jan.u); n != 3 { // two here, one in the other conversation
		t.Errorf("jan has %d unread, want 3", n)
	}

	// Ids that are not ids are 404 too, never 500.
	for _, bad := range []string{"abc", "-1", "0", "+1", "1e3", "0x10", "99999999999999999999", "9223372036854775807", "%31%00", "1.5"} {
		for _, path := range []string{
			"/berichten/" + bad, "/berichten/" + bad + "/reageer", "/bijlagen/" + bad,
		} {
			resp, _ := jan.b.get(path)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: status %d, want 404", path, resp.StatusCode)
			}
		}
		for _, path := range []string{
			"/berichten/" + bad, "/berichten/" + bad + "/gelezen", "/berichten/" + bad + "/verwijderen",
			"/berichten/" + tid + "/bericht/" + bad + "/verwijderen", "/berichten/" + bad + "/bericht/" + mid + "/verwijderen-voor-iedereen",
			"/berichten/" + tid + "/deelnemers/" + bad + "/uitnodiging",
		} {
			resp, _ := hr.b.post(path, url.Values{"body": {"x"}})
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("POST %s: status %d, want 404", path, resp.StatusCode)
			}
		}
	}
}

// TestDeleteForEveryone: only while nobody else read it; after that only
// removal from one's own box.
func TestDeleteForEveryone(t *testing.T) {
	ra := newRealApp(t)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
	threadID := ra.compose(t, hr.u, "Afspraak", "Eerste bericht", jan.u.Email)
	tp := "/berichten/" + itoa(threadID)
	oops := ra.reply(t, hr.u, threadID, "Verkeerd bericht")

	_, page := hr.b.get(tp)
	wantContains(t, page, `action="`+tp+`/bericht/`+itoa(oops)+`/verwijderen-voor-iedereen"`, `hx-confirm="Dit bericht voor iedereen verwijderen?`)
	resp, _ := hr.b.post(tp+"/bericht/"+itoa(oops)+"/verwijderen-voor-iedereen", nil)
	wantRedirect(t, resp, tp+"?melding=verwijderd")
	_, page = hr.b.follow(resp)
	wantContains(t, page, "Het bericht is verwijderd.")
	_, page = jan.b.get(tp)
	wantNotContains(t, page, "Verkeerd bericht")

	// Jan reads; now it can only leave Hanna's own box.
	resp, _ = jan.b.post(tp+"/gelezen", nil)
	wantRedirect(t, resp, tp)
	first := ra.lastMessageID(t, threadID)
	_, page = hr.b.get(tp)
	wantNotContains(t, page, ">Verwijderen voor iedereen</button>")
	resp, page = hr.b.post(tp+"/bericht/"+itoa(first)+"/verwijderen-voor-iedereen", nil)
	wantStatus(t, resp, http.StatusConflict)
	wantContains(t, page, `<div class="alert" role="alert">Dit bericht is al gelezen en kan daarom niet meer voor iedereen worden verwijderd.`, "<h1>Afspraak</h1>", "Eerste bericht")
	// Jan cannot delete Hanna's message for everyone.
	resp, page = jan.b.post(tp+"/bericht/"+itoa(first)+"/verwijderen-voor-iedereen", nil)
	wantStatus(t, resp, http.StatusForbidden)
	wantContains(t, page, "Alleen de afzender kan dit bericht voor iedereen verwijderen.")

	resp, _ = hr.b.post(tp+"/bericht/"+itoa(first)+"/verwijderen", nil)
	wantRedirect(t, resp, "/berichten") // nothing left in Hanna's box
	_, page = hr.b.get("/berichten")
	wantNotContains(t, page, "Afspraak")
	_, page = jan.b.get(tp)
	wantContains(t, page, "Eerste bericht")

	// Jan removes the whole conversation from his box.
	resp, _ = jan.b.post(tp+"/verwijderen", nil)
	wantRedirect(t, resp, "/berichten")
	_, page = jan.b.get("/berichten")
	wantContains(t, page, "Je hebt nog geen berichten.")
}

// TestParticipants: adding someone and sending an invitation again, for
// internal users.
func TestParticipants(t *testing.T) {
	ra := newRealApp(t)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
	threadID := ra.compose(t, hr.u, "Overleg", "Hallo", jan.u.Email)
	tp := "/berichten/" + itoa(threadID)

	_, page := hr.b.get(tp)
	wantContains(t, page, "<summary>Deelnemer toevoegen</summary>", `action="`+tp+`/deelnemers"`, `<label for="participant-email">Mailadres</label>`)

	resp, page := hr.b.post(tp+"/deelnemers", url.Values{"email": {"geen adres"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, `value="geen adres"`, "Dit mailadres klopt niet.", `aria-invalid="true"`, "<details class=\"help when-open\" open>",
		"Kies of de nieuwe deelnemer de eerdere berichten mag lezen.")
	// One address, asked for as such; an empty one is asked for.
	for _, history := range []string{"", "new"} {
		resp, page = hr.b.post(tp+"/deelnemers", url.Values{"email": {" "}, "history": {history}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, "Vul het mailadres van de nieuwe deelnemer in.")
		resp, page = hr.b.post(tp+"/deelnemers", url.Values{"email": {"geen adres"}, "history": {history}})
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		wantContains(t, page, "Dit mailadres klopt niet.")
	}
	resp, page = hr.b.post(tp+"/deelnemers", url.Values{"email": {"bedrijfsarts@example.nl"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, `value="bedrijfsarts@example.nl"`, "Kies of de nieuwe deelnemer de eerdere berichten mag lezen.")
	resp, page = hr.b.post(tp+"/deelnemers", url.Values{"email": {jan.u.Email}, "history": {"new"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, "Deze persoon doet al mee aan dit gesprek.", `value="new" checked`)

	resp, _ = hr.b.post(tp+"/deelnemers", url.Values{"email": {"bedrijfsarts@example.nl"}, "history": {"new"}})
	wantRedirect(t, resp, tp+"?melding=toegevoegd")
	_, page = hr.b.follow(resp)
	wantContains(t, page, "De deelnemer is toegevoegd.", "bedrijfsarts@example.nl", "uitgenodigd",
		`class="message message--system"`, "bedrijfsarts@example.nl is toegevoegd door Hanna de Vries")
	_, janPage := jan.b.get(tp)
	wantContains(t, janPage, "Genodigde B. is toegevoegd door Hanna de Vries")
	if m := ra.lastMail(t, "bedrijfsarts@example.nl"); m.Subject != "Uitnodiging voor Dialoog van OSAW" {
		t.Fatalf("mail to the added participant: %q", m.Subject)
	}
	added := ra.userByEmail(t, "bedrijfsarts@example.nl")
	n := ra.mailCount(t, added.Email)
	resendPath := tp + "/deelnemers/" + itoa(added.ID) + "/uitnodiging"
	wantContains(t, page, `action="`+resendPath+`"`)
	ra.clk.Add(auth.InvitationResendAfter) // not right after the invitation itself
	resp, _ = hr.b.post(resendPath, nil)
	wantRedirect(t, resp, tp+"?melding=uitnodiging")
	_, page = hr.b.follow(resp)
	wantContains(t, page, "De uitnodiging is opnieuw verstuurd.")
	if got := ra.mailCount(t, added.Email); got != n+1 {
		t.Errorf("invitations %d, want %d", got, n+1)
	}
	// Jan has signed up: no new invitation, and the page says why.
	resp, page = hr.b.post(tp+"/deelnemers/"+itoa(jan.u.ID)+"/uitnodiging", nil)
	wantStatus(t, resp, http.StatusConflict)
	wantContains(t, page, "Deze gebruiker is al aangemeld en kan gewoon inloggen.")
	// An external participant may do neither.
	resp, _ = jan.b.post(tp+"/deelnemers", url.Values{"email": {"x@example.nl"}})
	wantStatus(t, resp, http.StatusForbidden)
	resp, _ = jan.b.post(resendPath, nil)
	wantStatus(t, resp, http.StatusForbidden)
}

// TestMessagingNeedsFinishedUser: the messaging routes use the guard of
// /berichten: signed out goes to the login, a user in the middle of the
// first visit to their step.
func TestMessagingNeedsFinishedUser(t *testing.T) {
	ra := newRealApp(t)
	anon := ra.browser(t)
	for _, path := range []string{"/berichten", "/berichten/nieuw", "/berichten/1", "/berichten/1/reageer", "/bijlagen/1"} {
		resp, _ := anon.get(path)
		wantRedirect(t, resp, pathLogin)
	}
	resp, _ := anon.post("/berichten/nieuw", url.Values{"to": {"a@b.nl"}, "subject": {"s"}, "body": {"b"}})
	wantRedirect(t, resp, pathLogin)
	resp, _ = anon.post("/bijlagen", nil, csrfHeader, anon.csrf())
	wantRedirect(t, resp, pathLogin)

	halfway := ra.signUp(t, auth.InviteInput{Email: "halverwege@example.nl"})
	for _, path := range []string{"/berichten", "/berichten/nieuw", "/berichten/1"} {
		resp, _ := halfway.get(path)
		wantRedirect(t, resp, pathTerms)
	}
	resp, _ = halfway.post("/berichten/1", url.Values{"body": {"x"}})
	wantRedirect(t, resp, pathTerms)
}

// TestThreadEarlierMessages: a long conversation's page shows its newest
// messages and "Eerdere berichten tonen"; with htmx that link gets the page
// before it (and its own link) in its place, without script it opens the
// conversation with those messages. Someone else gets the not-found page.
func TestThreadEarlierMessages(t *testing.T) {
	ra := newRealApp(t)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Berg", "nl")
	kim := ra.person(t, "kim@example.nl", false, "Kim", "", "Smit", "nl")
	threadID := ra.compose(t, hr.u, "Lang gesprek", "Bericht nul", jan.u.Email)
	if err := messagingtest.LongThread(t.Context(), ra.d, ra.v, threadID, jan.u.ID, hr.u.ID, messaging.ThreadPageSize+10, ra.clk.Now()); err != nil {
		t.Fatal(err)
	}
	tp := "/berichten/" + itoa(threadID)
	b := ra.signIn(t, jan.u)
	resp, page := b.get(tp)
	wantStatus(t, resp, http.StatusOK)
	if n := strings.Count(page, `<li id="message-`); n != messaging.ThreadPageSize {
		t.Fatalf("the page shows %d messages, want %d", n, messaging.ThreadPageSize)
	}
	wantContains(t, page, `id="earlier-`+itoa(threadID)+`"`, ">Eerdere berichten tonen</a>")
	wantNotContains(t, page, "Bericht nul")
	i := strings.Index(page, `hx-get="`+tp+`?eerder=`)
	if i < 0 {
		t.Fatal("no link to the earlier messages")
	}
	link := page[i+len(`hx-get="`) : i+strings.Index(page[i:], `" `)]

	resp, part := b.get(link, "HX-Request", "true", "HX-Target", "earlier-"+itoa(threadID))
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, part, "Bericht nul")
	wantNotContains(t, part, "<html", "<h1", "Eerdere berichten tonen")
	if n := strings.Count(part, `<li id="message-`); n != 11 {
		t.Fatalf("the earlier page shows %d messages, want 11", n)
	}
	resp, page = b.get(link)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page, "<h1>Lang gesprek</h1>", "Bericht nul")

	resp, _ = ra.signIn(t, kim.u).get(link, "HX-Request", "true", "HX-Target", "earlier-"+itoa(threadID))
	wantStatus(t, resp, http.StatusNotFound)
}
