package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPhoneLayout is a newcomer on a phone: the number typed at the SMS
// step is shown in full and comes back after "Telefoonnummer wijzigen";
// then, at 360 and 320 px wide and in both languages, the signed-in header
// is one row (at most 64 px) with Berichten in sight and the account behind
// a menu, nothing scrolls sideways, every control is at least 44 px high,
// and in a conversation REAGEER is the first and largest action while a
// message's own actions wait in a small menu. The case manager's desktop,
// zoomed to 400 %, must reflow the same way (WCAG 1.4.10).
func TestPhoneLayout(t *testing.T) {
	s, smtpSrv, gw := startMailServer(t)
	hr := caseManager(t, s, gw)
	hr.click("Nieuw bericht")
	hr.step("compose", "Onderwerp")
	hr.fill("Aan", "werknemer@example.nl")
	hr.fill("Onderwerp", "Op de telefoon")
	hr.fill("Bericht", "Kun je dit lezen?")
	hr.click("VERZEND")
	hr.waitJS("thread page", `/^\/berichten\/\d+$/.test(location.pathname)`)
	threadURL := evalJS[string](hr, `location.href`)

	emp := openInvitation(t, s, smtpSrv, "werknemer@example.nl", 360, 740)
	emp.termsAndPassword()

	// The SMS step: a typo (…79 for …78) is visible and corrected in place.
	emp.step("sms", "Mobiel telefoonnummer")
	emp.fill("Mobiel telefoonnummer", "0612345679")
	emp.submit()
	emp.step("sms-code", "Bevestigingscode")
	if txt := emp.text(""); !strings.Contains(txt, "gestuurd naar 06 12 34 56 79.") || strings.Contains(txt, "••") {
		t.Fatalf("the SMS step does not show the typed number:\n%s", txt)
	}
	emp.click("Telefoonnummer wijzigen")
	emp.step("sms-change", "Mobiel telefoonnummer")
	if v := evalJS[string](emp, control("Mobiel telefoonnummer")+`.value`); v != "06 12 34 56 79" {
		t.Fatalf("after Telefoonnummer wijzigen the field holds %q, want the number as sent to", v)
	}
	emp.fill("Mobiel telefoonnummer", "06 12 34 56 78")
	emp.submit()
	text := gw.WaitText(t, "+31612345678", 0, 20*time.Second)
	emp.step("sms-code-2", "Bevestigingscode")
	emp.fill("Bevestigingscode", sixDigit.FindString(text.Body))
	emp.submit()
	emp.step("app-offered", "Token")
	emp.click("Overslaan")
	emp.recoveryAndProfile()

	// A reply of one's own, so that a message with "Verwijderen voor
	// iedereen" is on the page too: not read yet, as the case manager is
	// no longer looking at the conversation.
	hr.run(chromedp.Navigate(s.BaseURL + "/berichten"))
	hr.waitPath("/berichten")
	emp.run(chromedp.Navigate(threadURL))
	emp.step("thread", "")
	emp.click("REAGEER")
	emp.step("reply", "Bericht")
	emp.fill("Bericht", "Ja, dat gaat goed.")
	emp.click("VERZEND")
	emp.waitJS("reply shown", `document.querySelector('main').innerText.includes('Ja, dat gaat goed.')`)

	nl := phoneWords{menu: "Menu", logout: "Uitloggen", account: "Mijn account", reply: "REAGEER", more: "Meer",
		remove: "Verwijderen uit mijn berichten", everyone: "Verwijderen voor iedereen", removeThread: "Gesprek verwijderen"}
	en := phoneWords{menu: "Menu", logout: "Log out", account: "My account", reply: "REPLY", more: "More",
		remove: "Remove from my messages", everyone: "Delete for everyone", removeThread: "Delete conversation"}
	for _, lang := range []struct {
		name  string
		words phoneWords
	}{{"nl", nl}, {"en", en}} {
		if lang.name == "en" {
			emp.click("English")
			emp.waitJS("English", langIs("en"))
		}
		for _, width := range []int64{360, 320} {
			name := fmt.Sprintf("%s-%d", lang.name, width)
			emp.run(chromedp.EmulateViewport(width, 740, chromedp.EmulateMobile, chromedp.EmulateTouch))
			emp.run(chromedp.Navigate(s.BaseURL + "/berichten"))
			emp.waitPath("/berichten")
			emp.layoutChecks("inbox-"+name, lang.words)
			emp.run(chromedp.Navigate(threadURL))
			emp.waitJS("thread", `!!document.querySelector('main .message')`)
			emp.layoutChecks("thread-"+name, lang.words)
			emp.threadActionChecks("thread-"+name, lang.words, true)
		}
	}

	// 400 % zoom on the 1280 x 800 desktop: 320 x 200 CSS pixels at four
	// device pixels each, which is what the browser's zoom does to the
	// layout viewport (no phone emulation: a desktop browser, zoomed).
	hr.run(chromedp.EmulateViewport(320, 200, chromedp.EmulateScale(4)))
	if w := evalJS[float64](hr, `window.innerWidth`); w != 320 {
		t.Fatalf("zoomed viewport is %v CSS px wide, want 320", w)
	}
	if r := evalJS[float64](hr, `window.devicePixelRatio`); r != 4 {
		t.Fatalf("device pixel ratio %v, want 4", r)
	}
	hr.run(chromedp.Navigate(s.BaseURL + "/berichten"))
	hr.waitPath("/berichten")
	hr.layoutChecks("zoom-inbox", nl)
	hr.run(chromedp.Navigate(threadURL))
	hr.waitJS("thread", `!!document.querySelector('main .message')`)
	hr.layoutChecks("zoom-thread", nl)
	// Read by now, so the case manager's own message can only be
	// removed from their box.
	hr.threadActionChecks("zoom-thread", nl, false)
}

