package e2e

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestLiveFocusOnDeletedMessage: a push that removes the element with the
// focus, a message deleted for everyone, leaves nothing to give the focus
// back to. It goes to the message after it, or the one before it when it
// was the last, and the live region says what happened, so a keyboard or
// screen-reader user keeps their place instead of starting again at the
// top of the page. The page that watches is the sender's second tab: a
// message read by anyone else can no longer be deleted for everyone, and
// another participant's open conversation reads every message it shows.
func TestLiveFocusOnDeletedMessage(t *testing.T) {
	s, _, gw := startMailServer(t)
	hr := caseManager(t, s, gw)
	hr.click("Nieuw bericht")
	hr.step("compose", "Onderwerp")
	hr.fill("Aan", "medewerker@example.nl")
	hr.fill("Onderwerp", "Drie berichten")
	hr.fill("Bericht", "Eerste bericht.")
	hr.click("VERZEND")
	hr.waitJS("thread page", `/^\/berichten\/\d+$/.test(location.pathname)`)
	threadURL := s.BaseURL + evalJS[string](hr, `location.pathname`)
	cookies := map[string]string{"dialoog_session": hr.cookie("dialoog_session"), "dialoog_csrf": hr.cookie("dialoog_csrf")}
	for _, body := range []string{"Tweede bericht.", "Derde bericht."} {
		if err := postNoFollow(threadURL, cookies, url.Values{"_csrf": {cookies["dialoog_csrf"]}, "body": {body}}); err != nil {
			t.Fatalf("reply %q: %v", body, err)
		}
	}

	tab := hr.newTab("intern-tab2-")
	tab.run(chromedp.Navigate(threadURL))
	tab.waitJS("three messages", `document.querySelectorAll('#main .messages > li.message').length === 3`)
	tab.waitLive()
	tab.markPage()
	messageID := func(text string) string {
		t.Helper()
		id := evalJS[string](tab, fmt.Sprintf(`(() => { const li = [...document.querySelectorAll('#main .messages > li.message')]
  .find(li => li.innerText.includes(%q)); return li ? li.id : ''; })()`, text))
		if id == "" {
			t.Fatalf("no message %q with an id", text)
		}
		return id
	}
	first, second, third := messageID("Eerste bericht."), messageID("Tweede bericht."), messageID("Derde bericht.")
	deleteForEveryone := func(id string) {
		t.Helper()
		action := evalJS[string](tab, `(() => { const f = document.getElementById(`+jsString(id)+`)
  .querySelector('form[action$="/verwijderen-voor-iedereen"]'); return f ? f.action : ''; })()`)
		if action == "" {
			t.Fatalf("message %s has no \"Verwijderen voor iedereen\"", id)
		}
		if err := postNoFollow(action, cookies, url.Values{"_csrf": {cookies["dialoog_csrf"]}}); err != nil {
			t.Fatalf("delete %s for everyone: %v", id, err)
		}
		tab.waitJS("message "+id+" gone", `!document.getElementById(`+jsString(id)+`)`)
		tab.stillSamePage()
	}
	focused := func() string {
		return evalJS[string](tab, `(() => { const f = document.activeElement; return f ? (f.id || f.outerHTML.slice(0, 80)) : 'nothing'; })()`)
	}

	// 1. The keyboard on the middle message's menu; the sender deletes that
	// message in her other tab. The focus goes to the message after it.
	if !tab.eval(`(() => { const s = document.getElementById(` + jsString(second) + `).querySelector('.message__menu summary');
  if (!s) return false; s.focus(); return document.activeElement === s; })()`) {
		t.Fatal("could not focus the middle message's menu")
	}
	deleteForEveryone(second)
	if got := focused(); got != third {
		t.Fatalf("after the middle message was deleted the focus is on %q, want the next message %s", got, third)
	}
	tab.waitJS("deletion announced", `document.getElementById('live-status').innerText.includes('Bericht verwijderd')`)

	// 2. The focus is now on the last message itself (given by script); it
	// is deleted too: the focus goes to the message before it.
	if got := focused(); got != third {
		t.Fatalf("the focus is on %q, want the last message %s", got, third)
	}
	deleteForEveryone(third)
	if got := focused(); got != first {
		t.Fatalf("after the last message was deleted the focus is on %q, want the previous message %s", got, first)
	}
	// Focusable for the script only: no message became a tab stop.
	if n := evalJS[float64](tab, `[...document.querySelectorAll('#main .messages > li')].filter(li => li.tabIndex >= 0).length`); n > 0 {
		t.Errorf("%v messages are tab stops", n)
	}
}
