package e2e

import (
	"bytes"
	"io"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"dialoog/notify/notifytest"
)

var helpdeskLinkRe = regexp.MustCompile(`https?://\S+/herstel/[A-Za-z0-9_-]{43}`)

// TestAdminBeheer: an admin invites a colleague, disables and enables an
// external user, and starts a helpdesk reset that the person, who lost
// their phone, completes on a phone (360 px) with the mailed link, the
// code given by phone and their password. Every page passes the
// accessibility scan.
func TestAdminBeheer(t *testing.T) {
	s, smtpSrv, gw := startMailServer(t)
	const adminMail, personMail = "beheer@osaw.nl", "verloren@example.nl"
	admin := &browser{t: t, ctx: newBrowser(t, 1280, 900)}
	admin.run(chromedp.Navigate(s.Invite(t, adminMail, "--admin")))
	admin.step("admin-invitation", "")
	admin.click("AANMELDEN")
	admin.termsAndPassword()
	admin.smsRoute(gw, "+31611111111")
	admin.recoveryAndProfileAs("A.", "Anna", "de", "Vries")

	// The person who will lose their phone, on a phone.
	person := openInvitation(t, s, smtpSrv, personMail, 360, 740)
	person.termsAndPassword()
	person.smsRoute(gw, "+31622222222")
	person.recoveryAndProfileAs("J.", "Jan", "", "Jansen")

	admin.click("Beheer")
	admin.step("admin-index", "")
	admin.click("Gebruikers")
	admin.step("admin-users", "Zoek op naam of e-mailadres")
	admin.fill("E-mailadres", "collega@osaw.nl")
	admin.check("Beheerder")
	admin.submit()
	admin.waitJS("invited", `document.querySelector('main').innerText.includes('De uitnodiging is verstuurd.')`)
	admin.step("admin-invited", "")
	smtpSrv.WaitMail(t, "collega@osaw.nl", 0, 20*time.Second)

	// The external user, found by search: disable, enable.
	find := func() {
		admin.run(chromedp.Navigate(s.BaseURL + "/beheer/gebruikers?zoek=verloren"))
		admin.waitJS("search", `document.querySelectorAll('main .admin-user').length === 1`)
	}
	find()
	admin.click("Uitschakelen")
	admin.waitJS("disabled", `document.querySelector('main').innerText.includes('De gebruiker is uitgeschakeld')`)
	admin.step("admin-disabled", "")
	find()
	admin.click("Weer inschakelen")
	admin.waitJS("enabled", `document.querySelector('main').innerText.includes('De gebruiker is weer ingeschakeld.')`)
	find()
	before := mailsTo(smtpSrv, personMail)
	admin.click("Tweede stap herstellen")
	admin.step("admin-reset", "")
	code := admin.text("#helpdesk-code")
	if len(strings.ReplaceAll(code, " ", "")) != 8 {
		t.Fatalf("code %q", code)
	}
	m := smtpSrv.WaitMail(t, personMail, before, 20*time.Second)
	for !strings.Contains(plainMailText(t, m.Data), "/herstel/") {
		before++
		m = smtpSrv.WaitMail(t, personMail, before, 20*time.Second)
	}
	link := helpdeskLinkRe.FindString(plainMailText(t, m.Data))
	if link == "" {
		t.Fatalf("no link in the mail:\n%s", plainMailText(t, m.Data))
	}

	phone := &browser{t: t, ctx: newBrowser(t, 360, 740)}
	phone.run(chromedp.Navigate(link))
	phone.step("helpdesk", "Code van je beheerder")
	phone.fill("Wachtwoord", password)
	phone.fill("Code van je beheerder", code)
	phone.submit()
	phone.step("helpdesk-sms", "Mobiel telefoonnummer")
	const newPhone = "+31633333333"
	phone.fill("Mobiel telefoonnummer", "0"+strings.TrimPrefix(newPhone, "+31"))
	phone.submit()
	text := gw.WaitText(t, newPhone, 0, 20*time.Second)
	phone.step("helpdesk-sms-code", "Bevestigingscode")
	phone.fill("Bevestigingscode", sixDigit.FindString(text.Body))
	phone.submit()
	phone.step("helpdesk-recovery", "Ik heb mijn herstelcodes veilig bewaard")
	phone.check("Ik heb mijn herstelcodes veilig bewaard")
	phone.submit()
	phone.waitPath("/berichten")
	phone.step("helpdesk-inbox", "")
}

func mailsTo(srv *notifytest.SMTPServer, rcpt string) int {
	n := 0
	for _, m := range srv.Messages() {
		for _, to := range m.To {
			if to == rcpt {
				n++
			}
		}
	}
	return n
}

// plainMailText returns the body of a mail that has only a text/plain
// part, decoded from quoted-printable when so sent.
func plainMailText(t *testing.T, raw []byte) string {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse mail: %v", err)
	}
	var r io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read mail: %v", err)
	}
	return string(b)
}
