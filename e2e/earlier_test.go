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
	hr.replyPage(threadURL)

	hr.run(chromedp.Navigate(threadURL))
	hr.waitJS("newest messages", `document.querySelector('#main .messages').innerText.includes('Vervolgbericht `+fmt.Sprint(messaging.ThreadPageSize)+`.')`)
	if hr.eval(`document.querySelector('#main .messages').innerText.includes('Het allereerste bericht.')`) {
		t.Fatal("the first message is on the first page of a conversation longer than a page")
	}
	hr.markPage()
	hr.step("earlier-link", "")

	// The keyboard: focus the link and press Enter. The focus goes to the
	// first message shown, not lost to the page.
	hr.showEarlier()
	hr.stillSamePage()
	if got := evalJS[string](hr, `location.pathname + location.search`); strings.Contains(got, "eerder") {
		t.Fatalf("the address became %q: showing earlier messages is not a page of its own", got)
	}
	if !hr.eval(`(() => { const r = document.activeElement.getBoundingClientRect(); return r.top < innerHeight && r.bottom > 0; })()`) {
		t.Fatal("the focused message is not in view")
	}
	hr.step("earlier-shown", "")
}

// replyPage adds a page's worth of replies (messaging.ThreadPageSize) to the
// conversation at threadURL, through the reply form's POST, so that its
// first message is no longer on its first page.
func (b *browser) replyPage(threadURL string) {
	b.t.Helper()
	cookies := map[string]string{"dialoog_session": b.cookie("dialoog_session"), "dialoog_csrf": b.cookie("dialoog_csrf")}
	for i := 1; i <= messaging.ThreadPageSize; i++ {
		form := url.Values{"_csrf": {cookies["dialoog_csrf"]}, "body": {fmt.Sprintf("Vervolgbericht %d.", i)}}
		if err := postNoFollow(threadURL, cookies, form); err != nil {
			b.t.Fatalf("reply %d: %v", i, err)
		}
	}
}

// showEarlier presses "Eerdere berichten tonen" with the keyboard and
// returns the id of the first message shown, which then has the focus.
func (b *browser) showEarlier() string {
	b.t.Helper()
	const link = `[...document.querySelectorAll('#main .messages a')].find(a => a.innerText.trim() === 'Eerdere berichten tonen')`
	if !b.eval(`(() => { const a = ` + link + `; if (!a) return false; a.focus(); return document.activeElement === a; })()`) {
		b.t.Fatal(`no focusable "Eerdere berichten tonen" in the conversation`)
	}
	b.run(chromedp.KeyEvent("\r"))
	b.waitJS("earlier messages shown", `document.querySelector('#main .messages').innerText.includes('Het allereerste bericht.') && !(`+link+`)`)
	b.waitJS("focus on the first earlier message", `(() => {
  const el = document.activeElement, first = document.querySelector('#main .messages > li:not(.message--earlier)');
  return !!el && el === first && el.innerText.includes('Het allereerste bericht.');
})()`)
	return evalJS[string](b, `document.activeElement.id`)
}

// TestLiveFocusOnReplacedMessage: a push that replaces the element with the
// focus leaves the focus on its replacement, also when that is no control
// (a message, which has the focus after "Eerdere berichten tonen"). The
// case manager reads on from the first message of a long conversation;
// the employee opens it, and every message gets its read receipt through
// a push that replaces it. A keyboard or screen-reader user stays where
// they were instead of starting again at the top of the page.
func TestLiveFocusOnReplacedMessage(t *testing.T) {
	s, smtpSrv, gw := startMailServer(t)
	hr := caseManager(t, s, gw)
	hr.click("Nieuw bericht")
	hr.step("compose", "Onderwerp")
	hr.fill("Aan", "werknemer@example.nl")
	hr.fill("Onderwerp", "Een lang gesprek")
	hr.fill("Bericht", "Het allereerste bericht.")
	hr.click("VERZEND")
	hr.waitJS("thread page", `/^\/berichten\/\d+$/.test(location.pathname)`)
	path := evalJS[string](hr, `location.pathname`)
	hr.replyPage(s.BaseURL + path)

	emp := openInvitation(t, s, smtpSrv, "werknemer@example.nl", 360, 740)
	emp.name = "extern-"
	emp.termsAndPassword()
	emp.smsRoute(gw, "+31622222222")
	emp.recoveryAndProfileAs("J.", "Jan", "van der", "Berg")

	hr.run(chromedp.Navigate(s.BaseURL + path))
	hr.waitLive()
	hr.markPage()
	first := hr.showEarlier()
	if first == "" {
		t.Fatal("the first message shown has no id: a push cannot replace it")
	}
	byID := `document.getElementById(` + jsString(first) + `)`
	// The element the focus is on now, to tell it from its replacement.
	if !hr.eval(`(window.__focusedBefore = document.activeElement) === ` + byID) {
		t.Fatal("the focus is not on the first message shown")
	}

	emp.click("Een lang gesprek")
	emp.waitPath(path)
	const read = "Gelezen door Jan van der Berg"
	hr.waitJS("read receipt on the focused message", byID+`.innerText.includes(`+jsString(read)+`)`)
	hr.waitJS("read receipt on the newest message", `[...document.querySelectorAll('#main .messages > li.message')].pop().innerText.includes(`+jsString(read)+`)`)
	hr.stillSamePage()
	if hr.eval(byID + ` === window.__focusedBefore`) {
		t.Fatal("the focused message was not replaced by the push: this test proves nothing")
	}
	if !hr.eval(`document.activeElement === ` + byID) {
		t.Fatalf("after the pushes the focus is on %q, want the message %s that replaced the focused one",
			evalJS[string](hr, `(() => { const f = document.activeElement; return f ? f.outerHTML.slice(0, 80) : 'nothing'; })()`), first)
	}
	// Focusable for the script only: no message became a tab stop.
	if n := evalJS[float64](hr, `[...document.querySelectorAll('#main .messages > li')].filter(li => li.tabIndex >= 0).length`); n > 0 {
		t.Errorf("%v messages are tab stops", n)
	}
}