// phoneWords are the labels the checks look for, per language.
type phoneWords struct {
	menu, logout, account, reply, more, remove, everyone, removeThread string
}

// layoutChecks measures the page as it is: the header's height, sideways
// scrolling with the account menu closed and open, the inbox link in
// sight, the height of every control, and axe-core (no violation at all).
func (b *browser) layoutChecks(name string, w phoneWords) {
	b.t.Helper()
	if h := evalJS[float64](b, `document.querySelector('.site-header').getBoundingClientRect().height`); h > 64 {
		b.t.Errorf("%s: header is %.0f px high, want at most 64", name, h)
	}
	b.noSidewaysScroll(name)
	if !b.eval(`(() => { const a = document.getElementById('inbox-link'); if (!a || !a.checkVisibility()) return false;
  const r = a.getBoundingClientRect(); return r.left >= 0 && r.right <= window.innerWidth && r.top >= 0; })()`) {
		b.t.Errorf("%s: Berichten (#inbox-link) is not in sight", name)
	}
	if b.visible(w.logout) || b.visible(w.account) {
		b.t.Errorf("%s: the account actions are in the header instead of behind the menu", name)
	}
	b.smallTargets(name)
	b.strictA11y(name)
	b.shot(name)

	// The menu open: its items in sight, nothing wider than the screen.
	b.openMenu("header .menu")
	if !b.visible(w.logout) {
		b.t.Errorf("%s: %s not shown by the menu", name, w.logout)
	}
	if !b.eval(`(() => { const r = document.querySelector('header .menu__panel').getBoundingClientRect();
  return r.left >= 0 && r.right <= window.innerWidth; })()`) {
		b.t.Errorf("%s: the open account menu runs off the screen", name)
	}
	b.noSidewaysScroll(name + " menu open")
	b.smallTargets(name + " menu open")
	b.strictA11y(name + " menu open")
	b.shot(name + "-menu")
	b.closeMenus()
}

