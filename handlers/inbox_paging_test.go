package handlers

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
)

var (
	threadRowID = regexp.MustCompile(`<li id="thread-(\d+)"`)
	moreLink    = regexp.MustCompile(`<li id="inbox-more"[^>]*>\s*<a[^>]*hx-get="([^"]+)"`)
)

// TestInboxMoreAfterNewMessage: "Meer berichten" continues after the last
// conversation the page showed, also when a message moved a conversation
// to the top in between (the live update put it on the open page) and
// when conversations share their time: no conversation shows twice and
// none is skipped.
func TestInboxMoreAfterNewMessage(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ra := newRealAppOn(t, d)
		hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
		jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
		var ids []int64
		for i := 0; i < 25; i++ {
			if i%3 == 0 { // three at a time share their time, to the nanosecond
				ra.clk.Add(time.Minute + 123456789*time.Nanosecond)
			}
			ids = append(ids, ra.compose(t, hr.u, fmt.Sprintf("Bericht %02d", i), "Tekst", jan.u.Email))
		}
		b := ra.signIn(t, hr.u)
		resp, page := b.get("/berichten")
		wantStatus(t, resp, http.StatusOK)
		first := threadRowID.FindAllStringSubmatch(page, -1)
		m := moreLink.FindStringSubmatch(page)
		if len(first) != 20 || m == nil {
			t.Fatalf("page 1: %d conversations, more link %v", len(first), m)
		}
		// The oldest conversation gets an answer: it moves to the top.
		ra.reply(t, jan.u, ids[0], "Antwoord")
		resp, rows := b.get(html.UnescapeString(m[1]), "HX-Request", "true", "HX-Target", "inbox-more")
		wantStatus(t, resp, http.StatusOK)
		seen := map[string]int{}
		for _, r := range append(first, threadRowID.FindAllStringSubmatch(rows, -1)...) {
			seen[r[1]]++
		}
		for _, id := range ids[1:] {
			if n := seen[itoa(id)]; n != 1 {
				t.Errorf("conversation %d shown %d times on pages 1 and 2", id, n)
			}
		}
	})
}
