package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"dialoog/db"
)

// TestComposeToNewAddress follows the seed: an internal user writes to an
// address Dialoog does not know; the address gets an invitation (not the
// message), the sender sees the conversation at once, and the new user
// finds it in "Berichten" after signing up.
func TestComposeToNewAddress(t *testing.T) {
	ra := newRealApp(t)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")

	resp, page := hr.b.get("/berichten/nieuw")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page, "<h1>Nieuw bericht</h1>", `<label for="compose-to">Aan</label>`, `<label for="compose-subject">Onderwerp</label>`,
		`<label for="compose-body">Bericht</label>`, `<label for="compose-files">Bijlagen</label>`,
		`data-count="compose-body-count"`, "0 van 20.000 tekens", `type="file" name="files" multiple`, ">VERZEND</button>",
		`enctype="multipart/form-data"`)
	wantNotContains(t, page, "compose.", "Je kunt alleen een bericht sturen", `maxlength="20000"`)

	resp, _ = hr.b.post("/berichten/nieuw", url.Values{"to": {"Werknemer@Example.nl"}, "subject": {"testbericht"}, "body": {"Hallo,\nhoe gaat het?"}})
	threadID := threadIDFrom(t, resp)

	invite := ra.lastMail(t, "werknemer@example.nl")
	if invite.Subject != "Uitnodiging voor Dialoog van OSAW" {
		t.Fatalf("mail to the new address: %q", invite.Subject)
	}
	if strings.Contains(invite.Text, "hoe gaat het") || strings.Contains(invite.Text, "testbericht") {
		t.Errorf("the invitation carries the message:\n%s", invite.Text)
	}
	link := regexp.MustCompile(testBase + `(/aanmelden/[A-Za-z0-9_-]+)`).FindStringSubmatch(invite.Text)
	if link == nil {
		t.Fatalf("no sign-up link:\n%s", invite.Text)
	}

	resp, page = hr.b.follow(resp)
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page, "<h1>testbericht</h1>", "Organisatie: OSAW", "werknemer@example.nl", "uitgenodigd",
		">Uitnodiging opnieuw versturen</button>", "Hanna de Vries", "Hallo,\nhoe gaat het?",
		"Nog niet gelezen door werknemer@example.nl", ">Verwijderen voor iedereen</button>", ">REAGEER</a>")
	resp, page = hr.b.get("/berichten")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page, `href="/berichten/`+itoa(threadID)+`"`, "testbericht", "werknemer@example.nl")

	// The new user signs up through the link and lands in "Berichten".
	b := ra.browser(t)
	resp, _ = b.get(link[1])
	wantStatus(t, resp, http.StatusOK)
	resp, _ = b.post(link[1], nil)
	wantRedirect(t, resp, pathTerms)
	acceptTerms(t, b)
	setPassword(t, b)
	ra.setUpSMS(t, b, testPhone)
	resp, _ = b.post(pathApp+"/overslaan", nil)
	wantRedirect(t, resp, pathRecovery)
	storeRecoveryCodes(t, b)
	saveProfile(t, b)
	resp, page = b.get("/berichten")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page, "<h1>Berichten</h1>", `class="thread thread--unread"`, `<strong class="thread__subject">testbericht</strong>`,
		`<span class="thread__org">OSAW</span>`, "Hanna de Vries", "1 ongelezen", "Berichten (1)")

	// Reading changes nothing on GET; the page posts it.
	resp, page = b.get("/berichten/" + itoa(threadID))
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page, `hx-post="/berichten/`+itoa(threadID)+`/gelezen" hx-trigger="load" hx-swap="none"`, "<noscript>", ">Markeer als gelezen</button>")
	user := ra.userByEmail(t, "werknemer@example.nl")
	if n := ra.unread(t, user); n != 1 {
		t.Fatalf("GET changed the read state: %d unread", n)
	}
	resp, page = b.post("/berichten/"+itoa(threadID)+"/gelezen", nil, "HX-Request", "true")
	wantStatus(t, resp, http.StatusOK)
	// Only the count: replacing the whole header corner would close its
	// menu and drop the focus of whoever is in it (TestReadCountLeavesTheMenu).
	wantContains(t, page, `id="inbox-link"`, `hx-swap-oob="innerHTML"`, `>Berichten</a>`)
	wantNotContains(t, page, `id="account"`, "<details")
	if n := ra.unread(t, user); n != 0 {
		t.Fatalf("%d unread after reading", n)
	}
	_, page = hr.b.get("/berichten/" + itoa(threadID))
	wantContains(t, page, "✓✓", "Gelezen door Jan van der Berg op 23 februari 10:00")
	wantNotContains(t, page, ">Verwijderen voor iedereen</button>")
}

