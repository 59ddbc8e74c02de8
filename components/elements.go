package components

import (
	"context"
	"html"
	"io"
	"strings"

	"dialoog/i18n"
)

// The elements below are on every page and change only in attribute
// values: through templ each cost a closure, a context and an interface
// per attribute on every render (about 30 of a page's allocations). They
// are written here instead, as concrete types with a Render method, which
// the generated code calls directly: constant markup as it is, every
// value HTML-escaped as templ escapes an attribute value
// (templ.EscapeString, that is html.EscapeString). The templ markup each
// replaces stays in elements_ref.templ, and TestElementsMatchTempl
// compares both byte for byte on hostile values in every language: a
// change to the markup goes into both.

// valueElement is markup with one attribute value: open, then value
// HTML-escaped, then close.
type valueElement struct{ open, value, close string }

// Render implements templ.Component.
func (e valueElement) Render(_ context.Context, w io.Writer) error {
	sw, ok := w.(io.StringWriter)
	if !ok {
		_, err := io.WriteString(w, e.open+html.EscapeString(e.value)+e.close)
		return err
	}
	if _, err := sw.WriteString(e.open); err != nil {
		return err
	}
	if err := writeEscaped(sw, e.value); err != nil {
		return err
	}
	_, err := sw.WriteString(e.close)
	return err
}

// csrfField is the hidden token every form posts back (csrfFieldRef).
func csrfField(m Meta) valueElement {
	return valueElement{`<input type="hidden" name="_csrf" value="`, m.CSRF, `">`}
}

// csrfMeta is the layout's <meta name="csrf-token">, where app.js finds the
// token (csrfMetaRef).
func csrfMeta(m Meta) valueElement {
	return valueElement{`<meta name="csrf-token" content="`, m.CSRF, `">`}
}

// markup is HTML made once at start from constant markup and escaped
// values, written as it is.
type markup string

// Render implements templ.Component.
func (s markup) Render(_ context.Context, w io.Writer) error {
	_, err := io.WriteString(w, string(s))
	return err
}

// languageMarkup is what the layout writes the same on every page of a
// language, made once per language at start.
type languageMarkup struct {
	// manifest is the <link rel="manifest"> (manifestLinkRef).
	manifest markup
	// brand is the header's link home with the product name
	// (brandLinkRef), and the space templ wrote after it.
	brand markup
	// switchOpen and switchOptions are the language switch around its
	// hidden fields: the <form> tag, and the languages with </form>.
	switchOpen, switchOptions string
}

var languageMarkups = func() map[string]languageMarkup {
	out := make(map[string]languageMarkup, len(i18n.Languages))
	for _, lang := range i18n.Languages {
		out[lang] = makeLanguageMarkup(i18n.For(lang))
	}
	return out
}()

// forLanguage returns the markup of l's language.
func forLanguage(l i18n.Localizer) languageMarkup {
	if lm, ok := languageMarkups[l.Lang()]; ok {
		return lm
	}
	return makeLanguageMarkup(l) // not reached: l is one of i18n.Languages
}

func makeLanguageMarkup(l i18n.Localizer) languageMarkup {
	e := html.EscapeString
	lang := l.Lang()
	var options strings.Builder
	for _, o := range languageOptions {
		if o.lang == lang {
			options.WriteString(`<span class="language-switch__current" lang="` + e(o.lang) + `" aria-current="true">` + e(o.name) + `</span>`)
		} else {
			options.WriteString(`<button class="language-switch__option" type="submit" name="taal" value="` + e(o.lang) +
				`" lang="` + e(o.lang) + `">` + e(o.name) + `</button>`)
		}
	}
	options.WriteString(`</form>`)
	return languageMarkup{
		// templ.URL keeps a relative address as it is.
		manifest:      markup(`<link rel="manifest" href="` + e("/manifest.webmanifest?lang="+lang) + `">`),
		brand:         markup(`<a class="brand" href="/" aria-label="` + e(l.T("layout.home")) + `">` + e(l.T("layout.product")) + `</a> `),
		switchOpen:    `<form class="language-switch" method="post" action="/taal" aria-label="` + e(l.T("layout.language")) + `">`,
		switchOptions: options.String(),
	}
}

