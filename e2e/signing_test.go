package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestSigning is Ondertekenen from request to the sealed PDF: the case
// manager attaches a PDF to a reply and puts it to the employee (on a 360 px
// phone, confirming by SMS through the gateway in the test) and the
// employer (on a desktop, with an authenticator app), in order; each sees
// the other's agreement arrive live, and the sealed PDF appears in all
// three conversations without a reload.
func TestSigning(t *testing.T) {
	s, smtpSrv, gw := startMailServer(t)
	hr := caseManager(t, s, gw)

	hr.click("Nieuw bericht")
	hr.step("compose", "Onderwerp")
	hr.fill("Aan", "werknemer@example.nl, werkgever@example.nl")
	hr.fill("Onderwerp", "Plan van aanpak")
	hr.fill("Bericht", "Het plan van aanpak volgt.")
	hr.click("VERZEND")
	hr.waitJS("thread page", `/^\/berichten\/\d+$/.test(location.pathname)`)
	threadURL := evalJS[string](hr, `location.href`)

	emp := openInvitation(t, s, smtpSrv, "werknemer@example.nl", 360, 740)
	emp.name = "werknemer-"
	emp.termsAndPassword()
	emp.smsRoute(gw, "+31622222222")
	emp.recoveryAndProfileAs("J.", "Jan", "van der", "Berg")

	boss := openInvitation(t, s, smtpSrv, "werkgever@example.nl", 1280, 800)
	boss.name = "werkgever-"
	boss.termsAndPassword()
	boss.step("sms", "Mobiel telefoonnummer")
	boss.click("Overslaan")
	boss.step("app", "Token")
	secret := strings.ReplaceAll(boss.text("code"), " ", "")
	boss.fill("Token", totp(t, secret, time.Now()))
	boss.submit()
	boss.recoveryAndProfileAs("W.", "Willem", "", "Baas")

	// The request: a reply with the PDF, ter ondertekening, in order.
	file := filepath.Join(t.TempDir(), "plan-van-aanpak.pdf")
	if err := os.WriteFile(file, minimalPDF(2), 0o600); err != nil {
		t.Fatal(err)
	}
	hr.run(chromedp.Navigate(threadURL))
	hr.click("REAGEER")
	hr.step("reply", "Bericht")
	hr.fill("Bericht", "Graag jullie akkoord.")
	// A file picked by mistake: "Verwijderen" on its chip takes it off
	// the reply and deletes the upload on the server at once.
	hr.run(chromedp.SetUploadFiles(chromedp.ID("reply-files"), []string{file}))
	hr.waitJS("upload", `!!document.querySelector('input[name=attachment]')`)
	mistake := evalJS[string](hr, `document.querySelector('input[name=attachment]').value`)
	hr.run(chromedp.Click(chromedp.CSS(`#reply-attachments .chip__remove`), chromedp.NodeVisible))
	hr.waitJS("chip removed", `!document.querySelector('input[name=attachment]')`)
	for i := 0; ; i++ {
		status := evalJSAwait[int](hr, `fetch('/bijlagen/`+mistake+`').then(r => r.status)`)
		if status == 404 {
			break
		}
		if i == 50 {
			t.Fatalf("the removed upload still downloads: %d", status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	hr.run(chromedp.SetUploadFiles(chromedp.ID("reply-files"), []string{file}))
	hr.waitJS("upload", `!!document.querySelector('input[name=attachment]')`)
	hr.check("De bijgevoegde PDF ter ondertekening aanbieden")
	hr.check("Jan van der Berg")
	hr.check("Willem Baas")
	hr.check("Op volgorde: ieder pas na de vorige in de lijst")
	hr.strictA11y("reply-signing")
	hr.click("VERZEND")
	hr.waitJS("card", `document.querySelector('main').innerText.includes('Ter ondertekening: plan-van-aanpak.pdf')`)
	hr.step("requested", "")

	// Both open the conversation; the employer waits for his turn.
	for _, b := range []*browser{emp, boss} {
		b.run(chromedp.Navigate(threadURL))
		b.waitJS("card", `document.querySelector('main').innerText.includes('Ter ondertekening: plan-van-aanpak.pdf')`)
		b.waitLive()
	}
	if boss.eval(`!!document.querySelector('form[action$="/akkoord"]')`) {
		t.Fatal("the second signer may act before the first")
	}

	// The employee on the phone: a code by SMS.
	emp.step("card", "")
	emp.strictA11y("card")
	emp.click("Stuur mij een code")
	text := gw.WaitText(t, "+31622222222", 1, 20*time.Second)
	emp.waitJS("code sent", `document.querySelector('main').innerText.includes('De code is verstuurd')`)
	emp.check("Ik heb het document gelezen en ga akkoord")
	emp.fill("Code uit de SMS", sixDigit.FindString(text.Body))
	emp.click("Akkoord")
	emp.waitJS("agreed", `!!document.querySelector('[data-signer-status="agreed"]')`)
	emp.step("agreed", "")

	// Live at the employer: the employee's agreement, and his turn.
	boss.waitJS("live turn", `!!document.querySelector('form[action$="/akkoord"]') && !!document.querySelector('[data-signer-status="agreed"]')`)
	boss.step("turn", "")
	boss.check("Ik heb het document gelezen en ga akkoord")
	// A code is accepted once: the one of the first visit's step is used.
	time.Sleep(time.Until(time.Unix((time.Now().Unix()/30+1)*30, 0)))
	boss.fill("Code uit je authenticator-app", totp(t, secret, time.Now()))
	boss.click("Akkoord")

	// The sealed PDF arrives in every open conversation.
	for _, b := range []*browser{hr, emp, boss} {
		b.waitJS("sealed", `document.querySelector('main').innerText.includes('plan-van-aanpak-ondertekend.pdf')`)
		b.waitJS("sealed status", `!!document.querySelector('[data-signing-status="sealed"]')`)
	}
	emp.step("sealed", "")
	boss.step("sealed", "")

	// The sealed PDF, downloaded by the employee, is valid for poppler's
	// pdfsig: sealed by the organisation and unchanged.
	href := evalJS[string](emp, `[...document.querySelectorAll('a')].find(a => a.textContent.trim() === 'plan-van-aanpak-ondertekend.pdf').href`)
	req, err := http.NewRequest(http.MethodGet, href, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(&http.Cookie{Name: "dialoog_session", Value: emp.cookie("dialoog_session")})
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || !bytes.HasPrefix(sealed, []byte("%PDF-")) {
		t.Fatalf("sealed PDF: %s %v", resp.Status, err)
	}
	pdfsig, err := exec.LookPath("pdfsig")
	if err != nil {
		skipOrFail(t, "pdfsig (poppler-utils) is not installed")
		return
	}
	path := filepath.Join(t.TempDir(), "sealed.pdf")
	if err := os.WriteFile(path, sealed, 0o600); err != nil {
		t.Fatal(err)
	}
	// -nocert: the organisation's self-signed certificate is trusted by
	// no reader here; the signature over the whole file is what counts.
	out, _ := exec.Command(pdfsig, "-nocert", path).CombinedOutput()
	if !strings.Contains(string(out), "Signature Validation: Signature is Valid.") || !strings.Contains(string(out), "Total document signed") {
		t.Fatalf("pdfsig:\n%s", out)
	}
}

// minimalPDF is a valid PDF of n empty A4 pages, with a correct cross
// reference table.
func minimalPDF(n int) []byte {
	var b bytes.Buffer
	var offsets []int
	obj := func(body string) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
	}
	b.WriteString("%PDF-1.4\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	kids := make([]string, n)
	for i := range kids {
		kids[i] = fmt.Sprintf("%d 0 R", i+3)
	}
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), n))
	for range n {
		obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>")
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}
