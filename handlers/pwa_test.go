package handlers

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"dialoog/static"
)

// TestOfflinePageInTheLanguageAsked: the service worker keeps the offline
// page of each language (see
// TestServiceWorkerKeepsTheOfflinePageOfEachLanguage); /offline?lang=
// answers in that language whatever the cookie or the browser says, and
// without it in the request's language.
func TestOfflinePageInTheLanguageAsked(t *testing.T) {
	ta := newTestApp(t)
	b := ta.browser(t)
	for _, tc := range []struct{ target, accept, lang, h1 string }{
		{"/offline?lang=en", "nl", "en", "No connection"},
		{"/offline?lang=nl", "en", "nl", "Geen verbinding"},
		{"/offline", "en", "en", "No connection"},
		{"/offline?lang=de", "nl", "nl", "Geen verbinding"},
	} {
		resp, page := b.get(tc.target, "Accept-Language", tc.accept)
		wantStatus(t, resp, http.StatusOK)
		wantContains(t, page, `<html lang="`+tc.lang+`">`, "<h1>"+tc.h1+"</h1>", `name="csrf-token" content=""`)
	}
}

// TestServiceWorkerKeepsTheOfflinePageOfEachLanguage: the worker has one
// address (a change of language replaces no worker), keeps the offline
// page of each language, fetched without cookies, and shows the one of
// the language of the last page that came from the network
// (Content-Language, which every page carries). The browser test
// TestServiceWorkerCachesNoMessages shows it without the server.
func TestServiceWorkerKeepsTheOfflinePageOfEachLanguage(t *testing.T) {
	app, err := static.FS.ReadFile("js/app.js")
	if err != nil {
		t.Fatal(err)
	}
	sw, err := static.FS.ReadFile("pwa/sw.js")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(app), "navigator.serviceWorker.register("); n == 0 || n != strings.Count(string(app), "navigator.serviceWorker.register('/sw.js', { scope: '/' })") {
		t.Errorf("app.js registers the service worker at another address (%d registrations)", n)
	}
	wantContains(t, string(sw), `var LANGS = ['nl', 'en'];`, `fetch(offlineURL(lang), { credentials: 'omit' })`,
		`res.headers.get('Content-Language')`, `fetch(req).then(remember).catch(offlinePage)`)
	ta := newTestApp(t)
	b := ta.browser(t)
	for _, lang := range []string{"nl", "en"} {
		resp, _ := b.get("/inloggen", "Accept-Language", lang)
		if got := resp.Header.Get("Content-Language"); got != lang {
			t.Errorf("a page in %s says Content-Language %q", lang, got)
		}
	}
}

// TestManifestInThePersonsLanguage: the layout links the manifest of the
// page's language; the manifest's name, description and lang are of that
// language, and without ?lang= of the request's.
func TestManifestInThePersonsLanguage(t *testing.T) {
	ta := newTestApp(t)
	b := ta.browser(t)
	_, page := b.get("/inloggen", "Accept-Language", "en")
	wantContains(t, page, `<link rel="manifest" href="/manifest.webmanifest?lang=en">`)
	_, page = b.get("/inloggen", "Accept-Language", "nl")
	wantContains(t, page, `<link rel="manifest" href="/manifest.webmanifest?lang=nl">`)

	etags := map[string]bool{}
	for _, tc := range []struct{ target, accept, lang, description string }{
		{"/manifest.webmanifest?lang=en", "nl", "en", "Secure messaging"},
		{"/manifest.webmanifest?lang=nl", "en", "nl", "Beveiligd berichten uitwisselen"},
		{"/manifest.webmanifest", "en", "en", "Secure messaging"},
		{"/manifest.webmanifest", "", "nl", "Beveiligd berichten uitwisselen"},
	} {
		resp, body := b.get(tc.target, "Accept-Language", tc.accept)
		wantStatus(t, resp, http.StatusOK)
		if ct := resp.Header.Get("Content-Type"); ct != "application/manifest+json" {
			t.Errorf("%s: Content-Type %q", tc.target, ct)
		}
		wantContains(t, body, `"start_url": "/berichten"`)
		var m struct {
			Name, Description, Lang string
			ShortName               string `json:"short_name"`
			Icons                   []any
		}
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatalf("%s: %v", tc.target, err)
		}
		if m.Lang != tc.lang || m.Description != tc.description || m.Name != "Dialoog" || m.ShortName != "Dialoog" || len(m.Icons) != 3 {
			t.Errorf("%s (Accept-Language %q): %+v", tc.target, tc.accept, m)
		}
		etags[tc.lang+resp.Header.Get("ETag")] = true
		if resp.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("%s: Cache-Control %q", tc.target, resp.Header.Get("Cache-Control"))
		}
	}
	if len(etags) != 2 {
		t.Errorf("ETags per language: %v", etags)
	}
}