// manifestLink is the layout's link to the web app manifest, whose address
// names the page's language (manifestLinkRef).
func manifestLink(m Meta) markup { return forLanguage(m.L).manifest }

// brandLink is the header's link home, named by the product name
// (brandLinkRef).
func brandLink(m Meta) markup { return forLanguage(m.L).brand }

// languageSwitch is the footer's choice of language, on every page: a plain
// form (no script needed) that posts to /taal and comes back to this page
// (app.js updates the way back after htmx moved to another page). Each
// language is named in itself; the current one is not a button
// (languageSwitchRef).
func languageSwitch(m Meta) languageSwitchForm {
	return languageSwitchForm{lm: forLanguage(m.L), csrf: csrfField(m), back: m.Back}
}

type languageSwitchForm struct {
	lm   languageMarkup
	csrf valueElement
	back string
}

// Render implements templ.Component.
func (f languageSwitchForm) Render(ctx context.Context, w io.Writer) error {
	if _, err := io.WriteString(w, f.lm.switchOpen); err != nil {
		return err
	}
	if err := f.csrf.Render(ctx, w); err != nil {
		return err
	}
	if err := (valueElement{`<input type="hidden" name="terug" value="`, f.back, `"> `}).Render(ctx, w); err != nil {
		return err
	}
	_, err := io.WriteString(w, f.lm.switchOptions)
	return err
}

// inboxLink is the header's link to "Berichten" with the number of unread
// messages, "Berichten (3)". Its id lets a live update (oob) replace its
// text; only the text, so that the link keeps the focus of whoever is on
// it (a live swap does not give it back) (inboxLinkRef).
func inboxLink(m Meta, oob bool) inboxLinkElement {
	return inboxLinkElement{l: m.L, unread: m.Unread, oob: oob}
}

type inboxLinkElement struct {
	l      i18n.Localizer
	unread int
	oob    bool
}

// Render implements templ.Component.
func (a inboxLinkElement) Render(_ context.Context, w io.Writer) error {
	scratch := rowScratch.Get().(*[]byte)
	defer rowScratch.Put(scratch)
	b := append((*scratch)[:0], `<a id="inbox-link" class="account__inbox" href="/berichten"`...)
	if a.oob {
		b = append(b, ` hx-swap-oob="innerHTML"`...)
	}
	b = append(b, '>')
	start := len(b)
	if a.unread > 0 {
		b = a.l.AppendT(b, "nav.inbox_unread", "N", a.unread)
	} else {
		b = a.l.AppendT(b, "nav.inbox")
	}
	b = append(escapeTail(b, start), `</a>`...)
	*scratch = b
	_, err := w.Write(b)
	return err
}

// pageTitle is the document's title with the product name appended, so
// browser tabs and history entries say where the page belongs; written
// escaped as @text would, without building the string.
type pageTitle string

// Render implements templ.Component.
func (t pageTitle) Render(ctx context.Context, w io.Writer) error {
	if t == "" || t == "Dialoog" {
		_, err := io.WriteString(w, "Dialoog")
		return err
	}
	if err := text(t).Render(ctx, w); err != nil {
		return err
	}
	_, err := io.WriteString(w, " – Dialoog")
	return err
}

// InboxUnread is "Je hebt 3 ongelezen berichten." above the list; hidden,
// but present for live updates, when there are none (inboxUnreadRef).
func InboxUnread(m Meta, n int, oob bool) inboxUnread {
	return inboxUnread{l: m.L, n: n, oob: oob}
}

type inboxUnread struct {
	l   i18n.Localizer
	n   int
	oob bool
}

// Render implements templ.Component.
func (p inboxUnread) Render(_ context.Context, w io.Writer) error {
	scratch := rowScratch.Get().(*[]byte)
	defer rowScratch.Put(scratch)
	b := append((*scratch)[:0], `<p id="inbox-unread" class="inbox-unread"`...)
	if p.n <= 0 {
		b = append(b, ` hidden`...)
	}
	if p.oob {
		b = append(b, ` hx-swap-oob="true"`...)
	}
	b = append(b, '>')
	start := len(b)
	if p.n > 0 {
		b = appendUnreadTotal(b, p.l, p.n)
	}
	b = append(escapeTail(b, start), `</p>`...)
	*scratch = b
	_, err := w.Write(b)
	return err
}
