package e2e

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"dialoog/messaging"
)

// TestEarlierMessages: a conversation longer than a page opens with its
// newest messages and "Eerdere berichten tonen" above them. Pressing it
// with the keyboard puts the earlier messages in its place without
// loading the page again, and the focus goes to the first of them, so a
// keyboard or screen-reader user reads on from there instead of starting
// again at the top of the page.
func TestEarlierMessages(t *testing.T) {
	s, _, gw := startMailServer(t)
	hr := caseManager(t, s, gw)
	hr.click("Nieuw bericht")
	hr.step("compose", "Onderwerp")
	hr.fill("Aan", "medewerker@example.nl")
	hr.fill("Onderwerp", "Een lang gesprek")
	hr.fill("Bericht", "Het allereerste bericht.")
	hr.click("VERZEND")
	hr.waitJS("thread page", `/^\/berichten\/\d+$/.test(location.pathname)`)
	threadURL := s.BaseURL + evalJS[string](hr, `location.pathname`)

	// A page's worth of replies more, through the reply form's POST.
	cookies := map[string]string{"dialoog_session": hr.cookie("dialoog_session"), "dialoog_csrf": hr.cookie("dialoog_csrf")}
	for i := 1; i <= messaging.ThreadPageSize; i++ {
		form := url.Values{"_csrf": {cookies["dialoog_csrf"]}, "body": {fmt.Sprintf("Vervolgbericht %d.", i)}}
		if err := postNoFollow(threadURL, cookies, form); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
	}

	hr.run(chromedp.Navigate(threadURL))
	hr.waitJS("newest messages", `document.querySelector('#main .messages').innerText.includes('Vervolgbericht `+fmt.Sprint(messaging.ThreadPageSize)+`.')`)
	if hr.eval(`document.querySelector('#main .messages').innerText.includes('Het allereerste bericht.')`) {
		t.Fatal("the first message is on the first page of a conversation longer than a page")
	}
	hr.markPage()
	hr.step("earlier-link", "")

	// The keyboard: focus the link and press Enter.
	const link = `[...document.querySelectorAll('#main .messages a')].find(a => a.innerText.trim() === 'Eerdere berichten tonen')`
	if !hr.eval(`(() => { const a = ` + link + `; if (!a) return false; a.focus(); return document.activeElement === a; })()`) {
		t.Fatal(`no focusable "Eerdere berichten tonen" in the conversation`)
	}
	hr.run(chromedp.KeyEvent("\r"))
	hr.waitJS("earlier messages shown", `document.querySelector('#main .messages').innerText.includes('Het allereerste bericht.') && !(`+link+`)`)
	hr.stillSamePage()
	if got := evalJS[string](hr, `location.pathname + location.search`); strings.Contains(got, "eerder") {
		t.Fatalf("the address became %q: showing earlier messages is not a page of its own", got)
	}
	// The focus is on the first message shown, not lost to the page.
	hr.waitJS("focus on the first earlier message", `(() => {
  const el = document.activeElement, first = document.querySelector('#main .messages > li:not(.message--earlier)');
  return !!el && el === first && el.innerText.includes('Het allereerste bericht.');
})()`)
	if !hr.eval(`(() => { const r = document.activeElement.getBoundingClientRect(); return r.top < innerHeight && r.bottom > 0; })()`) {
		t.Fatal("the focused message is not in view")
	}
	hr.step("earlier-shown", "")
}
