package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestAccountLife walks what a person does with their account after the
// first visit, on a phone (360 px) beside a desktop: switch on the absence
// reply in Mijn account and see the banner in Berichten; the case manager
// writes and gets the auto-reply live; the person logs in on a desktop too,
// then ends that session from the phone and its open page loses its live
// connection at once; finally the person switches the language to English.
func TestAccountLife(t *testing.T) {
	s, smtpSrv, gw := startMailServer(t)
	hr := caseManager(t, s, gw)
	const (
		phone    = "+31633333333"
		awayText = "Ik ben deze week met verlof."
	)
	emp := openInvitation(t, s, smtpSrv, "werknemer@example.nl", 360, 740)
	emp.name = "extern-"
	emp.termsAndPassword()
	emp.smsRoute(gw, phone)
	emp.recoveryAndProfile()

	// 1. Absence on, from Mijn account.
	emp.run(chromedp.Navigate(s.BaseURL + "/account"))
	emp.step("account", "Automatisch antwoorden bij afwezigheid")
	emp.check("Automatisch antwoorden bij afwezigheid")
	emp.fill("Bericht bij afwezigheid", awayText)
	emp.click("Afwezigheid opslaan")
	emp.waitJS("absence saved", `document.querySelector('main').innerText.includes('Je afwezigheid is opgeslagen.')`)
	emp.step("account-away-saved", "")
	emp.run(chromedp.Navigate(s.BaseURL + "/berichten"))
	emp.waitJS("absence banner", `document.querySelector('main').innerText.includes('Je afwezigheidsbericht staat aan.')`)
	emp.step("inbox-away-banner", "")

	// 2. The case manager writes and sees the auto-reply arrive live.
	hr.waitLive()
	hr.click("Nieuw bericht")
	hr.step("compose", "Onderwerp")
	hr.fill("Aan", "werknemer@example.nl")
	hr.fill("Onderwerp", "Even bijpraten")
	hr.fill("Bericht", "Hoe gaat het met je?")
	hr.click("VERZEND")
	hr.waitJS("thread page", `/^\/berichten\/\d+$/.test(location.pathname)`)
	hr.waitJS("auto-reply", fmt.Sprintf(`[...document.querySelectorAll('#main .message--auto')].some(m => m.innerText.includes(%q))`, awayText))
	hr.shot("auto-reply")

	// 3. A second session on a desktop, ended from the phone.
	desk := &browser{t: t, ctx: newBrowser(t, 1280, 800), name: "extern-desktop-"}
	desk.run(chromedp.Navigate(s.BaseURL + "/inloggen"))
	desk.login(t, gw, "werknemer@example.nl", phone)
	desk.waitPath("/berichten")
	desk.waitLive()

	emp.run(chromedp.Navigate(s.BaseURL + "/account/sessies"))
	emp.step("sessions", "")
	if n := emp.count("main .session"); n != 2 {
		t.Fatalf("%d sessions listed, want 2", n)
	}
	if !emp.eval(`document.querySelector('main .session').innerText.includes('dit apparaat')`) {
		t.Error(`the first session is not "dit apparaat"`)
	}
	emp.click("Afmelden")
	emp.waitJS("session ended", `document.querySelector('main').innerText.includes('De sessie is afgemeld.')`)
	// The desktop's open page does not keep showing the box: it leaves
	// for the login page by itself, which says why.
	desk.waitPath("/inloggen")
	desk.waitJS("the reason", `document.getElementById('main').innerText.includes('Je bent uitgelogd omdat deze sessie is beëindigd')`)
	if desk.eval(`document.body.innerText.includes('Hoe gaat het met je?')`) {
		t.Error("the ended session's page still shows a message")
	}

	// 4. English.
	emp.run(chromedp.Navigate(s.BaseURL + "/account"))
	emp.step("account-again", "Taal van Dialoog")
	emp.fill("Taal van Dialoog", "en")
	emp.click("Taal opslaan")
	emp.waitJS("English", `(() => { const h = document.querySelector('main h1'); return !!h && h.innerText.trim() === 'My account'; })()`)
	if lang := evalJS[string](emp, `document.documentElement.lang`); lang != "en" {
		t.Errorf("html lang %q after choosing English", lang)
	}
	emp.step("account-english", "")
	if strings.Contains(evalJS[string](emp, `document.body.innerText`), "Mijn account") {
		t.Error("Dutch left on the English page")
	}
}
