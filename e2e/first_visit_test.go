package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	bin "encoding/binary"
	"fmt"
	"mime"
	"mime/multipart"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"dialoog/notify/notifytest"
)

// The first visit of the seed, walked in Chromium from the invitation mail
// that a real SMTP server in the test receives, by the SMS route and by the
// app route, on a desktop and on a phone.
func TestFirstVisit(t *testing.T) {
	s, smtpSrv, gw := startMailServer(t)
	viewports := []struct {
		name          string
		width, height int
	}{{"desktop", 1280, 800}, {"phone", 360, 740}}
	for i, vp := range viewports {
		t.Run("sms-"+vp.name, func(t *testing.T) {
			email := fmt.Sprintf("sms%d@example.nl", i)
			phone := fmt.Sprintf("+3161234567%d", i)
			b := openInvitation(t, s, smtpSrv, email, vp.width, vp.height)
			b.termsAndPassword()
			b.smsRoute(gw, phone)
			b.recoveryAndProfile()
		})
		t.Run("app-"+vp.name, func(t *testing.T) {
			email := fmt.Sprintf("app%d@example.nl", i)
			b := openInvitation(t, s, smtpSrv, email, vp.width, vp.height)
			b.termsAndPassword()
			b.step("sms", "Mobiel telefoonnummer")
			b.click("Overslaan")
			b.step("app", "Token")
			secret := strings.ReplaceAll(b.text("code"), " ", "")
			if len(secret) != 32 {
				t.Fatalf("secret key %q is not 160 bits in base32", secret)
			}
			if !b.eval(`!!document.querySelector('img[src^="data:image/png"]')`) {
				t.Fatal("no QR code image")
			}
			b.fill("Token", totp(t, secret, time.Now()))
			b.submit()
			b.recoveryAndProfile()

			// Next time: mail address, password and the app.
			b.waitLive()
			b.click("Uitloggen")
			b.waitPath("/inloggen")
			// The logout closes the page's live connection (1008); the
			// page that asks why must not take its own logout for a
			// session ended elsewhere.
			time.Sleep(2 * time.Second)
			if b.eval(`location.search !== '' || document.getElementById('main').innerText.includes('beëindigd')`) {
				t.Fatalf("after Uitloggen the login page is %s and says: %s", evalJS[string](b, `location.href`), evalJS[string](b, `document.getElementById('main').innerText`))
			}
			b.step("login", "Wachtwoord")
			b.fill("E-mailadres", email)
			b.fill("Wachtwoord", password)
			b.submit()
			b.step("login-app", "Token")
			// A code is accepted once: wait for the next time step.
			time.Sleep(time.Until(time.Unix((time.Now().Unix()/30+1)*30, 0)))
			b.fill("Token", totp(t, secret, time.Now()))
			b.submit()
			b.waitPath("/berichten")
			b.shot("inbox-after-login")
		})
	}
}

const password = "paard batterij nietje correct"

var (
	sixDigit = regexp.MustCompile(`\b\d{6}\b`)
	linkRe   = regexp.MustCompile(`https?://\S+/aanmelden/[A-Za-z0-9_-]+`)
)

// browser drives one Chromium through the flow, saving a screenshot of
// every step.
type browser struct {
	t    *testing.T
	ctx  context.Context
	n    int
	name string // prefix of the screenshots, when several browsers run
	// noScript: the page runs no script (TestWithoutJavaScript); the
	// accessibility scan switches it on for its own run only.
	noScript bool
}

func openInvitation(t *testing.T, s *server, smtpSrv *notifytest.SMTPServer, email string, w, h int) *browser {
	t.Helper()
	// dialoog invite only queues the mail and prints the link; wait for the
	// mail with that link, not an earlier invitation (from a message) whose
	// link it replaced.
	link := s.Invite(t, email)
	for after := 0; ; after++ {
		m := smtpSrv.WaitMail(t, email, after, 20*time.Second)
		text := mailText(t, m.Data)
		if !strings.Contains(text, link) {
			continue
		}
		for _, want := range []string{"Beste heer/mevrouw,", "OSAW heeft je uitgenodigd om via Dialoog beveiligd berichten uit te wisselen."} {
			if !strings.Contains(text, want) {
				t.Fatalf("invitation mail lacks %q:\n%s", want, text)
			}
		}
		break
	}
	return openLink(t, link, w, h)
}

// openLink opens a sign-up link in a new browser and presses AANMELDEN.
func openLink(t *testing.T, link string, w, h int) *browser {
	t.Helper()
	b := &browser{t: t, ctx: newBrowser(t, w, h)}
	b.run(chromedp.Navigate(link))
	b.step("invitation", "")
	b.click("AANMELDEN")
	return b
}

