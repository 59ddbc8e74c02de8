package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"dialoog/db"
)

// TestMessagingXSS: whatever people type (subject, body, profile names,
// file names) is shown as text in the inbox and the conversation, and only
// http(s) addresses become links.
func TestMessagingXSS(t *testing.T) {
	ra := newRealApp(t)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
	// The profile step refuses < and >; stored names from elsewhere (an
	// import, an older version) must still be inert.
	ra.d.NewUpdate().Model((*db.User)(nil)).Set("first_name = ?", "<script>alert(1)</script>").Where("id = ?", hr.u.ID).Exec(t.Context())
	hr.u.FirstName = "<script>alert(1)</script>"

	file := ra.upload(t, hr.u, `"><img src=x onerror=alert(3)>.pdf`, pdfFile)
	threadID := ra.compose(t, hr.u, `<script>alert("onderwerp")</script>`,
		"<img src=x onerror=alert(1)>\n\"><script>alert(2)</script>\njavascript:alert(1)\n"+
			`<a href="javascript:alert(4)">klik</a>`+"\nhttps://example.nl/pad?a=1&b=2\"onmouseover=\"alert(5)\nhttp://evil.example/<script>",
		jan.u.Email)
	ra.reply(t, hr.u, threadID, "bijlage", file)

	_, inbox := jan.b.get("/berichten")
	_, thread := jan.b.get("/berichten/" + itoa(threadID))
	_, mine := hr.b.get("/berichten/" + itoa(threadID))
	for name, page := range map[string]string{"inbox": inbox, "thread": thread, "sender's thread": mine} {
		t.Run(name, func(t *testing.T) {
			wantNotContains(t, page, "<script>alert", "<img src=x", `href="javascript:`, `" onmouseover`, `"onmouseover="`, `<a href="klik`)
			wantContains(t, page, "&lt;script&gt;alert(1)&lt;/script&gt;")
		})
	}
	wantContains(t, inbox, `&lt;script&gt;alert(&#34;onderwerp&#34;)&lt;/script&gt;`)
	wantContains(t, thread,
		`<h1>&lt;script&gt;alert(&#34;onderwerp&#34;)&lt;/script&gt;</h1>`,
		"&lt;img src=x onerror=alert(1)&gt;", "&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;", "\njavascript:alert(1)\n",
		`&lt;a href=&#34;javascript:alert(4)&#34;&gt;klik&lt;/a&gt;`,
		`<a href="https://example.nl/pad?a=1&amp;b=2" rel="noopener noreferrer nofollow" target="_blank">https://example.nl/pad?a=1&amp;b=2</a>&#34;onmouseover=&#34;alert(5)`,
		`<a href="http://evil.example/" rel="noopener noreferrer nofollow" target="_blank">http://evil.example/</a>&lt;script&gt;`,
		`>&gt;&lt;img src=x onerror=alert(3)&gt;.pdf</a>`)
}

// TestMessagingCSRF: every state-changing messaging route refuses a post
// without the token, before anything happens.
func TestMessagingCSRF(t *testing.T) {
	ra := newRealApp(t)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
	threadID := ra.compose(t, hr.u, "Onderwerp", "Tekst", jan.u.Email, "nieuw@example.nl")
	msgID := ra.lastMessageID(t, threadID)
	invited := ra.userByEmail(t, "nieuw@example.nl")
	tp := "/berichten/" + itoa(threadID)
	hr.b.csrf() // the browser has the cookie; only the repeated token is missing

	for _, path := range []string{
		"/berichten/nieuw", tp, tp + "/gelezen", tp + "/verwijderen", tp + "/deelnemers",
		tp + "/deelnemers/" + itoa(invited.ID) + "/uitnodiging",
		tp + "/bericht/" + itoa(msgID) + "/verwijderen-voor-iedereen", tp + "/bericht/" + itoa(msgID) + "/verwijderen",
		"/bijlagen",
	} {
		t.Run(path, func(t *testing.T) {
			resp, page := hr.b.postNoCSRF(path, url.Values{"to": {jan.u.Email}, "subject": {"S"}, "body": {"B"}, "email": {"x@example.nl"}})
			wantStatus(t, resp, http.StatusForbidden)
			wantContains(t, page, "Dit formulier is verlopen.")
			resp, _ = hr.b.postMultipart(path, url.Values{"body": {"B"}}, []testFile{{"file", "a.pdf", pdfFile}}, true)
			wantStatus(t, resp, http.StatusForbidden)
		})
	}
	// A wrong token in the header is refused too.
	resp, _ := hr.b.do(http.MethodPost, tp+"/gelezen", url.Values{}, "X-Csrf-Token", strings.Repeat("A", 43))
	wantStatus(t, resp, http.StatusForbidden)

	_, page := jan.b.get(tp)
	wantContains(t, page, "Tekst")
	if n := ra.unread(t, jan.u); n != 1 {
		t.Errorf("jan has %d unread, want 1", n)
	}
	_, page = hr.b.get("/berichten")
	if strings.Count(page, `<li id="thread-`) != 1 {
		t.Errorf("a refused post changed the inbox:\n%s", page)
	}
}