func (ra *realApp) userByEmail(t *testing.T, email string) *db.User {
	t.Helper()
	var u db.User
	if err := ra.d.NewSelect().Model(&u).Where("email = ?", email).Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	return &u
}

// TestNotificationMailHasNoContent: an active user is told that there is a
// message, by whom (the organisation for an external reader of an internal
// author, otherwise the person), and where to log in; nothing else.
func TestNotificationMailHasNoContent(t *testing.T) {
	ra := newRealApp(t)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "en")

	resp, _ := hr.b.post("/berichten/nieuw", url.Values{"to": {jan.u.Email}, "subject": {"Uw re-integratieplan"}, "body": {"Geheime inhoud van het bericht"}})
	threadID := threadIDFrom(t, resp)
	m := ra.lastMail(t, jan.u.Email)
	if m.Subject != "You have a new message from OSAW" {
		t.Fatalf("subject %q", m.Subject)
	}
	for _, part := range []string{m.Subject, m.Text, m.HTML} {
		for _, secret := range []string{"re-integratieplan", "Geheime inhoud", "Hanna", "Vries"} {
			if strings.Contains(part, secret) {
				t.Errorf("notification contains %q:\n%s", secret, part)
			}
		}
	}
	wantContains(t, m.Text, "A new message from OSAW is waiting for you in Dialoog.", "LOG IN:\n"+testBase+"/berichten\n")
	wantContains(t, m.HTML, `href="`+testBase+`/berichten"`, ">LOG IN</a>", `<html lang="en">`)

	// Jan answers; Hanna reads Dutch and is told who wrote, not her own
	// organisation.
	resp, _ = jan.b.post("/berichten/"+itoa(threadID), url.Values{"body": {"Mijn antwoord"}})
	wantRedirect(t, resp, "/berichten/"+itoa(threadID))
	m = ra.lastMail(t, hr.u.Email)
	if m.Subject != "Je hebt een nieuw bericht van Jan Jansen" || !strings.Contains(m.Text, "Er staat in Dialoog een nieuw bericht van Jan Jansen voor je klaar.") ||
		strings.Contains(m.Subject+m.Text+m.HTML, "OSAW") || strings.Contains(m.Subject+m.Text+m.HTML, "Mijn antwoord") {
		t.Errorf("Dutch notification: %q\n%s", m.Subject, m.Text)
	}
}

