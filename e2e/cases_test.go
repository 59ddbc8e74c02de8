package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestCaseListAndClosingLive: Hanna puts her conversation with an employee
// in a new case, finds it on "Dossiers" (open, then searched by the
// employee's name) and closes it; the employee, with the conversation open
// on a phone, loses REAGEER and reads that it is read-only without a page
// load, and gets REAGEER back when Hanna reopens the case.
func TestCaseListAndClosingLive(t *testing.T) {
	s, smtpSrv, gw := startMailServer(t)
	hr := caseManager(t, s, gw)

	emp := openInvitation(t, s, smtpSrv, "werknemer@example.nl", 360, 740)
	emp.name = "extern-"
	emp.termsAndPassword()
	emp.smsRoute(gw, "+31622222222")
	emp.recoveryAndProfile()

	hr.run(chromedp.Navigate(s.BaseURL + "/berichten/nieuw"))
	hr.step("case-compose", "Onderwerp")
	hr.fill("Aan", "werknemer@example.nl")
	hr.fill("Onderwerp", "Re-integratie")
	hr.fill("Bericht", "Zullen we een afspraak maken?")
	hr.click("VERZEND")
	hr.waitJS("thread page", `/^\/berichten\/\d+$/.test(location.pathname)`)
	thread := evalJS[string](hr, `location.pathname`)
	if !hr.eval(`(() => { const d = document.querySelector('.thread-case details'); if (!d) return false; d.open = true; return true; })()`) {
		t.Fatal(`no "Aan dossier toevoegen" on the conversation page`)
	}
	hr.fill("Kenmerk", "P-1234")
	hr.click("Dossier maken")
	hr.waitJS("case made", `document.querySelector('main').innerText.includes('Dossier P-1234')`)

	// Hanna keeps the conversation open in a second tab, with the forms
	// that change it: "Deelnemer toevoegen" and "Uit dossier halen".
	hrThread := hr.newTab("intern-gesprek-")
	hrThread.run(chromedp.Navigate(s.BaseURL + thread))
	hrThread.waitJS("the conversation", `document.querySelector('main').innerText.includes('Dossier P-1234')`)
	hrThread.waitLive()
	hrThread.markPage()
	const changeForms = `[...document.querySelectorAll('main form[action$="/dossier/verwijderen"], main details:has(form[action$="/deelnemers"])')]`
	if !hrThread.eval(changeForms + `.length === 2 && ` + changeForms + `.every(f => f.checkVisibility())`) {
		t.Fatal(`"Uit dossier halen" and "Deelnemer toevoegen" are not both on the open case's conversation`)
	}

	// The employee reads the conversation on a phone.
	emp.run(chromedp.Navigate(s.BaseURL + thread))
	emp.waitJS("the message", `document.querySelector('main').innerText.includes('Zullen we een afspraak maken?')`)
	emp.waitLive()
	emp.markPage()
	if emp.count("#reply") != 1 {
		t.Fatal("no REAGEER before the case is closed")
	}

	// Hanna finds the case on Dossiers.
	hr.run(chromedp.Navigate(s.BaseURL + "/berichten"))
	hr.click("Alle dossiers van je organisatie")
	hr.step("case-list", "Zoek een dossier")
	hr.waitJS("the case in the list", `document.querySelector('main .case-list').innerText.includes('Dossier P-1234')`)
	hr.fill("Zoek een dossier", "werknemer")
	hr.submit()
	hr.waitJS("found by the employee's address", `location.search.includes('zoek=werknemer') &&
  document.querySelector('main .case-list').innerText.includes('Dossier P-1234')`)
	hr.click("Dossier P-1234")
	hr.step("case-page", "")
	hr.click("Dossier sluiten")
	hr.waitJS("closed", `document.querySelector('main').innerText.includes('Het dossier is gesloten.')`)

	emp.waitJS("read-only without a page load", `!document.getElementById('reply') &&
  document.querySelector('main').innerText.includes('Dit gesprek hoort bij een gesloten dossier')`)
	emp.stillSamePage()
	emp.step("case-closed-live", "")
	hrThread.waitJS("the forms that change the conversation gone without a page load", changeForms+`.every(f => !f.checkVisibility()) &&
  document.querySelector('main').innerText.includes('Dit gesprek hoort bij een gesloten dossier')`)
	hrThread.stillSamePage()
	hrThread.shot("case-closed-live")
	// Loaded while the case is closed, the page has them hidden too.
	hrThread.run(chromedp.Reload())
	hrThread.waitJS("reloaded closed", `document.querySelector('main').innerText.includes('Dit gesprek hoort bij een gesloten dossier')`)
	hrThread.waitLive()
	hrThread.markPage()
	if !hrThread.eval(changeForms + `.every(f => !f.checkVisibility())`) {
		t.Fatal("a closed case's conversation offers forms that change it")
	}

	hr.click("Dossier heropenen")
	hr.waitJS("reopened", `document.querySelector('main').innerText.includes('Het dossier is heropend.')`)
	emp.waitJS("REAGEER back", `!!document.getElementById('reply') &&
  !document.querySelector('main').innerText.includes('Dit gesprek hoort bij een gesloten dossier')`)
	emp.stillSamePage()
	hrThread.waitJS("the forms back without a page load", changeForms+`.length === 2 && `+changeForms+`.every(f => f.checkVisibility()) &&
  !document.querySelector('main').innerText.includes('Dit gesprek hoort bij een gesloten dossier')`)
	hrThread.stillSamePage()
	emp.click("REAGEER")
	emp.step("case-reopened-reply", "Bericht")
}
