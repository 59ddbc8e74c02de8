package handlers

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"dialoog/db"
	"dialoog/db/dbtest"
)

var (
	markReadForm = regexp.MustCompile(`(?s)<form class="mark-read"[^>]*>(.*?)</form>`)
	hiddenInput  = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)
	markReadVals = regexp.MustCompile(`<div id="read-\d+" hx-post="[^"]+"[^>]*hx-vals="([^"]*)"`)
)

// TestMarkReadOnlyWhatWasShown: reading a conversation marks the messages
// its page showed, not one that arrived after it was loaded: the sender's
// "gelezen" must not claim a message the reader never saw. Both the button
// without script and the request htmx sends carry what the page showed.
func TestMarkReadOnlyWhatWasShown(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
		jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		id := ra.compose(t, hr.u, "Verzuim", "Eerste", jan.u.Email)
		b := ra.signIn(t, jan.u)
		resp, page := b.get("/berichten/" + itoa(id))
		wantStatus(t, resp, http.StatusOK)
		// Hanna writes again while Jan's page is open.
		ra.reply(t, hr.u, id, "Tweede")

		// Without script: the button's form as the page has it.
		form := markReadForm.FindStringSubmatch(page)
		if form == nil {
			t.Fatalf("no mark-read form:\n%s", page)
		}
		vals := url.Values{}
		for _, in := range hiddenInput.FindAllStringSubmatch(form[1], -1) {
			vals.Set(in[1], html.UnescapeString(in[2]))
		}
		resp, _ = b.post("/berichten/"+itoa(id)+"/gelezen", vals)
		wantRedirect(t, resp, "/berichten/"+itoa(id))
		if n := ra.unread(t, jan.u); n != 1 {
			t.Fatalf("after the button %d unread, want 1 (the message the page did not show)", n)
		}

		// With htmx: the element that posts once the page is shown.
		resp, page = b.get("/berichten/" + itoa(id))
		wantStatus(t, resp, http.StatusOK)
		ra.reply(t, hr.u, id, "Derde")
		m := markReadVals.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("the mark-read element carries nothing:\n%s", page)
		}
		var hv map[string]string
		if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &hv); err != nil {
			t.Fatal(err)
		}
		vals = url.Values{}
		for k, v := range hv {
			vals.Set(k, v)
		}
		resp, _ = b.post("/berichten/"+itoa(id)+"/gelezen", vals, "HX-Request", "true")
		wantStatus(t, resp, http.StatusOK)
		if n := ra.unread(t, jan.u); n != 1 {
			t.Fatalf("after htmx's request %d unread, want 1", n)
		}
	})
}
