package e2e

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

//go:embed testdata/axe-4.14.1.min.js
var axeSource string

// a11yViolation is one rule that axe-core found broken on a page.
type a11yViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// a11yScan returns the serious or critical violations and the minor ones.
func a11yScan(ctx context.Context) (bad, minor []string, err error) {
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axeSource+";\ntrue")); err != nil {
		return nil, nil, fmt.Errorf("inject axe-core: %w", err)
	}
	const run = `axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
  .then(r => r.violations.map(v => ({id: v.id, impact: v.impact || '', help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))`
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]a11yViolation](run, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, nil, fmt.Errorf("run axe-core: %w", err)
	}
	for _, v := range violations {
		line := fmt.Sprintf("%s (%s): %s at %s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, ", "))
		if v.Impact == "serious" || v.Impact == "critical" {
			bad = append(bad, line)
		} else {
			minor = append(minor, line)
		}
	}
	return bad, minor, nil
}

// TestA11yScanFindsProblems proves that the scan can fail: a page with an
// unlabelled field and an image without text has violations.
func TestA11yScanFindsProblems(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><html><head><title>x</title></head><body><main><img src="data:image/png;base64,iVBORw0KGgo="><input type="text"></main></body></html>`)
	}))
	defer srv.Close()
	ctx := newBrowser(t, 800, 600)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	bad, _, err := a11yScan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(bad, "\n")
	for _, rule := range []string{"image-alt", "label", "html-has-lang"} {
		if !strings.Contains(joined, rule) {
			t.Errorf("scan missed %s; found:\n%s", rule, joined)
		}
	}
}

// bothLanguages scans the page as it is in Dutch with no axe-core
// violation at all (minor ones included), switches to English with the
// footer's switch, scans again, and switches back to Dutch: the page the
// switch returns to is the same page.
func (b *browser) bothLanguages(name string) {
	b.t.Helper()
	path := evalJS[string](b, `location.pathname`)
	if !b.eval(langIs("nl")) {
		b.t.Fatalf("%s: the page is not Dutch to begin with", name)
	}
	b.strictA11y(name + " (nl)")
	b.noSidewaysScroll(name + " (nl)")
	b.checksBesideLabels(name + " (nl)")
	b.click("English")
	b.waitJS(name+" in English", langIs("en")+` && location.pathname === `+jsString(path))
	b.waitJS(name+" in English loaded", `document.readyState === 'complete' && !!document.querySelector('main h1')`)
	b.strictA11y(name + " (en)")
	b.noSidewaysScroll(name + " (en)")
	b.checksBesideLabels(name + " (en)")
	b.shot(name + "-en")
	b.click("Nederlands")
	b.waitJS(name+" in Dutch again", langIs("nl")+` && location.pathname === `+jsString(path))
	b.waitJS(name+" in Dutch loaded", `document.readyState === 'complete' && !!document.querySelector('main h1')`)
}

func jsString(s string) string { return fmt.Sprintf("%q", s) }

// TestA11yBothLanguages: every page that the phone-first work made or
// changed has no axe-core violation (WCAG 2.1 A and AA, minor ones
// included) in Dutch and in English, on a 360 px phone: choosing the first
// admin, the dev outbox, the login and forgotten-password pages, the offline
// page, every step of the first visit (the SMS step with the typed number
// among them), the inbox with the header's menu open, a conversation with
// a message's menu open, the reply form and Mijn account with its
// notifications section. (TestPhoneLayout scans the inbox and the
// conversation at 320 px and zoomed as well.)
func TestA11yBothLanguages(t *testing.T) {
	t.Run("signed out", func(t *testing.T) {
		s := launchServer(t, nil)
		s.ManualSetup = true
		s.waitReady(t)
		b := &browser{t: t, ctx: newBrowser(t, 360, 740), name: "out-"}
		b.run(chromedp.Navigate(s.SetupLink))
		b.step("choose admin", "Mailadres van de beheerder")
		b.bothLanguages("choose admin")
		b.fill("Mailadres van de beheerder", "ik@mijnbedrijf.example")
		b.click("VERDER")
		b.waitJS("the sign-up page", `location.pathname.startsWith('/aanmelden/')`)
		b.step("invitation", "")
		b.bothLanguages("invitation")
		for _, path := range []string{"/dev/outbox", "/inloggen", "/wachtwoord-vergeten", "/offline"} {
			name := strings.TrimPrefix(path, "/") // a screenshot's name has no slash
			name = strings.ReplaceAll(name, "/", "-")
			b.run(chromedp.Navigate(s.BaseURL + path))
			b.step(name, "")
			if path == "/offline" {
				// The offline page has no switch (it is the same for
				// everyone); the cookie chooses its language.
				b.strictA11y(name + " (nl)")
				b.run(chromedp.Navigate(s.BaseURL + "/inloggen"))
				b.click("English")
				b.waitJS("English", langIs("en"))
				b.run(chromedp.Navigate(s.BaseURL + path))
				b.waitJS("English offline page", langIs("en")+` && !!document.querySelector('main h1')`)
				b.strictA11y(name + " (en)")
				continue
			}
			b.bothLanguages(name)
		}
	})

	t.Run("first visit and signed in", func(t *testing.T) {
		s, smtpSrv, gw := startMailServer(t)
		hr := caseManager(t, s, gw)
		hr.click("Nieuw bericht")
		hr.step("compose", "Onderwerp")
		hr.fill("Aan", "taal@example.nl")
		hr.fill("Onderwerp", "In twee talen")
		hr.fill("Bericht", "Is alles te lezen?")
		hr.click("VERZEND")
		hr.waitJS("thread page", `/^\/berichten\/\d+$/.test(location.pathname)`)

		link := s.Invite(t, "taal@example.nl")
		smtpSrv.WaitMail(t, "taal@example.nl", 0, 20*time.Second)
		b := &browser{t: t, ctx: newBrowser(t, 360, 740), name: "in-"}
		b.run(chromedp.Navigate(link))
		b.step("invitation", "")
		b.click("AANMELDEN")
		b.step("terms", "Ik ga akkoord met de gebruikersvoorwaarden")
		b.bothLanguages("terms")
		b.check("Ik ga akkoord met de gebruikersvoorwaarden")
		b.click("INLOGGEN")
		b.step("password", "Herhaal wachtwoord")
		b.bothLanguages("password")
		b.fill("Wachtwoord", password)
		b.fill("Herhaal wachtwoord", password)
		b.submit()
		b.step("sms", "Mobiel telefoonnummer")
		b.bothLanguages("sms")
		b.fill("Mobiel telefoonnummer", "0612345670")
		b.submit()
		text := gw.WaitText(t, "+31612345670", 0, 20*time.Second)
		b.step("sms-code", "Bevestigingscode")
		if !strings.Contains(b.text(""), "06 12 34 56 70") {
			t.Fatalf("the SMS step does not show the typed number:\n%s", b.text(""))
		}
		b.strictA11y("sms-code (nl)")
		b.click("Telefoonnummer wijzigen")
		b.step("sms-change", "Mobiel telefoonnummer")
		b.bothLanguages("sms-change")
		b.fill("Mobiel telefoonnummer", evalJS[string](b, control("Mobiel telefoonnummer")+`.value`)) // the prefilled number
		b.submit()
		text = gw.WaitText(t, "+31612345670", 1, 20*time.Second)
		b.step("sms-code-2", "Bevestigingscode")
		b.bothLanguages("sms-code")
		b.fill("Bevestigingscode", sixDigit.FindString(text.Body))
		b.submit()
		b.step("app-offered", "Token")
		b.bothLanguages("app-offered")
		b.click("Overslaan")
		b.step("recovery", "Ik heb mijn herstelcodes veilig bewaard")
		b.bothLanguages("recovery")
		b.check("Ik heb mijn herstelcodes veilig bewaard")
		b.submit()
		b.step("profile", "Voorletters")
		b.bothLanguages("profile")
		b.fill("Voorletters", "T.")
		b.fill("Voornaam", "Tess")
		b.fill("Achternaam", "Taal")
		b.click("OPSLAAN")
		b.waitPath("/berichten")
		b.step("inbox", "")

		// Signed in: the switch changes the account's language; each page
		// in both, menus open where it has them.
		b.bothLanguages("inbox")
		b.openMenu("header .menu")
		b.bothLanguages("inbox, menu open")
		b.closeMenus()
		b.click("In twee talen")
		b.waitJS("thread", `/^\/berichten\/\d+$/.test(location.pathname) && !!document.querySelector('main .message')`)
		b.bothLanguages("conversation")
		b.openMenu("main .message .menu")
		b.strictA11y("conversation, message menu open (nl)")
		b.closeMenus()
		b.click("REAGEER")
		b.step("reply", "Bericht")
		b.bothLanguages("reply")
		b.run(chromedp.Navigate(s.BaseURL + "/account"))
		b.step("account", "")
		b.waitJS("the notifications section ready", `!!document.querySelector('#push-settings[data-push-ready]') && document.querySelector('#push-settings .push-status').innerText.trim() !== ''`)
		b.bothLanguages("account")
	})
}