// threadActionChecks: REAGEER is the first and largest action in main, a
// message's removal waits in its "Meer" menu, and opening that menu shows
// its actions in sight.
func (b *browser) threadActionChecks(name string, w phoneWords, everyone bool) {
	b.t.Helper()
	type action struct {
		Text          string
		Area, Top     float64
		Width, Height float64
	}
	actions := evalJS[[]action](b, `[...document.querySelectorAll('main .button, main summary.menu__button')]
  .filter(e => e.checkVisibility())
  .map(e => { const r = e.getBoundingClientRect(); return {text: e.innerText.trim() || e.outerHTML.slice(0, 120), area: r.width * r.height, top: r.top + scrollY, width: r.width, height: r.height}; })`)
	reply := -1
	for i, a := range actions {
		if a.Text == w.reply {
			reply = i
			break
		}
	}
	if reply < 0 {
		b.t.Fatalf("%s: no visible %s among %+v", name, w.reply, actions)
	}
	r := actions[reply]
	for i, a := range actions {
		if i == reply {
			continue
		}
		if a.Area >= r.Area || a.Height > r.Height {
			b.t.Errorf("%s: %q (%.0f x %.0f) is as prominent as %s (%.0f x %.0f)", name, a.Text, a.Width, a.Height, w.reply, r.Width, r.Height)
		}
		if !strings.HasPrefix(a.Text, w.more) && a.Top < r.Top {
			b.t.Errorf("%s: %q comes before %s", name, a.Text, w.reply)
		}
		if a.Text == w.remove || a.Text == w.everyone {
			b.t.Errorf("%s: %q is a button on the page, not in the message's menu", name, a.Text)
		}
	}
	if !b.visible(w.removeThread) {
		b.t.Errorf("%s: %s not on the page", name, w.removeThread)
	}
	// An own message has its removal(s) in its menu.
	b.openMenu("main .message--mine .menu")
	items := []string{w.remove}
	if everyone {
		items = append(items, w.everyone)
	}
	for _, item := range items {
		if !b.visible(item) {
			b.t.Errorf("%s: %q not in the message's menu", name, item)
		}
	}
	if !b.eval(`(() => { const r = document.querySelector('main .message--mine .menu__panel').getBoundingClientRect();
  return r.left >= 0 && r.right <= window.innerWidth; })()`) {
		b.t.Errorf("%s: the open message menu runs off the screen", name)
	}
	b.noSidewaysScroll(name + " message menu open")
	b.smallTargets(name + " message menu open")
	b.strictA11y(name + " message menu open")
	b.shot(name + "-message-menu")
	b.closeMenus()
}

// openMenu opens the first <details> matching sel by its button, as a
// person does.
func (b *browser) openMenu(sel string) {
	b.t.Helper()
	if !b.eval(fmt.Sprintf(`(() => { const d = document.querySelector(%q); if (!d) return false;
  d.querySelector('summary').click(); return d.open; })()`, sel)) {
		b.t.Fatalf("menu %s does not open", sel)
	}
}

// visible tells whether a button or link with this text is shown.
func (b *browser) visible(text string) bool {
	b.t.Helper()
	return b.eval(fmt.Sprintf(`[...document.querySelectorAll('button, a, summary')]
  .some(e => e.innerText.trim() === %q && e.checkVisibility())`, text))
}

func (b *browser) noSidewaysScroll(name string) {
	b.t.Helper()
	if overflow := evalJS[float64](b, `document.documentElement.scrollWidth - window.innerWidth`); overflow > 0 {
		b.t.Errorf("%s: page is %.0f px wider than the %v px viewport", name, overflow, evalJS[float64](b, `window.innerWidth`))
	}
}

// smallTargets fails on a visible control in the header or main that is
// less than 44 px high (links inside running text excepted).
func (b *browser) smallTargets(name string) {
	b.t.Helper()
	small := evalJS[[]string](b, `[...document.querySelectorAll('header a, header button, header summary, main button, main summary, main .button, main .menu__item')]
  .filter(e => e.checkVisibility() && e.getBoundingClientRect().height < 44)
  .map(e => e.tagName + ' ' + e.innerText.trim() + ' ' + Math.round(e.getBoundingClientRect().height))`)
	if len(small) > 0 {
		b.t.Errorf("%s: touch targets under 44 px: %v", name, small)
	}
}

// strictA11y runs axe-core (WCAG 2.x A and AA rules) on the current page
// and fails on any violation, minor ones included. In a browser without
// page script, axe-core (which needs timers) gets script for the scan; the
// page's own scripts were skipped when it loaded and do not run afterwards.
func (b *browser) strictA11y(name string) {
	b.t.Helper()
	if b.noScript {
		b.setScript(true)
		defer b.setScript(false)
	}
	bad, minor, err := a11yScan(b.ctx)
	if err != nil {
		b.t.Fatalf("accessibility scan of %s: %v", name, err)
	}
	if all := append(bad, minor...); len(all) > 0 {
		b.t.Errorf("%s: accessibility violations:\n%s", name, strings.Join(all, "\n"))
	}
}

func (b *browser) closeMenus() {
	b.t.Helper()
	b.eval(`(document.querySelectorAll('details.menu[open]').forEach(d => d.open = false), true)`)
}
