package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestServiceWorkerCachesNoMessages: a signed-in user's browser registers the
// service worker; after the inbox and a conversation were loaded through it,
// Cache Storage holds only the offline page and its stylesheet, never a
// /berichten response, and the cached offline page carries neither the
// user's name nor a CSRF token. The offline page passes the scan in both
// languages.
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

	// Every URL in every cache, and the cached offline page's text.
	hr.eval(`(window.__cached = null, (async () => {
  const urls = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const req of await cache.keys()) urls.push(new URL(req.url).pathname);
  }
  const offline = await caches.match('/offline');
  window.__offline = offline ? await offline.text() : '';
  window.__cached = urls.sort().join(' ');
})(), true)`)
	hr.waitJS("the cache listing", `window.__cached !== null`)
	cached := evalJS[string](hr, `window.__cached`)
	if cached != "/offline /static/css/app.css" {
		t.Fatalf("Cache Storage holds %q, want only the offline page and its stylesheet", cached)
	}
	if strings.Contains(cached, "/berichten") {
		t.Fatalf("a /berichten response was cached: %q", cached)
	}
	offline := evalJS[string](hr, `window.__offline`)
	if !strings.Contains(offline, "Geen verbinding") {
		t.Fatalf("cached offline page: %q", clipText(offline, 400))
	}
	for _, personal := range []string{"Hanna", "Vries"} {
		if strings.Contains(offline, personal) {
			t.Fatalf("cached offline page carries the user's name %q", personal)
		}
	}
	if !strings.Contains(offline, `name="csrf-token" content=""`) {
		t.Fatal("cached offline page carries a CSRF token")
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
}