// TestInbox: newest first, unread bold with a count, localized dates,
// twenty a page with "Meer berichten", and search on subject and sender.
func TestInbox(t *testing.T) {
	ra := newRealApp(t)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
	kim := ra.person(t, "kim@example.nl", false, "Kim", "", "Smit", "en")

	// 23 februari 2026: the first conversation; the 24 others follow a
	// minute apart, the last one from Kim's side.
	first := ra.compose(t, hr.u, "Verzuimmelding", "Eerste", jan.u.Email)
	for i := 1; i < 24; i++ {
		ra.clk.Add(time.Minute)
		ra.compose(t, hr.u, fmt.Sprintf("Bericht %02d", i), "Tekst", jan.u.Email)
	}
	ra.clk.Add(time.Minute)
	kimThread := ra.compose(t, hr.u, "Aan Kim", "Tekst", kim.u.Email)
	ra.reply(t, kim.u, kimThread, "Antwoord van Kim")
	ra.clk.Add(time.Minute)
	ra.reply(t, jan.u, first, "Antwoord van Jan") // brings the first one to the top
	ra.reply(t, jan.u, first, "Nog een")

	// The next day: sign in again (sessions idle out) and look.
	ra.clk.Add(24 * time.Hour)
	b := ra.signIn(t, hr.u)
	resp, page := b.get("/berichten")
	wantStatus(t, resp, http.StatusOK)
	if n := strings.Count(page, `<li id="thread-`); n != 20 {
		t.Fatalf("%d conversations on page 1, want 20", n)
	}
	wantContains(t, page,
		"Je hebt 3 ongelezen berichten.", "Berichten (3)",
		`<li id="thread-`+itoa(first)+`" class="thread thread--unread">`, `<strong class="thread__subject">Verzuimmelding</strong>`,
		`<span aria-hidden="true">2</span><span class="visually-hidden">2 ongelezen</span>`,
		`<span class="thread__org">OSAW</span>`, `<span class="thread__from">Jan Jansen</span>`,
		">23 februari</time>",
		`<li id="inbox-more" class="thread-list__more">`, `href="/berichten?na=1771837560000000000-7&amp;pagina=2"`, `hx-get="/berichten?na=1771837560000000000-7&amp;pagina=2"`,
		`hx-target="#inbox-more" hx-swap="outerHTML"`, ">Meer berichten</a>",
		`<label for="inbox-search">Zoeken</label>`, `hx-trigger="input changed delay:300ms, search, submit"`, `hx-push-url="true"`,
		`href="/berichten/nieuw"`, ">Nieuw bericht</a>")
	if strings.Index(page, "Verzuimmelding") > strings.Index(page, "Aan Kim") || strings.Index(page, "Aan Kim") > strings.Index(page, "Bericht 23") {
		t.Error("conversations are not newest first")
	}
	wantNotContains(t, page, "Bericht 03<", "Bericht 01<")
	wantContains(t, page, `<span class="thread__subject">Bericht 23</span>`)

	// "Meer berichten" with htmx: only the next rows, no page around them.
	resp, rows := b.get("/berichten?na=1771837560000000000-7&pagina=2", "HX-Request", "true", "HX-Target", "inbox-more")
	wantStatus(t, resp, http.StatusOK)
	if n := strings.Count(rows, `<li id="thread-`); n != 5 {
		t.Fatalf("%d conversations on page 2, want 5:\n%s", n, rows)
	}
	wantContains(t, rows, "Bericht 01", "Bericht 04")
	wantNotContains(t, rows, "<h1", "<html", "inbox-more", "<ul")
	// Without script, page 2 is a page.
	resp, page = b.get("/berichten?pagina=2")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page, "<html", "<h1>Berichten</h1>", "Bericht 01", `href="/berichten"`, ">Nieuwere berichten</a>")
	for _, bad := range []string{"x", "-3", "0", "99999999999999999999"} {
		resp, _ := b.get("/berichten?pagina=" + url.QueryEscape(bad))
		wantStatus(t, resp, http.StatusOK)
	}

	// Search on subject and on the other participant's name; with htmx the
	// results only.
	resp, page = b.get("/berichten?zoek=verzuim")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page, "Verzuimmelding", `value="verzuim"`)
	wantNotContains(t, page, "Bericht 23", "Aan Kim")
	resp, page = b.get("/berichten?zoek=Smit", "HX-Request", "true", "HX-Target", "inbox-results")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page, "Aan Kim", `<ul id="thread-list"`)
	wantNotContains(t, page, "Verzuimmelding", "<h1", "<html")
	resp, page = b.get("/berichten?zoek=bestaat+niet")
	wantStatus(t, resp, http.StatusOK)
	wantContains(t, page, "Geen berichten gevonden voor “bestaat niet”.")

	// English, and today's time (10:25 in Amsterdam).
	kb := ra.signIn(t, kim.u)
	ra.reply(t, hr.u, kimThread, "Vandaag")
	_, page = kb.get("/berichten")
	wantContains(t, page, "<h1>Messages</h1>", "You have 2 unread messages.", "Messages (2)", ">10:25</time>")
	ra.d.NewUpdate().Model((*db.Thread)(nil)).Set("last_message_at = ?", time.Date(2026, 2, 23, 12, 0, 0, 0, time.UTC)).Where("id = ?", kimThread).Exec(t.Context())
	_, page = kb.get("/berichten")
	wantContains(t, page, ">23 February</time>")
	ra.d.NewUpdate().Model((*db.Thread)(nil)).Set("last_message_at = ?", time.Date(2025, 12, 31, 12, 0, 0, 0, time.UTC)).Where("id = ?", kimThread).Exec(t.Context())
	_, page = kb.get("/berichten")
	wantContains(t, page, ">31 December 2025</time>")
}
