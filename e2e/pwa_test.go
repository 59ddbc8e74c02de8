package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestServiceWorkerCachesNoMessages: a signed-in user's browser registers the
// service worker; after the inbox and a conversation were loaded through it,
// Cache Storage holds only the offline pages (one per language), their
// stylesheet and the language to show, never a /berichten response, and
// the cached offline pages carry neither the user's name nor a CSRF token.
// The offline page passes the scan in both languages; with the server
// gone, each browser shows it in the language its person last read in.
func TestServiceWorkerCachesNoMessages(t *testing.T) {
	s, _, gw := startMailServer(t)
	hr := caseManager(t, s, gw)

	hr.run(chromedp.Navigate(s.BaseURL + "/berichten"))
	hr.waitPath("/berichten")
	hr.waitJS("the service worker controls the page",
		`(navigator.serviceWorker.ready.then(() => { window.__swReady = true; }), !!window.__swReady)`)
	// The first load happened before the worker took control; this one goes
	// through it.
	hr.run(chromedp.Navigate(s.BaseURL + "/berichten"))
	hr.waitJS("the inbox through the service worker", `!!navigator.serviceWorker.controller && !!document.querySelector('main h1')`)
	if got := evalJS[string](hr, `document.querySelector('main h1').textContent`); !strings.Contains(got, "Berichten") {
		t.Fatalf("inbox h1 = %q", got)
	}
	hr.run(chromedp.Navigate(s.BaseURL + "/berichten/nieuw"))
	hr.waitJS("compose page through the service worker", `!!navigator.serviceWorker.controller && !!document.querySelector('main h1')`)

	// The worker has noted the language of the pages it passed on.
	hr.waitJS("the worker remembers Dutch", rememberedLanguage("nl"))
	// Every URL in every cache, and the cached offline pages' text.
	hr.eval(`(window.__cached = null, (async () => {
  const urls = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const req of await cache.keys()) { const u = new URL(req.url); urls.push(u.pathname + u.search); }
  }
  const pages = [];
  for (const lang of ['nl', 'en']) {
    const offline = await caches.match('/offline?lang=' + lang);
    pages.push(offline ? await offline.text() : '');
  }
  window.__offline = pages;
  window.__cached = urls.sort().join(' ');
})(), true)`)
	hr.waitJS("the cache listing", `window.__cached !== null`)
	cached := evalJS[string](hr, `window.__cached`)
	if cached != "/offline-language /offline?lang=en /offline?lang=nl /static/css/app.css" {
		t.Fatalf("Cache Storage holds %q, want only the offline pages, their stylesheet and the language to show", cached)
	}
	if strings.Contains(cached, "/berichten") {
		t.Fatalf("a /berichten response was cached: %q", cached)
	}
	offline := evalJS[[]string](hr, `window.__offline`)
	for i, want := range []string{"Geen verbinding", "No connection"} {
		page := offline[i]
		if !strings.Contains(page, want) {
			t.Fatalf("cached offline page: %q", clipText(page, 400))
		}
		for _, personal := range []string{"Hanna", "Vries"} {
			if strings.Contains(page, personal) {
				t.Fatalf("cached offline page carries the user's name %q", personal)
			}
		}
		if !strings.Contains(page, `name="csrf-token" content=""`) {
			t.Fatal("cached offline page carries a CSRF token")
		}
	}

	// The manifest is served from the root with its own type.
	resp, body := httpGet(t, s.BaseURL+"/manifest.webmanifest")
	if ct := resp.Header.Get("Content-Type"); ct != "application/manifest+json" || !strings.Contains(body, `"start_url": "/berichten"`) {
		t.Fatalf("manifest: %s %q", ct, clipText(body, 200))
	}

	// The offline page itself, in both languages (the language chosen on a
	// signed-out page).
	hr.run(chromedp.Navigate(s.BaseURL + "/offline"))
	hr.step("offline-nl", "")
	if n := hr.count("form.language-switch"); n != 0 {
		t.Fatalf("the offline page has %d language switch forms", n)
	}
	en := &browser{t: t, ctx: newBrowser(t, 360, 740), name: "en-"}
	en.run(chromedp.Navigate(s.BaseURL + "/inloggen"))
	en.click("English")
	en.waitJS("the English page", langIs("en"))
	en.run(chromedp.Navigate(s.BaseURL + "/offline"))
	en.step("offline-en", "")
	if h := en.text("h1"); h != "No connection" {
		t.Fatalf("English offline h1 = %q", h)
	}

	// Without the server, each browser's worker shows the offline page of
	// the language its person last read Dialoog in.
	en.run(chromedp.Navigate(s.BaseURL + "/inloggen"))
	en.waitJS("the English browser's worker is active",
		`(navigator.serviceWorker.ready.then(() => { window.__swReady = true; }), !!window.__swReady)`)
	en.run(chromedp.Navigate(s.BaseURL + "/inloggen")) // through the worker
	en.waitJS("the worker remembers English", rememberedLanguage("en"))
	hr.run(chromedp.Navigate(s.BaseURL + "/berichten"))
	hr.waitJS("the worker remembers Dutch", rememberedLanguage("nl"))
	s.stop(t)
	for _, b := range []struct {
		b  *browser
		h1 string
	}{{hr, "Geen verbinding"}, {en, "No connection"}} {
		b.b.run(chromedp.Navigate(s.BaseURL + "/berichten"))
		b.b.waitJS("the offline page "+b.h1, fmt.Sprintf(`(() => { const h = document.querySelector('main h1'); return !!h && h.textContent === %q; })()`, b.h1))
	}
}

// rememberedLanguage is a condition: the service worker has noted lang as
// the language of the offline page to show.
func rememberedLanguage(lang string) string {
	return fmt.Sprintf(`(caches.match('/offline-language').then(r => r ? r.text() : '').then(l => { window.__offlineLang = l; }), window.__offlineLang === %q)`, lang)
}
