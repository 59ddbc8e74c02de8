package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestTeamConversation: two colleagues in one team ("OSAW Verzuim", made
// with dialoog team); Hanna starts a conversation on behalf of the team,
// the employee answers, and both colleagues' open inboxes update without a
// page load; Piet answers and the employee reads "namens OSAW Verzuim".
func TestTeamConversation(t *testing.T) {
	s, smtpSrv, gw := startMailServer(t)
	hr := caseManager(t, s, gw)

	piet := openLink(t, s.Invite(t, "piet@osaw.nl", "--internal"), 1280, 800)
	piet.name = "intern2-"
	piet.termsAndPassword()
	piet.smsRoute(gw, "+31633333333")
	piet.recoveryAndProfileAs("P.", "Piet", "", "Post")

	emp := openInvitation(t, s, smtpSrv, "werknemer@example.nl", 360, 740)
	emp.name = "extern-"
	emp.termsAndPassword()
	emp.smsRoute(gw, "+31622222222")
	emp.recoveryAndProfile()

	for _, args := range [][]string{
		{"team", "create", "OSAW Verzuim"},
		{"team", "add", "OSAW Verzuim", s.AdminMail},
		{"team", "add", "OSAW Verzuim", "piet@osaw.nl"},
	} {
		if res := runCLI(t, s.env, args...); res.Code != 0 {
			t.Fatalf("dialoog %s: %d\n%s%s", strings.Join(args, " "), res.Code, res.Stdout, res.Stderr)
		}
	}

	// Hanna writes on behalf of the team; Piet looks at his inbox.
	piet.run(chromedp.Navigate(s.BaseURL + "/berichten"))
	piet.waitLive()
	piet.markPage()
	hr.run(chromedp.Navigate(s.BaseURL + "/berichten/nieuw"))
	hr.step("team-compose", "Onderwerp")
	if !hr.eval(`(() => { const s = document.getElementById('compose-team'); if (!s) return false;
  const o = [...s.options].find(o => o.text === 'OSAW Verzuim'); if (!o) return false; s.value = o.value; return true; })()`) {
		t.Fatal(`no "Namens" choice of the team`)
	}
	hr.fill("Aan", "werknemer@example.nl")
	hr.fill("Onderwerp", "Teamgesprek")
	hr.fill("Bericht", "Hoe gaat het met je herstel?")
	hr.click("VERZEND")
	hr.waitJS("thread page", `/^\/berichten\/\d+$/.test(location.pathname)`)
	thread := evalJS[string](hr, `location.pathname`)
	hr.waitJS("namens on the own message", `document.querySelector('main').innerText.includes('namens OSAW Verzuim')`)

	piet.waitJS("the team's conversation in Piet's inbox", `(() => {
  const row = document.querySelector('#thread-list > li');
  return !!row && row.innerText.includes('Teamgesprek');
})()`)
	piet.waitJS("Piet's unread count", `document.getElementById('inbox-link').innerText.trim() === 'Berichten (1)'`)
	piet.stillSamePage()

	hr.run(chromedp.Navigate(s.BaseURL + "/berichten"))
	hr.waitLive()
	hr.markPage()

	// The employee answers.
	emp.run(chromedp.Navigate(s.BaseURL + thread))
	emp.waitJS("the team's message", `document.querySelector('main').innerText.includes('Hoe gaat het met je herstel?')`)
	emp.waitLive()
	emp.click("REAGEER")
	emp.step("team-reply", "Bericht")
	emp.fill("Bericht", "Het gaat al beter, dank je.")
	emp.click("VERZEND")
	emp.waitJS("reply sent", `document.querySelector('main').innerText.includes('Het gaat al beter, dank je.')`)

	// Both colleagues' open inboxes change without a page load.
	hr.waitJS("Hanna's unread count", `document.getElementById('inbox-link').innerText.trim() === 'Berichten (1)'`)
	hr.waitJS("Hanna's row unread", `document.querySelector('#thread-list > li').classList.contains('thread--unread')`)
	piet.waitJS("Piet's unread count", `document.getElementById('inbox-link').innerText.trim() === 'Berichten (2)'`)
	hr.stillSamePage()
	piet.stillSamePage()
	piet.shot("team-inbox-live")

	// Piet answers; the employee sees who, on behalf of the team.
	piet.click("Teamgesprek")
	piet.waitPath(thread)
	piet.click("REAGEER")
	piet.step("team-reply-colleague", "Bericht")
	piet.fill("Bericht", "Fijn om te horen. Ik neem het over.")
	piet.click("VERZEND")
	piet.waitJS("reply sent", `document.querySelector('main').innerText.includes('Ik neem het over.')`)

	emp.waitJS("Piet's answer on behalf of the team", `[...document.querySelectorAll('#main .message')].some(m =>
  m.innerText.includes('Ik neem het over.') && m.innerText.includes('Piet Post') && m.innerText.includes('namens OSAW Verzuim'))`)
	emp.step("team-namens", "")
}
