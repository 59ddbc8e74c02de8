package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestLanguageSwitch: on a signed-out page of a Dutch browser, the footer's
// "English" turns the page English and stays on it; the choice is kept
// for the next page, in both layouts, and the pages pass the scan in both
// languages.
func TestLanguageSwitch(t *testing.T) {
	s := startServer(t, nil)
	for _, vp := range []struct {
		name          string
		width, height int
	}{
		{"desktop", 1280, 800},
		{"phone", 360, 740},
	} {
		t.Run(vp.name, func(t *testing.T) {
			b := &browser{t: t, ctx: newBrowser(t, vp.width, vp.height)}
			b.run(chromedp.Navigate(s.BaseURL + "/inloggen"))
			b.step("dutch", "E-mailadres")
			if h := b.text("h1"); h != "Inloggen" || !b.eval(langIs("nl")) {
				t.Fatalf("before the switch: h1 %q, lang %q", h, evalJS[string](b, `document.documentElement.lang`))
			}
			b.click("English")
			b.waitJS("the English page", langIs("en"))
			b.waitPath("/inloggen")
			b.step("english", "Email address")
			if h := b.text("h1"); h != "Log in" {
				t.Fatalf("after the switch: h1 %q", h)
			}
			// The next page keeps it.
			b.run(chromedp.Navigate(s.BaseURL + "/wachtwoord-vergeten"))
			b.step("next page", "")
			if !b.eval(langIs("en")) {
				t.Fatal("the next page is not English")
			}
			b.click("Nederlands")
			b.waitJS("the Dutch page", langIs("nl"))
			b.waitPath("/wachtwoord-vergeten")
		})
	}
}

// langIs is JS that tells whether the page's language is lang; false while
// the next page has no document element yet.
func langIs(lang string) string {
	return `!!document.documentElement && document.documentElement.lang === '` + lang + `'`
}