// smsRoute sets up the SMS factor with phone (E.164) and skips the app.
func (b *browser) smsRoute(gw *notifytest.Gateway, phone string) {
	b.t.Helper()
	b.step("sms", "Mobiel telefoonnummer")
	b.fill("Mobiel telefoonnummer", "0"+strings.TrimPrefix(phone, "+31"))
	b.submit()
	text := gw.WaitText(b.t, phone, 0, 20*time.Second)
	b.step("sms-code", "Bevestigingscode")
	b.fill("Bevestigingscode", sixDigit.FindString(text.Body))
	b.submit()
	b.step("app-offered", "Token")
	b.click("Overslaan")
}

// mailText returns the text/plain part of a raw MIME mail.
func mailText(t *testing.T, raw []byte) string {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatalf("parse mail: %v", err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("content type: %v", err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no text/plain part: %v", err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			var b strings.Builder
			buf := make([]byte, 4096)
			for {
				n, err := p.Read(buf)
				b.Write(buf[:n])
				if err != nil {
					break
				}
			}
			return b.String()
		}
	}
}

// login logs in on the login page with the password and a code by SMS
// to phone.
func (b *browser) login(t *testing.T, gw *notifytest.Gateway, email, phone string) {
	t.Helper()
	b.step("login", "Wachtwoord")
	b.fill("E-mailadres", email)
	b.fill("Wachtwoord", password)
	b.submit()
	b.waitPath("/inloggen/tweede-stap")
	before := gw.Count(phone)
	b.click("Stuur mij een SMS-code")
	text := gw.WaitText(t, phone, before, 20*time.Second)
	b.step("login-sms", "Bevestigingscode")
	b.fill("Bevestigingscode", sixDigit.FindString(text.Body))
	b.submit()
}

func (b *browser) termsAndPassword() {
	b.step("terms", "Ik ga akkoord met de gebruikersvoorwaarden")
	b.check("Ik ga akkoord met de gebruikersvoorwaarden")
	b.click("INLOGGEN")
	b.step("password", "Herhaal wachtwoord")
	b.fill("Wachtwoord", password)
	b.fill("Herhaal wachtwoord", password)
	b.submit()
}

func (b *browser) recoveryAndProfile() {
	b.t.Helper()
	b.recoveryAndProfileAs("J.", "Jan", "van der", "Berg")
}

func (b *browser) recoveryAndProfileAs(initials, first, prefix, last string) {
	b.t.Helper()
	b.recoveryAndProfileAway(initials, first, prefix, last, "")
}

// recoveryAndProfileAway finishes the first visit; a non-empty away turns
// on the absence auto-reply with that message (no period: from now on).
func (b *browser) recoveryAndProfileAway(initials, first, prefix, last, away string) {
	b.t.Helper()
	b.step("recovery", "Ik heb mijn herstelcodes veilig bewaard")
	if n := b.count("main ol li"); n != 10 {
		b.t.Fatalf("%d recovery codes shown, want 10", n)
	}
	b.check("Ik heb mijn herstelcodes veilig bewaard")
	b.submit()
	b.step("profile", "Voorletters")
	b.fill("Voorletters", initials)
	b.fill("Voornaam", first)
	b.fill("Tussenvoegsels", prefix)
	b.fill("Achternaam", last)
	if away != "" {
		b.check("Automatisch antwoorden bij afwezigheid")
		b.fill("Bericht bij afwezigheid", away)
	}
	b.click("OPSLAAN")
	b.waitPath("/berichten")
	b.step("inbox", "")
	if h := b.text("h1"); h != "Berichten" {
		b.t.Fatalf("inbox heading %q", h)
	}
}

func (b *browser) run(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// evalJS evaluates js and returns its value.
func evalJS[T any](b *browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	return v
}

func (b *browser) eval(js string) bool { b.t.Helper(); return evalJS[bool](b, js) }

// control is JS that finds the form control labelled text (label text
// starting with it, ignoring an asterisk).
func control(text string) string {
	return fmt.Sprintf(`(() => {
  const want = %q;
  const norm = s => s.replace(/[*\s]+/g, ' ').trim();
  for (const l of document.querySelectorAll('main label')) {
    if (norm(l.textContent).startsWith(want) && l.control && l.offsetParent !== null) return l.control;
  }
  return null;
})()`, text)
}

// step waits until the page shows a control labelled label (or any h1 when
// label is empty), checks one h1 and no sideways scrolling, and saves a
// screenshot.
func (b *browser) step(name, label string) {
	b.t.Helper()
	cond := `!!document.querySelector('main h1')`
	if label != "" {
		cond = `!!` + control(label)
	}
	b.waitJS(name, cond)
	if n := b.count("h1"); n != 1 {
		b.t.Fatalf("step %s: %d h1 headings", name, n)
	}
	if overflow := evalJS[float64](b, `document.documentElement.scrollWidth - window.innerWidth`); overflow > 0 {
		b.t.Errorf("step %s: page is %.0f px wider than the viewport", name, overflow)
	}
	b.strictA11y(name)
	b.shot(name)
}

func (b *browser) setScript(on bool) {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on}); err != nil {
		b.t.Fatalf("switch script %v: %v", on, err)
	}
}

