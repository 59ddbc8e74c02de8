// Package components renders Dialoog's HTML with templ: the layout, every page
// in a full and a partial (content only, for HTMX swaps) variant, and mail
// bodies. Components take plain view-model structs and return markup; they
// must not do I/O, read the clock or know about HTTP, so that a page, a
// WebSocket push and a mail render the very same markup from the same data.
package components

import (
	"context"
	"encoding/json"
	"html"
	"io"
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
	// Passkeys is set when the server offers passkeys (WebAuthn).
	Passkeys bool
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
	// Back is the page's own path, where the footer's language switch
	// returns to.
	Back string
	// Offline marks the page the service worker keeps: without a session
	// or CSRF token, it has no language switch (a post could not succeed).
	Offline bool
	// Brand, when set, is the house style of the organisation the page
	// belongs to (an invitation of it): its stylesheet and logo.
	Brand *Brand
	// SessionIdle is, for a signed-in page, the seconds of inactivity
	// after which its session ends, as text ("1800"); the page's script
	// warns before then.
	SessionIdle string
	// SessionEnds is, for a signed-in page, the seconds until its session's
	// absolute end (12 hours after the login), which no activity moves.
	SessionEnds string
}

// Brand is an organisation's house style on a page. StyleURL and LogoURL
// are the app's own content-hashed addresses, "" when there is none.
type Brand struct {
	Name     string
	StyleURL string
	LogoURL  string
}

// languageOptions are the languages of the footer's switch, each named in
// itself.
var languageOptions = []struct{ lang, name string }{{"nl", "Nederlands"}, {"en", "English"}}

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

// htmxConfigMeta is <meta name="htmx-config" content={ htmxConfig }/>,
// escaped once instead of on every page (templ escapes an attribute
// expression each time it renders it, and this JSON is full of quotes).
type htmxConfigMeta struct{}

var htmxConfigMetaHTML = `<meta name="htmx-config" content="` + html.EscapeString(htmxConfig) + `">`

// Render implements templ.Component.
func (htmxConfigMeta) Render(_ context.Context, w io.Writer) error {
	_, err := io.WriteString(w, htmxConfigMetaHTML)
	return err
}

// csrfHeaders returns the JSON for the body's hx-headers attribute. JSON, not
// "js:" syntax, so htmx never evaluates it. Every page has it: a token of
// the characters sessions make (URL-safe base64) is written as it is,
// anything else goes through encoding/json.
func csrfHeaders(token string) string {
	if plainJSON(token) {
		return `{"X-Csrf-Token":"` + token + `"}`
	}
	b, err := json.Marshal(map[string]string{"X-Csrf-Token": token})
	if err != nil { // cannot happen for a map of strings
		return "{}"
	}
	return string(b)
}

// plainJSON reports whether s is written into a JSON string as it is:
// letters, digits and -_.~+/= only.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~+/=", c) >= 0) {
			return false
		}
	}
	return true
}

// text is a string written HTML-escaped, exactly as templ writes { s }:
// @text(s) in a template. Templ's { s } costs two allocations and a
// fmt.Sprint per expression; text costs none, which counts in the layout
// and the inbox, rendered for every page and every push.
type text string

// Render implements templ.Component.
func (s text) Render(_ context.Context, w io.Writer) error {
	if sw, ok := w.(io.StringWriter); ok {
		return writeEscaped(sw, string(s))
	}
	_, err := io.WriteString(w, html.EscapeString(string(s)))
	return err
}

// htmlEntity holds what html.EscapeString (which templ uses) writes for
// each byte that it escapes.
var htmlEntity = [256]string{'&': "&amp;", '\'': "&#39;", '<': "&lt;", '>': "&gt;", '"': "&#34;"}

// writeEscaped writes s as html.EscapeString(s) without building the
// escaped string.
func writeEscaped(w io.StringWriter, s string) error {
	last := 0
	for i := 0; i < len(s); i++ {
		if esc := htmlEntity[s[i]]; esc != "" {
			if _, err := w.WriteString(s[last:i]); err != nil {
				return err
			}
			if _, err := w.WriteString(esc); err != nil {
				return err
			}
			last = i + 1
		}
	}
	_, err := w.WriteString(s[last:])
	return err
}

// errorID is the id of the message element that belongs to the field id.
func errorID(id string) string { return id + "-error" }

// oneLine collapses whitespace, including line breaks, into single spaces.
// Subjects and other header-like text go through it so that a name with a
// line break cannot add a mail header or break a title.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
