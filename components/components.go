// Package components renders Dialoog's HTML with templ: the layout, every page
// in a full and a partial (content only, for HTMX swaps) variant, and mail
// bodies. Components take plain view-model structs and return markup; they
// must not do I/O, read the clock or know about HTTP, so that a page, a
// WebSocket push and a mail render the very same markup from the same data.
package components

import (
	"encoding/json"
	"strings"
	"time"

	"dialoog/i18n"
)

// Meta is what every page needs besides its own data.
type Meta struct {
	// L translates into the request's language.
	L i18n.Localizer
	// CSRF is the token every form posts back as _csrf and every htmx
	// request sends as X-Csrf-Token.
	CSRF string
	// SignedIn is set when the request carries a live session; the header
	// then offers "Uitloggen".
	SignedIn bool
	// UserName is the signed-in user's display name, set once the session
	// has passed the second factor.
	UserName string
	// Inbox is set for a user who finished the first visit: the header then
	// links to "Berichten", with Unread, the number of unread messages.
	Inbox  bool
	Unread int
	// Now is the request's time, against which dates are written ("14:05"
	// today, "23 februari" before). Components never read the clock.
	Now time.Time
}

// T translates key; see i18n.Localizer.T.
func (m Meta) T(key string, args ...any) string { return m.L.T(key, args...) }

// Lang returns the page language for the lang attribute.
func (m Meta) Lang() string { return m.L.Lang() }

// htmxConfig is read by htmx from <meta name="htmx-config">, which keeps the
// configuration out of inline script:
//   - includeIndicatorStyles off: htmx would inject a <style> element, which
//     the CSP (style-src 'self') blocks;
//   - allowEval off: nothing may evaluate strings as code;
//   - historyCacheSize 0: pages hold personal data and must not be copied
//     into sessionStorage; going back reloads the page from the server;
//   - responseHandling swaps every status except 204, so a 422 form with its
//     messages or a 404 explanation replaces the content like a normal page.
const htmxConfig = `{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,` +
	`"historyCacheSize":0,"refreshOnHistoryMiss":true,"selfRequestsOnly":true,` +
	`"responseHandling":[{"code":"204","swap":false},{"code":"...","swap":true}]}`

// csrfHeaders returns the JSON for the body's hx-headers attribute. JSON, not
// "js:" syntax, so htmx never evaluates it.
func csrfHeaders(token string) string {
	b, err := json.Marshal(map[string]string{"X-Csrf-Token": token})
	if err != nil { // cannot happen for a map of strings
		return "{}"
	}
	return string(b)
}

// pageTitle appends the product name, so browser tabs and history entries say
// where the page belongs.
func pageTitle(title string) string {
	if title == "" || title == "Dialoog" {
		return "Dialoog"
	}
	return title + " – Dialoog"
}

// errorID is the id of the message element that belongs to the field id.
func errorID(id string) string { return id + "-error" }

// oneLine collapses whitespace, including line breaks, into single spaces.
// Subjects and other header-like text go through it so that a name with a
// line break cannot add a mail header or break a title.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