func (b *browser) waitJS(what, cond string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	// A condition that throws (an element not there yet while a page loads)
	// is not met yet; after 20 s the page is shown.
	guarded := `(() => { try { return !!(` + cond + `); } catch (e) { return false; } })()`
	for !b.evalDuringNavigation(guarded) {
		if time.Now().After(deadline) {
			body, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`location.pathname + "\n" + document.body.innerText`))
			b.t.Fatalf("waiting for %s: not there after 20 s; page:\n%s", what, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (b *browser) waitPath(path string) {
	b.t.Helper()
	b.waitJS("path "+path, fmt.Sprintf(`location.pathname === %q`, path))
}

func (b *browser) fill(label, value string) {
	b.t.Helper()
	if !b.eval(fmt.Sprintf(`(() => { const c = %s; if (!c) return false; c.focus(); c.value = %q;
  c.dispatchEvent(new Event('input', {bubbles: true})); c.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`, control(label), value)) {
		b.t.Fatalf("no field labelled %q", label)
	}
}

func (b *browser) check(label string) {
	b.t.Helper()
	if !b.eval(fmt.Sprintf(`(() => { const c = %s; if (!c) return false; c.focus(); if (!c.checked) c.click(); return c.checked; })()`, control(label))) {
		b.t.Fatalf("no checkbox labelled %q", label)
	}
}

// click clicks the visible button or link whose text is text. One inside a
// closed menu (a <details>: the header's name, Mijn account, Uitloggen; a
// message's actions) is clicked as a person would: the menu button first.
func (b *browser) click(text string) {
	b.t.Helper()
	if !b.eval(fmt.Sprintf(`(() => {
  const want = %q;
  const all = [...document.querySelectorAll('button, a, input[type=submit]')]
    .filter(e => (e.tagName === 'INPUT' ? e.value : e.innerText || e.textContent).trim() === want);
  // checkVisibility: a closed <details> hides its content with
  // content-visibility, which offsetParent does not see.
  let el = all.find(e => e.checkVisibility());
  if (!el) {
    el = all.find(e => { const d = e.closest('details'); return d && !d.open && d.querySelector('summary').checkVisibility(); });
    if (!el) return false;
    el.closest('details').querySelector('summary').click();
    if (!el.checkVisibility()) return false;
  }
  el.click();
  return true;
})()`, text)) {
		b.t.Fatalf("no button or link %q", text)
	}
}

// submit clicks the submit button of the form that has the focused field.
func (b *browser) submit() {
	b.t.Helper()
	if !b.eval(`(() => {
  const f = document.activeElement && document.activeElement.form;
  if (!f) return false;
  f.requestSubmit();
  return true;
})()`) {
		b.t.Fatal("no focused form to submit")
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	q := "main " + sel
	if sel == "" {
		q = "main"
	}
	return evalJS[string](b, fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? e.innerText.trim() : ''; })()`, q))
}

func (b *browser) count(sel string) int {
	b.t.Helper()
	return evalJS[int](b, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))
}

func (b *browser) shot(name string) {
	b.t.Helper()
	b.n++
	screenshot(b.t, b.ctx, fmt.Sprintf("%s%02d-%s", b.name, b.n, name))
}

// totp computes an RFC 6238 code (SHA1, 6 digits, 30 s) independently of
// the server's implementation.
func totp(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(secret))
	if err != nil {
		t.Fatalf("secret %q: %v", secret, err)
	}
	msg := make([]byte, 8)
	bin.BigEndian.PutUint64(msg, uint64(at.Unix()/30))
	m := hmac.New(sha1.New, key)
	m.Write(msg)
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	return fmt.Sprintf("%06d", (bin.BigEndian.Uint32(sum[off:off+4])&0x7fffffff)%1_000_000)
}

// evalDuringNavigation is eval for a wait: while the page is being
// replaced the evaluation fails ("navigated", "context was destroyed"),
// which only means not yet.
func (b *browser) evalDuringNavigation(js string) bool {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](js))
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, "navigated") || strings.Contains(msg, "context was destroyed") || strings.Contains(msg, "Cannot find context") {
			return false
		}
		b.t.Fatalf("browser: %v", err)
	}
	return v
}
