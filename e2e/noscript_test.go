package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestWithoutJavaScript is the seed in a phone browser that runs no page
// script at all (Emulation.setScriptExecutionDisabled): the first visit by
// SMS, reading the message (marked read with the button), REAGEER, and a
// reply with an attachment posted with the form itself, which the case
// manager then sees and downloads. The test drives the page through the
// DevTools protocol, which still evaluates its own expressions.
func TestWithoutJavaScript(t *testing.T) {
	s, smtpSrv, gw := startMailServer(t)
	hr := caseManager(t, s, gw)
	hr.click("Nieuw bericht")
	hr.step("compose", "Onderwerp")
	hr.fill("Aan", "zonderjs@example.nl")
	hr.fill("Onderwerp", "Zonder script")
	hr.fill("Bericht", "Werkt dit ook zonder JavaScript?")
	hr.click("VERZEND")
	hr.waitJS("thread page", `/^\/berichten\/\d+$/.test(location.pathname)`)
	threadURL := evalJS[string](hr, `location.href`)
	hr.run(chromedp.Navigate(s.BaseURL + "/berichten"))
	hr.waitPath("/berichten")

	link := s.Invite(t, "zonderjs@example.nl")
	smtpSrv.WaitMail(t, "zonderjs@example.nl", 0, 20*time.Second)
	emp := &browser{t: t, ctx: newBrowser(t, 360, 740), name: "noscript-", noScript: true}
	emp.setScript(false)
	emp.run(chromedp.Navigate(link))
	emp.step("invitation", "")
	if emp.eval(`!!(window.htmx)`) {
		t.Fatal("htmx ran although script is disabled")
	}
	emp.click("AANMELDEN")
	emp.termsAndPassword()
	emp.smsRoute(gw, "+31644444444")
	emp.recoveryAndProfile()
	emp.header360("inbox")

	emp.click("Zonder script")
	emp.waitJS("thread", `/^\/berichten\/\d+$/.test(location.pathname)`)
	emp.step("thread", "")
	if body := emp.text(""); !strings.Contains(body, "Werkt dit ook zonder JavaScript?") {
		t.Fatalf("thread:\n%s", body)
	}
	// Without htmx nothing marks the conversation read on load; its button
	// does.
	if n := emp.header(); n != "Berichten (1)" {
		t.Fatalf("header says %q before Markeer als gelezen, want Berichten (1)", n)
	}
	emp.click("Markeer als gelezen")
	emp.waitJS("marked read", `document.getElementById('inbox-link').innerText.trim() === 'Berichten'`)
	// The account menu opens without script (a <details>).
	emp.openMenu("header .menu")
	if !emp.visible("Uitloggen") {
		t.Fatal("the account menu does not open without script")
	}
	emp.closeMenus()

	emp.click("REAGEER")
	emp.waitJS("reply page", `location.pathname.endsWith('/reageer')`)
	emp.step("reply", "Bericht")
	file := filepath.Join(t.TempDir(), "verslag.txt")
	if err := os.WriteFile(file, []byte("Verslag van de week.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	emp.fill("Bericht", "Ja, ook zonder script.")
	emp.run(chromedp.SetUploadFiles(chromedp.ID("reply-files"), []string{file}))
	emp.click("VERZEND")
	emp.waitJS("reply shown", `/^\/berichten\/\d+$/.test(location.pathname) && document.querySelector('main').innerText.includes('Ja, ook zonder script.')`)
	emp.step("replied", "")
	if !strings.Contains(emp.text(""), "verslag.txt") {
		t.Fatalf("the attachment is not with the reply:\n%s", emp.text(""))
	}

	// The case manager has the reply and its attachment, as posted.
	hr.run(chromedp.Navigate(threadURL))
	hr.waitJS("reply at sender", `document.querySelector('main').innerText.includes('Ja, ook zonder script.')`)
	got, err := chromedp.Run(hr.ctx, chromedp.Evaluate[string](`(async () => {
  const a = [...document.querySelectorAll('main .attachments a')].find(a => a.innerText.trim() === 'verslag.txt');
  if (!a) return 'no link';
  const r = await fetch(a.href);
  return r.ok ? await r.text() : 'status ' + r.status;
})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	if got != "Verslag van de week.\n" {
		t.Fatalf("downloaded attachment: %q", got)
	}
}

// header360 checks the one-row header on the 360 px phone.
func (b *browser) header360(name string) {
	b.t.Helper()
	if h := evalJS[float64](b, `document.querySelector('.site-header').getBoundingClientRect().height`); h > 64 {
		b.t.Errorf("%s: header is %.0f px high, want at most 64", name, h)
	}
}