// TestMessageValidation: a refused message comes back with every message
// beside its field and at the top, and with everything typed.
func TestMessageValidation(t *testing.T) {
	ra := newRealApp(t)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
	pdf := ra.upload(t, hr.u, "Bijlage.pdf", pdfFile)

	long := strings.Repeat("Lange tekst. ", 1600) // over 20.000 characters
	resp, page := hr.b.post("/berichten/nieuw", url.Values{"to": {"jan@, piet@example.nl"}, "subject": {""}, "body": {long}, "attachment": {itoa(pdf)}},
		"HX-Request", "true")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page,
		`<div id="compose-errors" class="error-summary" role="alert"`,
		`<a href="#compose-to">Aan: „jan@” is geen geldig mailadres.`,
		`<a href="#compose-subject">Onderwerp: Vul een onderwerp in.</a>`,
		`<a href="#compose-body">Bericht: Het bericht is te lang: gebruik maximaal 20.000 tekens.</a>`,
		`<p id="compose-to-error" class="field-error">`, `value="jan@, piet@example.nl"`, `aria-invalid="true"`,
		">"+strings.TrimSpace(long)[:40], "20.800 van 20.000 tekens",
		`<span class="chip__name">Bijlage.pdf</span>`, `name="attachment" value="`+itoa(pdf)+`"`)
	wantNotContains(t, page, "<html") // an htmx post gets the content only

	// Subject on two lines, too many recipients.
	var many []string
	for i := range 21 {
		many = append(many, "p"+itoa(int64(i))+"@example.nl")
	}
	resp, page = hr.b.post("/berichten/nieuw", url.Values{"to": {strings.Join(many, ", ")}, "subject": {strings.Repeat("x", 201)}, "body": {"b"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, "Je kunt een bericht aan maximaal 20 mensen tegelijk sturen.", "Het onderwerp is te lang")

	// An external user only writes to people they know, and is told so.
	_, page = jan.b.get("/berichten/nieuw")
	wantContains(t, page, `<p class="notice">Je kunt alleen een bericht sturen aan medewerkers`)
	resp, page = jan.b.post("/berichten/nieuw", url.Values{"to": {"onbekend@example.nl"}, "subject": {"S"}, "body": {"B"}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, "Aan: Je kunt alleen een bericht sturen aan medewerkers van een organisatie met wie je al berichten uitwisselt.")
	threadID := ra.compose(t, hr.u, "Eerste", "x", jan.u.Email)
	_, page = jan.b.get("/berichten/nieuw")
	wantContains(t, page, `list="compose-contacts"`, `<datalist id="compose-contacts"><option value="hr@osaw.nl"></option></datalist>`)
	resp, _ = jan.b.post("/berichten/nieuw", url.Values{"to": {"hr@osaw.nl"}, "subject": {"Vraag"}, "body": {"Mag ik iets vragen?"}})
	threadIDFrom(t, resp)

	// A reply that fails keeps the text, with the form open.
	tp := "/berichten/" + itoa(threadID)
	resp, page = jan.b.post(tp, url.Values{"body": {"   "}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, "<h1>Eerste</h1>", `<label for="reply-body">Bericht</label>`, "Bericht: Schrijf een bericht.", `aria-invalid="true"`)
	resp, page = jan.b.post(tp, url.Values{"body": {long}})
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	wantContains(t, page, ">"+strings.TrimSpace(long)[:40], "Het bericht is te lang")
}

// TestComposeNamesTheWrongAddress: the compose form's error names the
// address that is wrong, escaped, in the writer's language, and keeps
// what was typed.
func TestComposeNamesTheWrongAddress(t *testing.T) {
	ra := newRealApp(t)
	for _, c := range []struct{ lang, want string }{
		{"nl", `„&lt;b&gt;@x” is geen geldig mailadres.`},
		{"en", `“&lt;b&gt;@x” is not a valid email address.`},
	} {
		hr := ra.person(t, "hr-"+c.lang+"@osaw.nl", true, "Hanna", "", "Vries", c.lang)
		for _, hx := range []bool{false, true} {
			var headers []string
			if hx {
				headers = []string{"HX-Request", "true"}
			}
			resp, page := hr.b.post("/berichten/nieuw", url.Values{"to": {"jan@example.nl; <b>@x"}, "subject": {"s"}, "body": {"b"}}, headers...)
			wantStatus(t, resp, http.StatusUnprocessableEntity)
			wantContains(t, page, c.want, `value="jan@example.nl; &lt;b&gt;@x"`)
		}
	}
}
