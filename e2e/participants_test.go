package e2e

import (
	"testing"
)

// TestLiveParticipantList: the case manager keeps a conversation with a
// new address open; the person signs up on a phone and answers; the open
// page's participant list follows without a reload: no longer "uitgenodigd",
// no resend button, the name instead of the address.
func TestLiveParticipantList(t *testing.T) {
	s, smtpSrv, gw := startMailServer(t)
	hr := caseManager(t, s, gw)
	hr.waitLive()
	hr.click("Nieuw bericht")
	hr.step("compose", "Onderwerp")
	hr.fill("Aan", "nieuwkomer@example.nl")
	hr.fill("Onderwerp", "Kennismaking")
	hr.fill("Bericht", "Welkom bij Dialoog.")
	hr.click("VERZEND")
	hr.waitJS("thread page", `/^\/berichten\/\d+$/.test(location.pathname)`)
	hr.waitLive()
	const list = `document.querySelector('#main .participant-list')`
	hr.waitJS("invitee listed as invited", list+`.innerText.includes('uitgenodigd') && !!`+list+`.querySelector('.participant__resend')`)
	hr.markPage()
	hr.step("invited", "")

	emp := openInvitation(t, s, smtpSrv, "nieuwkomer@example.nl", 360, 740)
	emp.name = "extern-"
	emp.termsAndPassword()
	emp.smsRoute(gw, "+31655555555")
	emp.recoveryAndProfileAs("K.", "Kim", "", "de Wit")
	emp.click("Kennismaking")
	emp.waitJS("thread", `/^\/berichten\/\d+$/.test(location.pathname)`)
	emp.click("REAGEER")
	emp.step("reply", "Bericht")
	emp.fill("Bericht", "Dank je, gelukt.")
	emp.click("VERZEND")
	emp.waitJS("reply shown", `document.querySelector('main').innerText.includes('Dank je, gelukt.')`)

	hr.waitJS("reply live", `document.querySelector('#main .messages').innerText.includes('Dank je, gelukt.')`)
	hr.waitJS("participant list updated", list+`.innerText.includes('Kim de Wit') && !`+list+`.innerText.includes('uitgenodigd') && !`+list+`.querySelector('.participant__resend')`)
	hr.stillSamePage()
	hr.step("signed-up-live", "")
}
