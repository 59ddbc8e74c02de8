package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"dialoog/notify/notifytest"
)

// TestMessageToNewAddress is the seed from the other side: an internal user
// writes "testbericht" to an address that has no account, the invitation
// reaches a real SMTP server, the employee completes the first visit, reads
// the message from the organisation and answers with REAGEER and VERZEND,
// and the internal user sees the answer and the read tick.
func TestMessageToNewAddress(t *testing.T) {
	s, smtpSrv, gw := startMailServer(t)

	// The case manager: the organisation's first user.
	hr := caseManager(t, s, gw)

	hr.click("Nieuw bericht")
	hr.step("compose", "Onderwerp")
	hr.fill("Aan", "werknemer@example.nl")
	hr.fill("Onderwerp", "testbericht")
	hr.fill("Bericht", "Hoe gaat het met je?\nLaat je het weten?")
	hr.click("VERZEND")
	hr.waitJS("thread page", `/^\/berichten\/\d+$/.test(location.pathname)`)
	hr.step("sent", "")
	threadURL := evalJS[string](hr, `location.href`)

	// The employee: invitation by mail, first visit, the message.
	emp := openInvitation(t, s, smtpSrv, "werknemer@example.nl", 360, 740)
	emp.name = "extern-"
	emp.termsAndPassword()
	emp.smsRoute(gw, "+31622222222")
	emp.recoveryAndProfileAs("J.", "Jan", "van der", "Berg")
	inbox := emp.text("") // whole main
	for _, want := range []string{"testbericht", "OSAW"} {
		if !strings.Contains(inbox, want) {
			t.Fatalf("Berichten lacks %q:\n%s", want, inbox)
		}
	}
	emp.click("testbericht")
	emp.waitJS("thread", `/^\/berichten\/\d+$/.test(location.pathname)`)
	emp.step("thread", "")
	if body := emp.text(""); !strings.Contains(body, "Hoe gaat het met je?") || !strings.Contains(body, "Hanna de Vries") {
		t.Fatalf("thread:\n%s", body)
	}
	emp.click("REAGEER")
	emp.step("reply", "Bericht")
	emp.fill("Bericht", "Het gaat beter, dank je.")
	emp.click("VERZEND")
	emp.waitJS("reply shown", `document.querySelector('main').innerText.includes('Het gaat beter, dank je.')`)
	emp.shot("replied")

	// Back at the case manager: the answer and the read tick.
	hr.run(chromedp.Navigate(threadURL))
	hr.waitJS("reply at sender", `document.querySelector('main').innerText.includes('Het gaat beter, dank je.')`)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(hr.text(""), "Gelezen door Jan van der Berg") {
		if time.Now().After(deadline) {
			t.Fatalf("no read tick for the employee:\n%s", hr.text(""))
		}
		time.Sleep(200 * time.Millisecond)
		hr.run(chromedp.Reload())
	}
	hr.step("read-tick", "")
}

// startMailServer starts a server of the organisation OSAW that sends its
// mail to a real SMTP server and its texts to a webhook gateway, both in the
// test.
func startMailServer(t *testing.T) (*server, *notifytest.SMTPServer, *notifytest.Gateway) {
	t.Helper()
	return startMailServerWith(t, nil)
}

// startMailServerWith is startMailServer with more environment variables.
func startMailServerWith(t *testing.T, extra map[string]string) (*server, *notifytest.SMTPServer, *notifytest.Gateway) {
	t.Helper()
	smtpSrv := notifytest.StartSMTP(t, "127.0.0.1:0", "", "")
	gw := notifytest.StartGateway(t)
	env := map[string]string{
		"DIALOOG_SMTP_URL":  "smtp://" + smtpSrv.Addr + "?tls=none",
		"DIALOOG_SMS_URL":   gw.URL,
		"DIALOOG_MAIL_FROM": "Dialoog <no-reply@dialoog.test>",
		"DIALOOG_ORG_NAME":  "OSAW",
	}
	for k, v := range extra {
		env[k] = v
	}
	s := startServer(t, env)
	if s.AdminLink == "" {
		t.Fatal("no sign-up link for the first admin")
	}
	return s, smtpSrv, gw
}

// caseManager takes the organisation's first user, Hanna de Vries, through
// the first visit on a desktop browser, with SMS.
func caseManager(t *testing.T, s *server, gw *notifytest.Gateway) *browser {
	t.Helper()
	hr := openLink(t, s.AdminLink, 1280, 800)
	hr.name = "intern-"
	hr.termsAndPassword()
	hr.smsRoute(gw, "+31611111111")
	hr.recoveryAndProfileAs("H.", "Hanna", "de", "Vries")
	return hr
}
